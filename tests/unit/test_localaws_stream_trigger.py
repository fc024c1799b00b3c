"""The AWS-faithful stream trigger policy of the local target, without a server."""

from __future__ import annotations

from localaws.compat import stream_trigger as st
from localaws.compat.ttl import expired


def entries(*sequences, start=10):
    return [(start + i, {"dynamodb": {"SequenceNumber": seq}}) for i, seq in enumerate(sequences)]


def test_a_successful_batch_advances_past_it():
    state = st.MappingState(limit=2, attempts=3)
    outcome = st.decide(state, entries("1", "2"), None, end_position=12, bisect=True, max_retries=2)
    assert outcome.advance_to == 12 and not outcome.retry
    assert (state.limit, state.attempts) == (None, 0)


def test_item_failures_checkpoint_before_the_lowest_failed_sequence():
    batch = entries("100", "200", "300")
    result = {"body": {"batchItemFailures": [{"itemIdentifier": "300"}, {"itemIdentifier": "200"}]}}
    assert st.failed_from(result, batch, report_item_failures=True) == 11
    assert st.failed_from(result, batch, report_item_failures=False) is None
    assert st.failed_from({"body": {"batchItemFailures": []}}, batch, True) is None


def test_an_unknown_or_empty_identifier_fails_the_whole_batch():
    batch = entries("100", "200")
    assert st.failed_from({"body": {"batchItemFailures": [{"itemIdentifier": "999"}]}}, batch, True) == 10
    assert st.failed_from({"body": {"batchItemFailures": [{"itemIdentifier": ""}]}}, batch, True) == 10
    assert st.failed_from({"error": True, "body": {}}, batch, True) == 10


def test_a_poison_record_is_isolated_by_bisection_then_sent_away_after_its_retries():
    state = st.MappingState()
    batch = entries("1", "2", "3", "4")
    # the function fails on the whole batch: bisect
    outcome = st.decide(state, batch, 10, end_position=14, bisect=True, max_retries=1)
    assert outcome.retry and state.limit == 2 and outcome.advance_to == 10
    outcome = st.decide(state, batch[:2], 10, end_position=12, bisect=True, max_retries=1)
    assert state.limit == 1
    # alone, the poison record fails its retries, then goes to the destination
    outcome = st.decide(state, batch[:1], 10, end_position=11, bisect=True, max_retries=1)
    assert outcome.retry and not outcome.finished
    outcome = st.decide(state, batch[:1], 10, end_position=11, bisect=True, max_retries=1)
    assert outcome.condition == "RetryAttemptsExhausted" and [p for p, _ in outcome.finished] == [10]
    assert outcome.advance_to == 11 and state.limit is None


def test_progress_before_a_failure_restarts_the_retry_count():
    state = st.MappingState(attempts=5)
    outcome = st.decide(state, entries("1", "2", "3"), 12, end_position=13, bisect=False, max_retries=3)
    assert state.attempts == 1 and outcome.advance_to == 12 and outcome.retry


def test_unlimited_retries_never_give_up():
    state = st.MappingState(attempts=10_000)
    assert st.decide(state, entries("1"), 10, end_position=11, bisect=False, max_retries=-1).retry


def ministack_like_match(record, pattern):
    """ministack's own rule for list leaves: exists/equality on the given key."""
    for key, leaves in pattern.items():
        ok = False
        for leaf in leaves:
            if isinstance(leaf, dict) and "exists" in leaf:
                ok = ok or (leaf["exists"] == (key in record))
            else:
                ok = ok or record.get(key) == leaf
        if not ok:
            return False
    return True


def test_exists_false_below_an_absent_parent_matches_as_on_aws():
    pattern = {"dynamodb": {"NewImage": {"_m": [{"exists": False}]}}}
    remove = {"dynamodb": {"OldImage": {"pk": {"S": "a"}}}}
    marked = {"dynamodb": {"NewImage": {"_m": {"S": "x"}}}}
    assert st.match_filter(ministack_like_match, remove, pattern)
    assert not st.match_filter(ministack_like_match, marked, pattern)
    assert not st.match_filter(ministack_like_match, remove, {"dynamodb": {"NewImage": {"_m": [{"exists": True}]}}})
    assert st.match_filter(ministack_like_match, {"eventName": "REMOVE"}, {"eventName": ["REMOVE", "MODIFY"]})


def test_ttl_expiry_reads_numeric_epoch_seconds():
    assert expired({"ttl": {"N": "100"}}, "ttl", now=100.0)
    assert not expired({"ttl": {"N": "101"}}, "ttl", now=100.0)
    assert not expired({"ttl": {"S": "100"}}, "ttl", now=100.0)
    assert not expired({}, "ttl", now=100.0)

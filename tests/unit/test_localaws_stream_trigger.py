"""The AWS-faithful stream trigger policy of the local target, without a server."""

from __future__ import annotations

from localaws.compat import stream_filter, stream_item_failures, stream_lanes, stream_metrics, stream_retries
from localaws.compat.ttl import expired


def entries(*sequences, start=10):
    return [(start + i, {"dynamodb": {"SequenceNumber": seq}}) for i, seq in enumerate(sequences)]


def test_a_successful_batch_advances_past_it():
    state = stream_retries.MappingState(limit=2, attempts=3)
    outcome = stream_retries.decide(state, entries("1", "2"), None, end_position=12, bisect=True, max_retries=2)
    assert outcome.advance_to == 12 and not outcome.retry
    assert (state.limit, state.attempts) == (None, 0)


def test_item_failures_checkpoint_before_the_lowest_failed_sequence():
    batch = entries("100", "200", "300")
    result = {"body": {"batchItemFailures": [{"itemIdentifier": "300"}, {"itemIdentifier": "200"}]}}
    assert stream_item_failures.failed_from(result, batch, report_item_failures=True) == 11
    assert stream_item_failures.failed_from(result, batch, report_item_failures=False) is None
    assert stream_item_failures.failed_from({"body": {"batchItemFailures": []}}, batch, True) is None


def test_an_unknown_or_empty_identifier_fails_the_whole_batch():
    batch = entries("100", "200")
    assert (
        stream_item_failures.failed_from({"body": {"batchItemFailures": [{"itemIdentifier": "999"}]}}, batch, True)
        == 10
    )
    assert (
        stream_item_failures.failed_from({"body": {"batchItemFailures": [{"itemIdentifier": ""}]}}, batch, True) == 10
    )
    assert stream_item_failures.failed_from({"error": True, "body": {}}, batch, True) == 10


def test_a_poison_record_is_isolated_by_bisection_then_sent_away_after_its_retries():
    state = stream_retries.MappingState()
    batch = entries("1", "2", "3", "4")
    # the function fails on the whole batch: bisect
    outcome = stream_retries.decide(state, batch, 10, end_position=14, bisect=True, max_retries=1)
    assert outcome.retry and state.limit == 2 and outcome.advance_to == 10
    outcome = stream_retries.decide(state, batch[:2], 10, end_position=12, bisect=True, max_retries=1)
    assert state.limit == 1
    # alone, the poison record fails its retries, then goes to the destination
    outcome = stream_retries.decide(state, batch[:1], 10, end_position=11, bisect=True, max_retries=1)
    assert outcome.retry and not outcome.finished
    outcome = stream_retries.decide(state, batch[:1], 10, end_position=11, bisect=True, max_retries=1)
    assert outcome.condition == "RetryAttemptsExhausted" and [p for p, _ in outcome.finished] == [10]
    assert outcome.advance_to == 11 and state.limit is None


def test_progress_before_a_failure_restarts_the_retry_count():
    state = stream_retries.MappingState(attempts=5)
    outcome = stream_retries.decide(state, entries("1", "2", "3"), 12, end_position=13, bisect=False, max_retries=3)
    assert state.attempts == 1 and outcome.advance_to == 12 and outcome.retry


def test_unlimited_retries_never_give_up():
    state = stream_retries.MappingState(attempts=10_000)
    assert stream_retries.decide(state, entries("1"), 10, end_position=11, bisect=False, max_retries=-1).retry


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
    assert stream_filter.match_filter(ministack_like_match, remove, pattern)
    assert not stream_filter.match_filter(ministack_like_match, marked, pattern)
    assert not stream_filter.match_filter(
        ministack_like_match, remove, {"dynamodb": {"NewImage": {"_m": [{"exists": True}]}}}
    )
    assert stream_filter.match_filter(
        ministack_like_match, {"eventName": "REMOVE"}, {"eventName": ["REMOVE", "MODIFY"]}
    )


def test_ttl_expiry_reads_numeric_epoch_seconds():
    assert expired({"ttl": {"N": "100"}}, "ttl", now=100.0)
    assert not expired({"ttl": {"N": "101"}}, "ttl", now=100.0)
    assert not expired({"ttl": {"S": "100"}}, "ttl", now=100.0)
    assert not expired({}, "ttl", now=100.0)


def record(pk: str, seq: str, created: float = 100.0) -> dict:
    return {"dynamodb": {"Keys": {"pk": {"S": pk}}, "SequenceNumber": seq, "ApproximateCreationDateTime": created}}


def test_parallel_lanes_keep_every_partition_key_on_one_lane_and_split_the_keys():
    keys = [f"k{i}" for i in range(200)]
    lanes = {k: stream_lanes.lane_of(record(k, "1"), "pk", 4) for k in keys}
    assert set(lanes.values()) == {0, 1, 2, 3}  # the keys spread over the lanes
    assert all(stream_lanes.lane_of(record(k, "9"), "pk", 4) == lane for k, lane in lanes.items())  # stable
    assert {stream_lanes.lane_of(record(k, "1"), "pk", 1) for k in keys} == {0}


def test_a_lane_takes_its_own_records_in_order_and_skips_the_others():
    raw = [record(pk, str(i)) for i, pk in enumerate(["a", "b", "a", "c", "a", "b"])]
    lane = stream_lanes.lane_of(raw[0], "pk", 3)
    mine = [i for i, r in enumerate(raw) if stream_lanes.lane_of(r, "pk", 3) == lane]
    batch, end = stream_lanes.lane_batch(raw, {id(r) for r in raw}, 50, lane, 3, "pk", limit=100)
    assert [p for p, _ in batch] == [50 + i for i in mine] and end == 56  # all of its records: past the window
    batch, end = stream_lanes.lane_batch(raw, {id(r) for r in raw}, 50, lane, 3, "pk", limit=1)
    assert [p for p, _ in batch] == [50 + mine[0]] and end == 50 + mine[0] + 1  # bisected: just after it
    filtered, _end = stream_lanes.lane_batch(raw, {id(raw[2])}, 50, lane, 3, "pk", limit=100)
    assert [p for p, _ in filtered] == ([52] if 2 in mine else [])


def test_lane_positions_are_kept_beside_the_mappings_own():
    assert stream_lanes.position_key("uuid", 0) == "uuid" and stream_lanes.position_key("uuid", 3) == "uuid#3"


def test_iterator_age_is_the_age_of_the_batchs_last_record():
    batch = [(0, record("a", "1", created=100.0)), (1, record("b", "2", created=104.0))]
    assert stream_metrics.iterator_age_ms(batch, now=105.5) == 1500.0

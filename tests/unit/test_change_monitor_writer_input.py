"""What a writer puts in an item, and when, never decides for the monitor.

- A marker attribute that does not parse is not the monitor's: the change is undone like
  any other, and the records behind it are not held up (issue: 40 such writes delayed 200
  unrelated deletes from 0.5 s to 307 s).
- A protected delete followed by a re-creation is decided from the sequence of records,
  never from whether the monitor's restore landed before the writer's put.
"""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from change_monitor import core, failures, marker
from change_monitor.config import Policy
from change_monitor.outcomes import Outcome
from change_monitor.writes import DynamoDbActions
from tests.fakes import STREAM_ARN, FakeAudit, FakeDynamoDb, StreamTable

ATTR = "_ddbguard_undo"
KEY = b"s" * 32
REMOVE_MODIFY = Policy(protected_events=frozenset({"REMOVE", "MODIFY"}), marker_key=KEY, table="orders")
REMOVE_ONLY = Policy(protected_events=frozenset({"REMOVE"}), marker_key=KEY, table="orders")
SIGNER = REMOVE_MODIFY.marker
POISONS = [
    "ddbguard-undo:v2:\u00b2:absent:" + "a" * 64,  # a superscript two is a digit to str.isdigit
    "ddbguard-undo:v2:" + "9" * 4301 + ":absent:" + "a" * 64,  # past Python's int conversion limit
    "ddbguard-undo:v2:1:absent:" + "a" * 63 + "\u00e9",  # not ASCII: hmac.compare_digest raises
    "ddbguard-undo:v2:1:" + "\u00e9" * 32 + ":" + "a" * 64,
    "ddbguard-delete:v2:\u0663:absent:" + "a" * 64,  # an Arabic-Indic three
]


def test_the_issues_poisoned_markers_are_not_the_monitors():
    for raw in POISONS:
        image = {"pk": {"S": "x"}, ATTR: {"S": raw}}
        for kind in (marker.UNDO, marker.DELETE):
            assert SIGNER.parse(image, kind) is None
            assert not SIGNER.is_echo(image, None, kind)
        assert SIGNER.undone_sequence(image) is None


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    value=st.one_of(
        st.text(),
        st.text().map(lambda t: "ddbguard-undo:v2:" + t),
        st.text().map(lambda t: "ddbguard-delete:v2:" + t),
        st.tuples(st.text(st.characters(categories=("Nd", "No"))), st.text(), st.text()).map(
            lambda t: "ddbguard-undo:v2:" + ":".join(t)
        ),
    ),
    shape=st.sampled_from(["S", "N", "L", "M", "NULL", "raw"]),
)
def test_no_marker_value_makes_the_parser_or_the_core_fail(value, shape):
    """Whatever a writer sets the marker attribute to, the core decides: a REMOVE of that
    item is restored, a MODIFY to it reverted (the writer controls every byte of it)."""
    attr = {
        "S": {"S": value},
        "N": {"N": value},
        "L": {"L": [{"S": value}]},
        "M": {"M": {"S": {"S": value}}},
        "NULL": {"NULL": True},
        "raw": value,
    }[shape]
    good = {"pk": {"S": "k"}, "v": {"S": "good"}}
    bad = {"pk": {"S": "k"}, "v": {"S": "bad"}, ATTR: attr}
    for kind in (marker.UNDO, marker.DELETE):
        assert SIGNER.parse(bad, kind) is None
    remove = _record("REMOVE", old=bad, seq="1")
    assert core.decide(remove, REMOVE_MODIFY).action == core.RESTORE_DELETED
    modify = _record("MODIFY", old=good, new=bad, seq="2")
    assert core.decide(modify, REMOVE_MODIFY).action == core.REVERT_MODIFIED


def _record(event, *, old=None, new=None, seq="1", pk="k"):
    ddb = {"Keys": {"pk": {"S": pk}}, "SequenceNumber": seq, "ApproximateCreationDateTime": 1}
    if old is not None:
        ddb["OldImage"] = copy.deepcopy(old)
    if new is not None:
        ddb["NewImage"] = copy.deepcopy(new)
    return {"eventID": f"e{seq}", "eventName": event, "dynamodb": ddb, "eventSourceARN": STREAM_ARN}


def _process(handler, records, table, policy, memory, audit=None):
    actions = DynamoDbActions(table, policy.marker)
    return handler.process({"Records": records}, actions, policy, memory=memory, audit=audit)


def test_poisoned_items_are_undone_and_the_records_behind_them_are_not_held_up(handler):
    """40 poisoned modifications, then 200 unrelated deletes, in one batch: nothing fails,
    every poisoned item is reverted and every deleted item is back."""
    table = StreamTable()
    for i in range(240):
        table.items[(repr({"S": f"k{i}"}),)] = {"pk": {"S": f"k{i}"}, "v": {"S": "good"}}
    for i in range(40):
        raw = POISONS[i % len(POISONS)]
        table.put_item(Item={"pk": {"S": f"k{i}"}, "v": {"S": "tampered"}, ATTR: {"S": raw}})
    for i in range(40, 240):
        table.delete_item(Key={"pk": {"S": f"k{i}"}})
    batch, table.stream[:] = list(table.stream), []
    result = _process(handler, batch, table, REMOVE_MODIFY, handler.Memory())
    assert result == {"batchItemFailures": []}
    final = {item["pk"]["S"]: SIGNER.strip(item)["v"]["S"] for item in table.items.values()}
    assert final == {f"k{i}": "good" for i in range(240)}


def test_a_failure_kept_for_a_poisoned_marker_replays_cleanly(handler):
    """Entries the old parser kept (it failed before deciding: no decision) are decided
    again by ``replay-failed`` and carried out."""
    good = {"pk": {"S": "k"}, "v": {"S": "good"}}
    bad = {"pk": {"S": "k"}, "v": {"S": "tampered"}, ATTR: {"S": POISONS[0]}}
    rec = _record("MODIFY", old=good, new=bad, seq="77")
    audit = FakeAudit()
    audit.record_failed([failures.entry(rec, None, "ValueError(\"invalid literal for int() with base 10: '\u00b2'\")")])
    client = FakeDynamoDb()
    client.items[(repr({"S": "k"}),)] = copy.deepcopy(bad)
    answer = handler.run_operation(
        {"ddbguard": "replay-failed", "table": "orders"},
        client,
        REMOVE_MODIFY,
        handler.Memory(),
        audit=audit,
        actions=DynamoDbActions(client, SIGNER),
    )
    assert [r["outcome"] for r in answer["results"]] == [Outcome.APPLIED]
    assert SIGNER.strip(client.items[(repr({"S": "k"}),)]) == good
    assert audit.failed("orders") == []


# Delete then re-create: the record orders and delays that occur. "put-first": the writer's
# put lands before the monitor's restore (the restore is superseded; the put is an INSERT);
# "restore-first": the restore lands first (the put is then a MODIFY of the restored item).
GOOD = {"pk": {"S": "k"}, "v": {"S": "good"}}
TAMPERED = {"pk": {"S": "k"}, "v": {"S": "tampered"}}


def _delete_and_recreate(handler, policy, order, delivery):
    """Run one delete-and-re-create; return what the item ends as (marker stripped)."""
    table = StreamTable()
    table.items[(repr({"S": "k"}),)] = copy.deepcopy(GOOD)
    audit = FakeAudit()
    memory = handler.Memory()
    table.delete_item(Key={"pk": {"S": "k"}})

    def invoke(records, cold=False):
        nonlocal memory
        if cold:
            memory = handler.Memory()
        return _process(handler, records, table, policy, memory, audit)

    if order == "put-first":
        table.put_item(Item=copy.deepcopy(TAMPERED))
        records, table.stream[:] = list(table.stream), []
        if delivery == "same-batch":
            assert invoke(records) == {"batchItemFailures": []}
        else:  # next batch, or the next batch in a new container
            assert invoke(records[:1]) == {"batchItemFailures": []}
            assert invoke(records[1:], cold=delivery == "cold-start") == {"batchItemFailures": []}
    else:
        records, table.stream[:] = list(table.stream), []
        assert invoke(records) == {"batchItemFailures": []}  # the restore lands
        table.put_item(Item=copy.deepcopy(TAMPERED))  # over the restored item: a MODIFY
        records, table.stream[:] = list(table.stream), []
        assert invoke(records, cold=delivery == "cold-start") == {"batchItemFailures": []}
    for _ in range(5):  # drain the echoes
        records, table.stream[:] = list(table.stream), []
        if records:
            invoke(records)
    item = table.items.get((repr({"S": "k"}),))
    return None if item is None else SIGNER.strip(item)


@pytest.mark.parametrize("delivery", ["same-batch", "next-batch", "cold-start"])
@pytest.mark.parametrize("order", ["put-first", "restore-first"])
def test_under_remove_and_modify_a_re_created_item_returns_to_its_good_state(handler, order, delivery):
    assert _delete_and_recreate(handler, REMOVE_MODIFY, order, delivery) == GOOD


@pytest.mark.parametrize("delivery", ["same-batch", "next-batch", "cold-start"])
@pytest.mark.parametrize("order", ["put-first", "restore-first"])
def test_under_remove_alone_the_re_creation_wins(handler, order, delivery):
    assert _delete_and_recreate(handler, REMOVE_ONLY, order, delivery) == TAMPERED


def test_a_re_creation_is_in_scope_by_the_item_it_replaces_not_by_what_it_writes():
    """Flag scope: the good item carries the flag; the re-created one drops it. Still a
    modification of a protected item."""
    policy = Policy(
        protected_events=frozenset({"REMOVE", "MODIFY"}),
        scope="attribute-flag",
        flag_attribute="protected",
        marker_key=KEY,
    )
    flagged = {"pk": {"S": "k"}, "v": {"S": "good"}, "protected": {"BOOL": True}}
    memory: dict = {}
    delete = core.decide(_record("REMOVE", old=flagged, seq="1"), policy, remembered=memory)
    memory.__setitem__(*delete.remember)
    recreate = core.decide(_record("INSERT", new=TAMPERED, seq="2"), policy, remembered=memory)
    assert recreate.action == core.REVERT_MODIFIED and SIGNER.strip(recreate.item) == flagged


def test_an_insert_of_an_item_that_was_legitimately_absent_is_an_insert():
    """No protected delete came first: under ``[REMOVE, MODIFY]`` a new item passes."""
    assert core.decide(_record("INSERT", new=TAMPERED), REMOVE_MODIFY).reason == core.NOT_PROTECTED
    memory = {core.item_id("orders", {"pk": {"S": "k"}}): None}  # deleted legitimately (TTL, unprotected)
    assert core.decide(_record("INSERT", new=TAMPERED), REMOVE_MODIFY, remembered=memory).reason == core.NOT_PROTECTED

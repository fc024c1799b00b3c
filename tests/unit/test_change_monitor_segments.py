"""The distributed copy-back's worker (``change_monitor.segments``): what one page plans, and
which requests it refuses before reading anything."""

from __future__ import annotations

import pytest

from change_monitor import segments

JOB = {
    "id": "cb-1",
    "source": "orders-restore-1",
    "total": 4,
    "side": segments.RESTORED,
    "segment": 0,
    "key_names": ["pk"],
    "delete_missing": False,
    "exclude": ["ddbguard-canary#"],
    "ignore": ["_ddbguard_undo"],
    "plan": False,
    "page_size": 100,
}


def item(pk: str, **values) -> dict:
    return {"pk": {"S": pk}, **{k: {"N": str(v)} for k, v in values.items()}}


def by_id(*items: dict) -> dict:
    return {segments.key_id({"pk": i["pk"]}): i for i in items}


def test_a_restored_page_copies_what_differs_or_is_missing_and_leaves_the_rest():
    page = [item("a", v=1), item("b", v=2), item("c", v=3), item("ddbguard-canary#x", v=1)]
    live = by_id({**item("a", v=1), "_ddbguard_undo": {"S": "m"}}, item("b", v=9), item("ddbguard-canary#x", v=7))
    writes, counts = segments.plan_page(JOB, page, live)
    assert [(w["key"]["pk"]["S"], w["expected"]) for w in writes] == [("b", item("b", v=9)), ("c", None)]
    assert writes[0]["image"] == item("b", v=2)
    assert counts == dict(counts, compared=4, unchanged=1, excluded=1)


def test_sets_compare_as_sets():
    restored = {"pk": {"S": "a"}, "tags": {"SS": ["x", "y"]}}
    live = {"pk": {"S": "a"}, "tags": {"SS": ["y", "x"]}}
    writes, counts = segments.plan_page(JOB, [restored], by_id(live))
    assert not writes and counts["unchanged"] == 1


def test_the_live_side_deletes_only_what_the_restore_lacks_and_only_when_asked():
    job = dict(JOB, side=segments.LIVE, delete_missing=True)
    page = [item("a", v=1), item("gone", v=2)]
    writes, counts = segments.plan_page(job, page, by_id(item("a", v=5)))
    assert [(w["key"]["pk"]["S"], w["image"], w["expected"]) for w in writes] == [("gone", None, item("gone", v=2))]
    assert counts["compared"] == 1, "a key both tables hold is the restored side's to count"
    writes, _ = segments.plan_page(dict(job, delete_missing=False), page, by_id(item("a", v=5)))
    assert writes == []


GOOD = {
    "job": {"id": "cb-1", "source_table": "orders-restore-1", "total_segments": 4, "key_names": ["pk"]},
    "item": {"side": "restored", "segment": 3},
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"job": dict(GOOD["job"], source_table="invoices")}, "restore of orders"),
        ({"job": dict(GOOD["job"], source_table="orders")}, "restore of orders"),
        ({"job": dict(GOOD["job"], total_segments=0)}, "total_segments must be"),
        ({"item": {"side": "restored", "segment": 4}}, "outside 0-3"),
        ({"item": {"side": "both", "segment": 0}}, "side"),
        ({"job": dict(GOOD["job"], key_names=[])}, "key_names"),
        ({"job": dict(GOOD["job"], id=" ")}, "its id"),
    ],
)
def test_a_segment_outside_its_bounds_is_refused(change, message):
    with pytest.raises(segments.SegmentError, match=message):
        segments.parse({**GOOD, **change}, "orders")
    assert segments.parse(GOOD, "orders")["segment"] == 3


def test_a_monitor_without_an_audit_table_refuses_before_reading(handler):
    event = {"ddbguard": "copy-back-segment", "table": "orders", **GOOD}
    from tests.fakes import FakeDynamoDb
    from tests.unit.test_change_monitor_operations import POLICY

    fake = FakeDynamoDb()
    answer = handler.run_operation(event, fake, POLICY, handler.Memory())
    assert "no audit table" in answer["error"] and fake.calls == []

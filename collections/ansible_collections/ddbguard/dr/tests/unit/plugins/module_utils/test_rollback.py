"""What dynamodb_window_rollback plans for each change of a window, and how it reads its sources."""

from __future__ import annotations

import datetime
import json

import pytest
from ansible_collections.ddbguard.dr.plugins.module_utils import rollback as rb
from ansible_collections.ddbguard.dr.plugins.modules import dynamodb_window_rollback as mod

IGNORE = ["_ddbguard_undo"]


def item(pk: str, v: str, **extra) -> dict:
    return {"pk": {"S": pk}, "v": {"N": v}, **extra}


def key(pk: str) -> dict:
    return {"pk": {"S": pk}}


@pytest.mark.parametrize(
    ("old", "new", "live", "delete_created", "action"),
    [
        (item("a", "1"), item("a", "2"), item("a", "2"), False, rb.ROLLBACK),
        (item("a", "1"), item("a", "2"), item("a", "2", _ddbguard_undo={"S": "m"}), False, rb.ROLLBACK),
        (item("a", "1"), item("a", "2"), item("a", "3"), False, rb.SUPERSEDED),  # written after to
        (item("a", "1"), item("a", "2"), None, False, rb.SUPERSEDED),  # deleted after to
        (item("a", "1"), item("a", "2"), item("a", "1"), False, rb.UNCHANGED),  # a re-run: already back
        (item("a", "1"), None, None, False, rb.ROLLBACK),  # deleted in the window: put back
        (item("a", "1"), None, item("a", "5"), False, rb.SUPERSEDED),  # re-created after to
        (None, item("a", "2"), item("a", "2"), False, rb.CREATED),  # created: kept unless asked
        (None, item("a", "2"), item("a", "2"), True, rb.DELETE),
        (None, item("a", "2"), None, True, rb.UNCHANGED),
        (item("a", "1"), item("a", "1"), item("a", "1"), False, rb.UNCHANGED),  # changed and back
    ],
)
def test_each_change_is_planned_against_the_live_item(old, new, live, delete_created, action):
    entry = rb.plan(rb.Change(key("a"), old, new), live, delete_created, IGNORE)
    assert entry.action == action
    assert entry.expected == live


def test_the_written_image_drops_the_marker_and_the_condition_is_the_live_item():
    live = item("a", "2", _ddbguard_undo={"S": "m2"})
    entry = rb.plan(
        rb.Change(key("a"), item("a", "1", _ddbguard_undo={"S": "m1"}), item("a", "2")), live, False, IGNORE
    )
    assert rb.image(entry, IGNORE) == item("a", "1")
    condition = rb.condition(entry)
    assert sorted(condition["ExpressionAttributeNames"].values()) == ["_ddbguard_undo", "pk", "v"]
    deleted = rb.plan(rb.Change(key("a"), item("a", "1"), None), None, False, IGNORE)
    assert "attribute_not_exists" in rb.condition(deleted)["ConditionExpression"]


def test_export_lines_become_changes_with_binary_decoded():
    line = {
        "Metadata": {"WriteTimestampMicros": {"N": "1"}},
        "Keys": {"pk": {"S": "a"}},
        "OldImage": {"pk": {"S": "a"}, "b": {"B": "AAE="}},
    }
    (change,) = rb.export_changes([json.dumps(line), ""])
    assert change.old == {"pk": {"S": "a"}, "b": {"B": b"\x00\x01"}} and change.new is None


def _record(pk: str, at: int, old=None, new=None) -> dict:
    data = {"Keys": key(pk), "ApproximateCreationDateTime": datetime.datetime.fromtimestamp(at, datetime.UTC)}
    data.update({"OldImage": old} if old else {})
    data.update({"NewImage": new} if new else {})
    return {"dynamodb": data}


def test_stream_changes_keep_the_first_old_image_and_the_last_new_one_within_the_window():
    records = [
        _record("a", 99, item("a", "0"), item("a", "1")),  # before the window
        _record("a", 100, item("a", "1"), item("a", "2")),  # start: inclusive
        _record("b", 101, None, item("b", "1")),
        _record("a", 102, item("a", "2"), item("a", "3")),
        _record("b", 103, item("b", "1"), None),
        _record("c", 104, item("c", "0"), None),
        _record("a", 110, item("a", "3"), item("a", "4")),  # end: exclusive
    ]
    changes = {c.key["pk"]["S"]: c for c in rb.stream_changes(records, 100, 110).values()}
    assert changes["a"] == rb.Change(key("a"), item("a", "1"), item("a", "3"))
    assert changes["b"] == rb.Change(key("b"), None, None)
    assert changes["c"] == rb.Change(key("c"), item("c", "0"), None)


def test_the_tally_keeps_every_superseded_key_and_a_bounded_sample():
    tally = rb.Tally(sample_size=2)
    for i in range(5):
        entry = rb.plan(rb.Change(key(f"k{i}"), item("x", "1"), item("x", "2")), item("x", "3"), False, IGNORE)
        tally.add(entry)
        done = rb.Entry(rb.Change(key(f"r{i}"), item("x", "1"), item("x", "2")), rb.ROLLBACK, outcome="applied")
        tally.add(done)
    assert tally.counts["superseded"] == 5 and len(tally.superseded) == 5
    assert tally.counts["rolled_back"] == 5 and len(tally.sample) == 2


def test_chained_export_pieces_cover_the_window_and_each_is_a_valid_export():
    hour = 3600.0
    for length in (0.25 * hour, 24 * hour, 24.1 * hour, 71 * hour):
        parts = mod.pieces(0.0, length)
        assert parts[0][0] == 0.0 and parts[-1][1] == length
        assert all(a[1] == b[0] for a, b in zip(parts, parts[1:], strict=False))
        assert all(15 * 60 <= e - s <= 24 * hour for s, e in parts)


def _params(**overrides) -> dict:
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    params = {
        "table": "orders",
        "window_from": (now - datetime.timedelta(minutes=5)).isoformat(),
        "window_to": (now - datetime.timedelta(minutes=1)).isoformat(),
        "source": "auto",
        "export_bucket": "",
        "batch_size": 50,
        "wait_timeout": 60,
    }
    return params | overrides


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"window_to": "2999-01-01T00:00:00Z"}, "window_to must not be in the future"),
        ({"window_from": "yesterday"}, "window_from must be an ISO 8601 time"),
        ({"window_from": "2026-12-05T10:00:00Z", "window_to": "2026-12-05T09:00:00Z"}, "must be after window_from"),
        ({"batch_size": 101}, "batch_size must be 1-100"),
        ({"source": "export"}, "at least 15 minutes"),
        ({"window_from": "2020-01-01T00:00:00Z", "window_to": "2020-01-01T00:05:00Z"}, "older than the stream"),
        ({"window_from": "2020-01-01T00:00:00Z", "window_to": "2020-01-01T01:00:00Z"}, "export_bucket is required"),
        ({"table": "a b"}, "table"),
    ],
)
def test_bad_input_is_refused_before_any_aws_call(overrides, named):
    problems = mod.validate(_params(**overrides))
    assert any(named in p for p in problems), problems


def test_a_good_window_passes():
    assert mod.validate(_params()) == []


class _Table:
    """A stand-in for the DynamoDB client: BatchGetItem over a dict of live items."""

    def __init__(self, items: dict[str, dict]):
        self.items = items
        self.reads = 0

    def batch_get_item(self, RequestItems):  # noqa: N803 (boto3's name)
        ((table, request),) = RequestItems.items()
        self.reads += len(request["Keys"])
        found = [self.items[k["pk"]["S"]] for k in request["Keys"] if k["pk"]["S"] in self.items]
        return {"Responses": {table: found}}


class _Module:
    check_mode = True

    def __init__(self, **params):
        self.params = {
            "table": "t",
            "batch_size": 2,
            "key_prefixes": [],
            "exclude_key_prefixes": ["ddbguard-canary#"],
            "ignore_attributes": IGNORE,
            "delete_created": False,
            "monitor_function": "",
        } | params


def test_chained_pieces_newest_first_plan_each_item_once_and_never_undo_a_later_write():
    # x: 1 -> 2 (piece 1) -> 3 (piece 2), live 3: back to 1, counted once.
    # y: 1 -> 2 (piece 1) -> 3 (piece 2), live 9 (written after the window): superseded, and
    #    piece 1 never plans it. c: canary, excluded. z: 5 -> 6 in piece 1 only, live 6: back to 5.
    live = {"x": item("x", "3"), "y": item("y", "9"), "z": item("z", "6")}
    rollback = mod.Rollback(_Module(), _Table(live), [{"AttributeName": "pk", "KeyType": "HASH"}])
    rollback.chained = True
    newest = [rb.Change(key("x"), item("x", "2"), item("x", "3")), rb.Change(key("y"), item("y", "2"), item("y", "3"))]
    older = [
        rb.Change(key("x"), item("x", "1"), item("x", "2")),
        rb.Change(key("y"), item("y", "1"), item("y", "2")),
        rb.Change(key("z"), item("z", "5"), item("z", "6")),
        rb.Change(key("ddbguard-canary#1"), None, item("ddbguard-canary#1", "1")),
    ]
    rollback.run(newest)
    rollback.run(older)
    counts = rollback.tally.counts
    assert counts["planned"] == 2 and counts["superseded"] == 1 and counts["excluded"] == 1, counts
    assert rollback.planned == {rb.key_id(key("x")): item("x", "1"), rb.key_id(key("z")): item("z", "5")}
    assert rollback.tally.superseded == [key("y")]


def test_only_the_items_asked_for_are_rolled_back():
    live = {"a": item("a", "2"), "b": item("b", "2")}
    table = _Table(live)
    rollback = mod.Rollback(_Module(key_prefixes=["a"]), table, [{"AttributeName": "pk", "KeyType": "HASH"}])
    rollback.run([rb.Change(key(p), item(p, "1"), item(p, "2")) for p in "ab"])
    assert rollback.tally.counts["planned"] == 1 and table.reads == 1

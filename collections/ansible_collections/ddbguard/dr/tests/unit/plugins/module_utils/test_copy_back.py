"""What dynamodb_copy_back plans: copy, delete or leave each key; conditions on the live item."""

from __future__ import annotations

from ansible_collections.ddbguard.dr.plugins.module_utils import copy_back as cb


def item(pk: str, v: str, **extra) -> dict:
    return {"pk": {"S": pk}, "v": {"N": v}, **extra}


def key(pk: str) -> dict:
    return {"pk": {"S": pk}}


def by_id(*items: dict) -> dict:
    return {cb.key_id({"pk": i["pk"]}): i for i in items}


def test_only_differing_items_are_copied_and_deletes_need_consent():
    restored = by_id(item("a", "1"), item("b", "2"))
    live = by_id(item("a", "1", _ddbguard_undo={"S": "marker"}), item("b", "9"), item("c", "3"))
    keys = {cb.key_id(key(p)): key(p) for p in "abc"}
    plan = {e["key"]["pk"]["S"]: e for e in cb.plan(restored, live, keys, False, ["_ddbguard_undo"])}
    assert plan["a"]["action"] == cb.UNCHANGED, "the marker attribute is ignored"
    assert plan["b"]["action"] == cb.COPY and plan["b"]["image"] == item("b", "2")
    assert plan["b"]["expected"] == item("b", "9"), "the write is conditional on the live item the plan saw"
    assert plan["c"]["action"] == cb.UNCHANGED
    with_deletes = {e["key"]["pk"]["S"]: e for e in cb.plan(restored, live, keys, True, [])}
    assert with_deletes["c"]["action"] == cb.DELETE


def test_a_copy_to_an_absent_item_requires_it_to_stay_absent():
    condition = cb.condition(key("a"), None)
    assert condition["ConditionExpression"] == "attribute_not_exists(#k0)"
    condition = cb.condition(key("a"), item("a", "9"))
    assert condition["ConditionExpression"] == "#a0 = :a0 AND #a1 = :a1"
    assert condition["ExpressionAttributeValues"] == {":a0": {"S": "a"}, ":a1": {"N": "9"}}


def test_restored_images_lose_the_marker_and_counts_add_up():
    restored = by_id(item("a", "1", _ddbguard_undo={"S": "old"}))
    [entry] = cb.plan(restored, {}, {cb.key_id(key("a")): key("a")}, False, ["_ddbguard_undo"])
    assert entry["action"] == cb.COPY and "_ddbguard_undo" not in entry["image"]
    entries = [
        {"action": cb.COPY, "outcome": "applied"},
        {"action": cb.DELETE, "outcome": "applied"},
        {"action": cb.COPY, "outcome": "superseded"},
        {"action": cb.UNCHANGED, "outcome": "unchanged"},
    ]
    assert cb.counts(entries) == {
        "copied": 1,
        "deleted": 1,
        "unchanged": 1,
        "superseded": 1,
        "excluded": 0,
        "planned": 0,
    }


def test_keys_under_an_excluded_prefix_are_never_copied_nor_deleted():
    """The drill's canaries in a recovery point never reach a live table through restore.yml."""
    keys = {
        cb.key_id(k): k for k in ({"pk": {"S": "ddbguard-canary#run#1"}}, {"pk": {"S": "order#1"}}, {"pk": {"N": "7"}})
    }
    assert cb.excluded(keys, "pk", ["ddbguard-canary#"]) == {cb.key_id({"pk": {"S": "ddbguard-canary#run#1"}})}
    assert cb.excluded(keys, "pk", []) == set()
    assert cb.excluded(keys, "pk", [""]) == set(), "an empty prefix excludes nothing"

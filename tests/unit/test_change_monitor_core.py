"""The pure decision core: one test per branch, on JSON fixture records."""

from __future__ import annotations

import pytest

from change_monitor import core, marker
from change_monitor.config import Policy, PolicyError, load_policy

POLICY = Policy()


def test_a_protected_delete_is_restored_with_its_old_image_and_a_marker(record):
    rec = record("remove")
    decision = core.decide(rec, POLICY)
    assert decision.action == core.RESTORE_DELETED
    assert decision.table == "orders"
    assert decision.condition_attribute == "pk"
    assert marker.strip(decision.item, POLICY.marker_attribute) == rec["dynamodb"]["OldImage"]
    assert marker.is_own_write(decision.item, POLICY.marker_attribute)


def test_a_ttl_delete_passes(record):
    decision = core.decide(record("remove_ttl"), POLICY)
    assert (decision.action, decision.reason) == (core.SKIP, "ttl-delete")


def test_an_unprotected_event_type_passes(record):
    decision = core.decide(record("insert"), POLICY)
    assert (decision.action, decision.reason) == (core.SKIP, "not-protected")


def test_audit_mode_only_audits(record):
    decision = core.decide(record("remove"), Policy(mode="audit"))
    assert (decision.action, decision.reason) == (core.AUDIT, "protected-change")
    assert decision.item is None


def test_the_monitors_own_restore_is_skipped(record):
    rec = record("remove")
    restored = core.decide(rec, POLICY).item
    echo = record("insert")
    echo["dynamodb"]["NewImage"] = restored
    echo["dynamodb"]["Keys"] = rec["dynamodb"]["Keys"]
    decision = core.decide(echo, Policy(protected_events=frozenset({"INSERT", "REMOVE"})))
    assert (decision.action, decision.reason) == (core.SKIP, "own-write")


def test_a_later_change_to_a_restored_item_is_not_mistaken_for_an_own_write(record):
    restored = core.decide(record("remove"), POLICY).item
    later = record("modify")
    later["dynamodb"]["OldImage"] = restored
    later["dynamodb"]["NewImage"] = {**restored, "amount": {"N": "1"}}  # keeps the stale marker
    assert not marker.is_own_write(later["dynamodb"]["NewImage"], POLICY.marker_attribute)
    decision = core.decide(later, Policy(protected_events=frozenset({"MODIFY"})))
    assert decision.reason != "own-write"


def test_a_delete_without_old_image_cannot_be_undone(record):
    rec = record("remove")
    del rec["dynamodb"]["OldImage"]
    decision = core.decide(rec, POLICY)
    assert (decision.action, decision.reason) == (core.SKIP, "no-old-image")


def test_table_name_comes_from_the_stream_arn():
    arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/my.table-1/stream/2026-01-01T00:00:00.000"
    assert core.table_name(arn) == "my.table-1"


def test_policy_defaults_protect_deletes_in_undo_mode():
    policy = load_policy({})
    assert policy.protected_events == frozenset({"REMOVE"})
    assert policy.mode == "undo"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DDBGUARD_PROTECTED_EVENTS": "DELETE"}, "DDBGUARD_PROTECTED_EVENTS"),
        ({"DDBGUARD_PROTECTED_EVENTS": " , "}, "DDBGUARD_PROTECTED_EVENTS"),
        ({"DDBGUARD_MODE": "fix"}, "DDBGUARD_MODE"),
        ({"DDBGUARD_MARKER_ATTRIBUTE": ""}, "DDBGUARD_MARKER_ATTRIBUTE"),
    ],
)
def test_a_bad_policy_variable_is_named_in_the_error(env, variable):
    with pytest.raises(PolicyError, match=variable):
        load_policy(env)

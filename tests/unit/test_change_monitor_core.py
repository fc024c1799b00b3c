"""The pure decision core: one test per branch, on JSON fixture records."""

from __future__ import annotations

import pytest

from change_monitor import conditions, core, marker
from change_monitor.config import Policy, PolicyError, load_policy

ATTR = "_ddbguard_undo"
ALL = Policy(protected_events=frozenset({"REMOVE", "MODIFY", "INSERT"}), marker_key=b"s" * 32)
SIGNER = ALL.marker
ENV = {"DDBGUARD_TABLE": "orders", "DDBGUARD_MARKER_KEY": "alias/ddbguard/orders/marker"}


def test_a_protected_delete_is_restored_while_absent(record):
    rec = record("remove")
    decision = core.decide(rec, ALL)
    assert decision.action == core.RESTORE_DELETED and decision.table == "orders"
    assert SIGNER.strip(decision.item) == rec["dynamodb"]["OldImage"]
    assert SIGNER.is_echo(decision.item, None, marker.UNDO), "its echo (OldImage: absent) is recognised"
    assert decision.condition.expression == "attribute_not_exists(#k0)"
    assert decision.condition.names == {"#k0": "pk"}


def test_a_protected_modification_is_reverted_while_the_item_still_equals_the_new_image(record):
    rec = record("modify")
    decision = core.decide(rec, ALL)
    assert decision.action == core.REVERT_MODIFIED
    assert SIGNER.strip(decision.item) == rec["dynamodb"]["OldImage"]
    assert decision.condition.expression == "#a0 = :a0 AND #a1 = :a1"
    assert decision.condition.values == {":a0": {"S": "order#3"}, ":a1": {"S": "cancelled"}}
    assert decision.remember == (core.item_id("orders", rec["dynamodb"]["Keys"]), rec["dynamodb"]["OldImage"])


def test_with_a_version_attribute_only_the_version_is_compared(record):
    rec = record("modify")
    rec["dynamodb"]["NewImage"]["version"] = {"N": "8"}
    decision = core.decide(rec, Policy(protected_events=frozenset({"MODIFY"}), version_attribute="version"))
    assert decision.condition.expression == "#v = :v" and decision.condition.values == {":v": {"N": "8"}}


def test_a_protected_insert_is_deleted_while_unchanged(record):
    rec = record("insert")
    decision = core.decide(rec, ALL)
    assert decision.action == core.DELETE_INSERTED
    assert decision.item == rec["dynamodb"]["NewImage"]
    assert decision.remember[1] is None  # the good state is "absent"


def test_a_ttl_delete_passes(record):
    decision = core.decide(record("remove_ttl"), ALL)
    assert (decision.action, decision.reason) == (core.SKIP, "ttl-delete")


def test_an_unprotected_event_type_passes(record):
    assert core.decide(record("insert"), Policy()).reason == "not-protected"


@pytest.mark.parametrize(
    ("policy", "protected"),
    [
        (Policy(protected_events=frozenset({"REMOVE"}), scope="key-prefix", key_prefix="order#"), True),
        (Policy(protected_events=frozenset({"REMOVE"}), scope="key-prefix", key_prefix="user#"), False),
        (Policy(protected_events=frozenset({"REMOVE"}), scope="attribute-flag", flag_attribute="amount"), True),
        (Policy(protected_events=frozenset({"REMOVE"}), scope="attribute-flag", flag_attribute="locked"), False),
    ],
)
def test_scope_by_key_prefix_or_attribute_flag(record, policy, protected):
    decision = core.decide(record("remove"), policy)
    assert (decision.action == core.RESTORE_DELETED) is protected
    if not protected:
        assert decision.reason == "out-of-scope"


def test_a_flag_set_to_false_or_null_does_not_protect(record):
    policy = Policy(protected_events=frozenset({"REMOVE"}), scope="attribute-flag", flag_attribute="protected")
    for flag in ({"BOOL": False}, {"NULL": True}):
        rec = record("remove")
        rec["dynamodb"]["OldImage"]["protected"] = flag
        assert core.decide(rec, policy).reason == "out-of-scope"


def test_a_bad_write_cannot_unprotect_an_item_by_dropping_its_flag(record):
    rec = record("modify")
    rec["dynamodb"]["OldImage"]["protected"] = {"BOOL": True}  # the new image lacks it
    policy = Policy(protected_events=frozenset({"MODIFY"}), scope="attribute-flag", flag_attribute="protected")
    assert core.decide(rec, policy).action == core.REVERT_MODIFIED


def test_during_a_maintenance_window_protected_changes_are_only_audited(record):
    decision = core.decide(record("remove"), ALL, maintenance_open=True)
    assert (decision.action, decision.reason) == (core.AUDIT, "maintenance-window")
    assert decision.protected


def test_audit_mode_only_audits(record):
    decision = core.decide(record("remove"), Policy(mode="audit"))
    assert (decision.action, decision.reason) == (core.AUDIT, "protected-change") and decision.item is None


def test_the_monitors_own_restore_is_skipped(record):
    rec = record("remove")
    echo = record("insert")
    echo["dynamodb"]["NewImage"] = core.decide(rec, ALL).item
    echo["dynamodb"]["Keys"] = rec["dynamodb"]["Keys"]
    assert core.decide(echo, ALL).reason == "own-write"


def test_a_restore_written_by_someone_else_is_a_real_change(record):
    """The same image and marker, with the key unknown to the writer, or replayed later."""
    rec = record("remove")
    forged = marker.Marker(ATTR, b"guessed").mark(rec["dynamodb"]["OldImage"], marker.UNDO, "1", replaced=None)
    echo = record("insert")
    echo["dynamodb"]["Keys"] = rec["dynamodb"]["Keys"]
    echo["dynamodb"]["NewImage"] = forged
    assert core.decide(echo, ALL).action == core.DELETE_INSERTED
    replay = record("modify")
    replay["dynamodb"]["Keys"] = rec["dynamodb"]["Keys"]
    replay["dynamodb"]["OldImage"] = {"pk": {"S": "order#1"}, "amount": {"N": "1"}}  # a later good state
    replay["dynamodb"]["NewImage"] = core.decide(rec, ALL).item  # a genuine restore, written back later
    decision = core.decide(replay, ALL)
    assert decision.action == core.REVERT_MODIFIED
    assert SIGNER.strip(decision.item) == replay["dynamodb"]["OldImage"]


def test_the_delete_echo_of_an_undone_insert_is_skipped(record):
    rec = record("remove")
    rec["dynamodb"]["OldImage"] = SIGNER.mark({"pk": {"S": "order#1"}}, marker.DELETE, "1", replaced=None)
    assert core.decide(rec, ALL).reason == "own-write"
    assert core.decide(rec, ALL, remembered={core.item_id("orders", rec["dynamodb"]["Keys"]): None}).reason == (
        "own-write"
    )


def test_a_delete_marked_image_deleted_over_a_good_item_is_restored(record):
    """Someone writes back a delete-marked image over a good item, then deletes it."""
    rec = record("remove")
    good = {"pk": {"S": "order#1"}, "amount": {"N": "5"}}
    rec["dynamodb"]["OldImage"] = SIGNER.mark({"pk": {"S": "order#1"}}, marker.DELETE, "1", replaced=None)
    decision = core.decide(rec, ALL, remembered={core.item_id("orders", rec["dynamodb"]["Keys"]): good})
    assert decision.action == core.RESTORE_DELETED and SIGNER.strip(decision.item) == good


def test_a_restored_item_deleted_again_is_restored_again(record):
    rec = record("remove")
    rec["dynamodb"]["OldImage"] = SIGNER.mark(rec["dynamodb"]["OldImage"], marker.UNDO, "1", replaced=None)
    assert core.decide(rec, ALL).action == core.RESTORE_DELETED


def test_a_later_change_keeping_a_stale_marker_is_a_real_change(record):
    restored = core.decide(record("remove"), ALL).item
    later = record("modify")
    later["dynamodb"]["Keys"] = {"pk": {"S": "order#1"}}
    later["dynamodb"]["OldImage"] = restored
    later["dynamodb"]["NewImage"] = {**restored, "amount": {"N": "1"}}
    assert core.decide(later, ALL).action == core.REVERT_MODIFIED


def test_a_canary_the_monitor_retired_over_its_remembered_good_state_stays_deleted(record):
    """The retire may run in another container than the one that remembers the canary."""
    rec = record("remove")
    canary = {"pk": {"S": ALL.canary_prefix + "scheduled#1"}, "amount": {"N": "5"}}
    rec["dynamodb"]["Keys"] = {"pk": canary["pk"]}
    remembered = SIGNER.mark(canary, marker.UNDO, "3", replaced=None)  # the good state, as last restored
    rec["dynamodb"]["OldImage"] = SIGNER.mark(canary, marker.DELETE, "0", replaced=remembered)
    memory = {core.item_id("orders", rec["dynamodb"]["Keys"]): remembered}
    assert core.decide(rec, ALL, remembered=memory).action == core.SKIP
    # Over another state than the one remembered, it is a real change: restored.
    other = {**canary, "amount": {"N": "6"}}
    rec["dynamodb"]["OldImage"] = SIGNER.mark(other, marker.DELETE, "0", replaced=other)
    assert core.decide(rec, ALL, remembered=memory).action == core.RESTORE_DELETED


def test_a_retire_marker_over_an_item_outside_the_canary_prefix_is_restored(record):
    rec = record("remove")
    good = {"pk": {"S": "order#1"}, "amount": {"N": "5"}}
    rec["dynamodb"]["Keys"] = {"pk": good["pk"]}
    rec["dynamodb"]["OldImage"] = SIGNER.mark(good, marker.DELETE, "0", replaced=good)
    decision = core.decide(rec, ALL, remembered={core.item_id("orders", rec["dynamodb"]["Keys"]): good})
    assert decision.action == core.RESTORE_DELETED


def test_a_chain_of_bad_modifications_returns_to_the_first_good_image(record):
    first = record("modify")  # paid -> cancelled
    second = record("modify")  # cancelled -> refunded
    second["dynamodb"]["OldImage"] = first["dynamodb"]["NewImage"]
    second["dynamodb"]["NewImage"] = {"pk": {"S": "order#3"}, "status": {"S": "refunded"}}
    memory = {}
    memory.__setitem__(*core.decide(first, ALL, remembered=memory).remember)
    decision = core.decide(second, ALL, remembered=memory)
    assert SIGNER.strip(decision.item) == first["dynamodb"]["OldImage"]  # paid, not cancelled


def test_a_delete_after_a_bad_modification_restores_the_good_image(record):
    modify = record("modify")
    delete = record("remove")
    delete["dynamodb"]["Keys"] = modify["dynamodb"]["Keys"]
    delete["dynamodb"]["OldImage"] = modify["dynamodb"]["NewImage"]
    memory = dict([core.decide(modify, ALL).remember])
    assert SIGNER.strip(core.decide(delete, ALL, remembered=memory).item) == modify["dynamodb"]["OldImage"]


def test_a_bad_insert_then_modified_is_deleted_and_then_not_restored(record):
    insert = record("insert")
    modify = record("modify")
    modify["dynamodb"]["Keys"] = insert["dynamodb"]["Keys"]
    modify["dynamodb"]["OldImage"] = insert["dynamodb"]["NewImage"]
    modify["dynamodb"]["NewImage"] = {**insert["dynamodb"]["NewImage"], "amount": {"N": "6"}}
    memory = dict([core.decide(insert, ALL).remember])
    assert core.decide(modify, ALL, remembered=memory).action == core.DELETE_INSERTED
    delete = record("remove")
    delete["dynamodb"]["Keys"] = insert["dynamodb"]["Keys"]
    delete["dynamodb"]["OldImage"] = insert["dynamodb"]["NewImage"]
    assert core.decide(delete, ALL, remembered=memory).reason == "absent-as-intended"


def test_a_legitimate_re_creation_becomes_the_state_to_restore(record):
    first_delete = record("remove")
    recreate = record("insert")  # INSERT is not protected: a legitimate write
    recreate["dynamodb"]["Keys"] = first_delete["dynamodb"]["Keys"]
    recreate["dynamodb"]["NewImage"] = {"pk": {"S": "order#1"}, "amount": {"N": "2"}}
    second_delete = record("remove")
    second_delete["dynamodb"]["OldImage"] = recreate["dynamodb"]["NewImage"]
    policy = Policy(protected_events=frozenset({"REMOVE"}), marker_key=ALL.marker_key)
    memory = {}
    for rec in (first_delete, recreate):
        memory.__setitem__(*core.decide(rec, policy, remembered=memory).remember)
    decision = core.decide(second_delete, policy, remembered=memory)
    assert SIGNER.strip(decision.item) == recreate["dynamodb"]["NewImage"]


def test_changes_during_a_maintenance_window_become_the_good_state(record):
    rec = record("modify")
    decision = core.decide(rec, ALL, maintenance_open=True)
    assert decision.remember == (core.item_id("orders", rec["dynamodb"]["Keys"]), rec["dynamodb"]["NewImage"])


def test_a_stream_without_both_images_cannot_be_undone(record):
    rec = record("modify")
    del rec["dynamodb"]["OldImage"]
    assert core.decide(rec, ALL).reason == "image-missing"


def test_an_item_with_too_many_attributes_for_a_condition_is_reported(record):
    rec = record("modify")
    rec["dynamodb"]["NewImage"].update({f"attribute_{i:03d}": {"N": str(i)} for i in range(400)})
    assert core.decide(rec, ALL).reason == "too-many-attributes"
    with pytest.raises(conditions.TooLargeForCondition):
        conditions.still_equals(rec["dynamodb"]["NewImage"])


def test_table_name_and_arn_come_from_the_stream_arn():
    arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/my.table-1/stream/2026-01-01T00:00:00.000"
    assert core.table_name(arn) == "my.table-1"
    assert core.table_arn(arn) == "arn:aws:dynamodb:eu-west-1:123456789012:table/my.table-1"


def test_policy_defaults_protect_deletes_of_every_item_in_undo_mode():
    policy = load_policy(ENV)
    assert (policy.protected_events, policy.scope, policy.mode) == (frozenset({"REMOVE"}), "all", "undo")


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DDBGUARD_PROTECTED_EVENTS": "DELETE"}, "DDBGUARD_PROTECTED_EVENTS"),
        ({"DDBGUARD_PROTECTED_EVENTS": " , "}, "DDBGUARD_PROTECTED_EVENTS"),
        ({"DDBGUARD_MODE": "fix"}, "DDBGUARD_MODE"),
        ({"DDBGUARD_MARKER_ATTRIBUTE": ""}, "DDBGUARD_MARKER_ATTRIBUTE"),
        ({"DDBGUARD_SCOPE": "some"}, "DDBGUARD_SCOPE"),
        ({"DDBGUARD_SCOPE": "key-prefix"}, "DDBGUARD_KEY_PREFIX"),
        ({"DDBGUARD_SCOPE": "attribute-flag"}, "DDBGUARD_FLAG_ATTRIBUTE"),
        ({"DDBGUARD_CONCURRENCY": "0"}, "DDBGUARD_CONCURRENCY"),
        ({"DDBGUARD_ESCALATION_WINDOW_SECONDS": "ten"}, "DDBGUARD_ESCALATION_WINDOW_SECONDS"),
        ({"DDBGUARD_MODE": "undo+escalate", "DDBGUARD_AUDIT_TABLE": "a"}, "DDBGUARD_BACKUP_VAULT"),
        ({"DDBGUARD_VERSION_ATTRIBUTE": "_ddbguard_undo"}, "DDBGUARD_VERSION_ATTRIBUTE"),
    ],
)
def test_a_bad_policy_variable_is_named_in_the_error(env, variable):
    with pytest.raises(PolicyError, match=variable):
        load_policy({**ENV, **env})


@pytest.mark.parametrize("variable", ["DDBGUARD_TABLE", "DDBGUARD_MARKER_KEY"])
def test_the_table_and_the_marker_key_are_required(variable):
    with pytest.raises(PolicyError, match=variable):
        load_policy({k: v for k, v in ENV.items() if k != variable})

"""Each module refuses bad parameters before any AWS call, with a message naming the option.

``validate(params)`` is a pure function in every AWS module; ``main()`` fails the task
with its problems before a client is even created.
"""

from __future__ import annotations

import pytest
from ansible_collections.ddbguard.dr.plugins.modules import (
    backup_copy_job,
    backup_job,
    backup_recovery_points,
    backup_restore_job,
    backup_restore_testing_plan,
    backup_vault_protection,
    cloudwatch_dashboard,
    dynamodb_item,
    dynamodb_point_in_time_restore,
    dynamodb_table_protection,
    dynamodb_undo_probe,
    kms_hmac_key,
)

ROLE = "arn:aws:iam::123456789012:role/restore"


def params(spec: dict, **given) -> dict:
    """Every option of an argument spec, None unless given or defaulted (as AnsibleModule does)."""
    out = {name: option.get("default") for name, option in spec.items()}
    out.update(given)
    return out


def test_backup_job():
    good = params(
        backup_job.ARGUMENT_SPEC,
        resource_arn="arn:aws:dynamodb:us-east-1:1:table/t",
        backup_vault_name="v",
        iam_role_arn=ROLE,
    )
    assert backup_job.validate(good) == []
    bad = dict(good, iam_role_arn="restore", lifecycle={"move_to_cold_storage_after_days": 10, "delete_after_days": 20})
    problems = backup_job.validate(bad)
    assert any(p.startswith("iam_role_arn must be an IAM role ARN") for p in problems)
    assert any(p.startswith("lifecycle.delete_after_days") for p in problems)


def test_backup_copy_job():
    good = params(
        backup_copy_job.ARGUMENT_SPEC,
        recovery_point_arn="arn:aws:backup:us-east-1:123456789012:recovery-point:abc-123",
        source_backup_vault_name="v",
        destination_backup_vault_arn="arn:aws:backup:us-west-2:123456789012:backup-vault:dr-vault",
        iam_role_arn=ROLE,
    )
    assert backup_copy_job.validate(good) == []
    assert backup_copy_job.job_request(dict(good, delete_after_days=7))["Lifecycle"] == {"DeleteAfterDays": 7}
    assert "Lifecycle" not in backup_copy_job.job_request(
        good
    ) and "IdempotencyToken" not in backup_copy_job.job_request(good)
    bad = dict(
        good,
        recovery_point_arn="arn:aws:dynamodb:us-east-1:123456789012:table/t",
        destination_backup_vault_arn="us-west-2",
        delete_after_days=0,
    )
    problems = backup_copy_job.validate(bad)
    assert any(p.startswith("recovery_point_arn must be a recovery point ARN") for p in problems)
    assert any(p.startswith("destination_backup_vault_arn must be a backup vault ARN") for p in problems)
    assert any(p.startswith("delete_after_days must be at least 1") for p in problems)


def test_backup_restore_job():
    good = params(
        backup_restore_job.ARGUMENT_SPEC, recovery_point_arn="arn:x", target_table_name="restored", iam_role_arn=ROLE
    )
    assert backup_restore_job.validate(good) == []
    problems = backup_restore_job.validate(dict(good, target_table_name="../x", created_before="soon"))
    assert any(p.startswith("target_table_name must be 3-255 characters") for p in problems)
    assert any(p.startswith("created_before must be an ISO 8601 time") for p in problems)


def test_backup_vault_protection():
    good = params(backup_vault_protection.ARGUMENT_SPEC, backup_vault_name="v", lock={"min_retention_days": 7})
    assert backup_vault_protection.validate(good) == []
    bad = dict(
        good,
        lock={"min_retention_days": 30, "max_retention_days": 7},
        access_policy={"exempt_principal_arns": ["admin"]},
    )
    problems = backup_vault_protection.validate(bad)
    assert "lock.min_retention_days must not exceed lock.max_retention_days" in problems
    assert any("exempt_principal_arns" in p for p in problems)


def test_dynamodb_point_in_time_restore():
    spec = dynamodb_point_in_time_restore.ARGUMENT_SPEC
    good = params(spec, source_table="orders", target_table="orders-restored", use_latest_restorable_time=True)
    assert dynamodb_point_in_time_restore.validate(good) == []
    problems = dynamodb_point_in_time_restore.validate(dict(good, target_table="orders", restore_date_time="later"))
    assert any(p.startswith("target_table must differ") for p in problems)
    assert any(p.startswith("give exactly one of") for p in problems)
    assert any(p.startswith("restore_date_time must be an ISO 8601 time") for p in problems)


def test_dynamodb_table_protection():
    spec = dynamodb_table_protection.ARGUMENT_SPEC
    good = params(spec, name="orders", point_in_time_recovery={"enabled": True, "recovery_period_in_days": 35})
    assert dynamodb_table_protection.validate(good) == []
    bad = dict(
        good,
        point_in_time_recovery={"enabled": True, "recovery_period_in_days": 36},
        sse={"type": "aws_managed", "kms_key": "k"},
    )
    problems = dynamodb_table_protection.validate(bad)
    assert any(p.startswith("point_in_time_recovery.recovery_period_in_days must be 1-35") for p in problems)
    assert "sse.kms_key is only used with sse.type=customer_managed" in problems


def test_dynamodb_item():
    good = params(dynamodb_item.ARGUMENT_SPEC, table="t", item={"pk": {"S": "a"}, "b": {"B": "AAE="}})
    assert dynamodb_item.validate(good) == []
    problems = dynamodb_item.validate(dict(good, item={"pk": "a", "b": {"B": "not base64!"}}))
    assert problems and problems[0].startswith("item: attributes ['pk']")
    problems = dynamodb_item.validate(dict(good, item={"b": {"B": "not base64!"}}))
    assert problems and problems[0].startswith("item: binary values must be base64")


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ({"timeout": 0}, "timeout and poll_interval must be positive"),
        ({"edit": "modify", "set": {"a": {"S": "same"}}}, "set does not change the canary"),
        ({"edit": "modify", "set": {"b": {"B": "AAE="}}}, "set: binary values cannot be watched"),
    ],
)
def test_dynamodb_undo_probe(given, problem):
    spec = dynamodb_undo_probe.ARGUMENT_SPEC
    base = params(spec, table="t", key={"pk": {"S": "k"}}, expected={"pk": {"S": "k"}, "a": {"S": "same"}})
    assert dynamodb_undo_probe.validate(base) == []
    assert any(p.startswith(problem) for p in dynamodb_undo_probe.validate(dict(base, **given)))


def test_kms_hmac_key():
    good = params(kms_hmac_key.ARGUMENT_SPEC, alias="ddbguard/orders/marker", policy={"Version": "2012-10-17"})
    assert kms_hmac_key.validate(good) == []
    assert kms_hmac_key.validate(dict(good, alias="alias/x")) == [
        "alias must be given without the alias/ prefix and not under aws/, got 'alias/x'"
    ]
    assert "alias may hold" in kms_hmac_key.validate(dict(good, alias="a b"))[0]
    assert kms_hmac_key.validate(dict(good, policy=None)) == ["policy is required with state=present"]
    assert kms_hmac_key.validate(dict(good, policy=None, state="absent")) == []
    assert "pending_window_days must be 7-30" in kms_hmac_key.validate(dict(good, pending_window_days=3))[0]


def test_kms_hmac_key_differences_compare_policy_as_data_and_leave_other_tags():
    current = {"policy": {"a": 1, "b": [1]}, "description": "d", "tags": {"team": "dr", "other": "x"}}
    wanted = params(
        kms_hmac_key.ARGUMENT_SPEC, alias="k", policy={"b": [1], "a": 1}, description="d", tags={"team": "dr"}
    )
    assert kms_hmac_key.differences(current, wanted) == {}
    changed = dict(wanted, description="e", tags={"team": "sre"}, policy={"a": 2})
    assert kms_hmac_key.differences(current, changed) == {
        "policy": {"a": 2},
        "description": "e",
        "tags": {"team": "sre"},
    }


def test_the_role_to_assume_must_be_a_role_arn():
    """Validated before the module assumes it (and so before any AWS call)."""
    for module, given in (
        (backup_recovery_points, {"backup_vault_name": "v", "resource_arn": "arn:aws:dynamodb:::table/t"}),
        (backup_vault_protection, {"backup_vault_name": "v", "access_policy": {"state": "absent"}}),
    ):
        assert module.validate(params(module.ARGUMENT_SPEC, assume_role_arn=ROLE, **given)) == []
        [problem] = module.validate(params(module.ARGUMENT_SPEC, assume_role_arn="break-glass", **given))
        assert problem.startswith("assume_role_arn must be an IAM role ARN")


def test_cloudwatch_dashboard():
    good = params(cloudwatch_dashboard.ARGUMENT_SPEC, name="ddbguard-dr", body={"widgets": []})
    assert cloudwatch_dashboard.validate(good) == []
    assert cloudwatch_dashboard.validate(dict(good, name="my dashboard")) == [
        "name must be 1-255 characters of A-Z a-z 0-9 - _, got 'my dashboard'"
    ]
    assert cloudwatch_dashboard.validate(dict(good, body=None)) == ["body is required when state is present"]
    assert cloudwatch_dashboard.validate(dict(good, body={"widget": []})) == ["body must have a list of widgets"]
    assert cloudwatch_dashboard.validate(dict(good, body=None, state="absent")) == []


def test_backup_restore_testing_plan():
    vault = "arn:aws:backup:eu-west-1:123456789012:backup-vault:v"
    table = "arn:aws:dynamodb:eu-west-1:123456789012:table/t"
    selection = {
        "name": "tables_1",
        "protected_resource_arns": [table],
        "iam_role_arn": ROLE,
        "validation_window_hours": 24,
    }
    good = params(
        backup_restore_testing_plan.ARGUMENT_SPEC,
        name="ddbguard_restore_test",
        include_vaults=[vault],
        selections=[selection],
    )
    assert backup_restore_testing_plan.validate(good) == []
    assert backup_restore_testing_plan.validate(dict(good, name="has-dash")) == [
        "name must be 1-50 letters, digits or underscores, got 'has-dash'"
    ]
    assert backup_restore_testing_plan.validate(dict(good, schedule_expression="daily")) == [
        "schedule_expression must be cron(...) or rate(...), got 'daily'"
    ]
    over = dict(selection, protected_resource_arns=[f"{table}{i}" for i in range(31)])
    assert backup_restore_testing_plan.validate(dict(good, selections=[over])) == [
        "selections[0].protected_resource_arns must hold 1-30 ARNs (AWS's limit), got 31"
    ]
    assert backup_restore_testing_plan.validate(
        dict(good, selections=[dict(selection, validation_window_hours=169)])
    ) == ["selections[0].validation_window_hours must be 0-168, got 169"]
    assert backup_restore_testing_plan.validate(dict(good, selections=[selection, selection])) == [
        "selections[1].name 'tables_1' is given twice"
    ]
    assert backup_restore_testing_plan.validate(dict(good, include_vaults=[], state="absent")) == []

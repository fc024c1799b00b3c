"""The IAM behaviours of the compatibility layer, in-process (no server): what a request is
authorized on, and the condition keys it carries, decided by ministack's own engine."""

from __future__ import annotations

import json

from localaws.compat import iam_action_names, iam_pass_role, iam_policy_arn, iam_principal_arn, iam_resource_arns
from localaws.compat.iam_request import Request

ACCOUNT = "000000000000"
MONITOR_ROLE = f"arn:aws:iam::{ACCOUNT}:role/orders-change-monitor"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/orders-change-monitor/orders-change-monitor"


def request(service: str, method: str = "POST", path: str = "/", body: dict | None = None, **params) -> Request:
    return Request(service, method, path, {}, json.dumps(body or {}).encode(), params, "us-east-1", ACCOUNT)


def _decide(policy: dict, action: str, resource: str, principal: str, context: dict | None = None) -> str:
    from ministack.core import iam_evaluator as ev

    iam_principal_arn.install()
    ctx = ev.EvalContext(
        principal_arn=principal,
        principal_type="AssumedRole" if ":assumed-role/" in principal else "User",
        principal_account=ACCOUNT,
        action=action,
        resource_arn=resource,
        region="us-east-1",
        service_context={k.lower(): v for k, v in (context or {}).items()},
    )
    return ev.evaluate(ctx, [ev.parse_policy_document(policy)]).decision


def test_an_assumed_role_session_is_its_role_for_aws_principal_arn():
    assert iam_principal_arn.role_arn(SESSION) == MONITOR_ROLE
    user = f"arn:aws:iam::{ACCOUNT}:user/ddbguard-operator"
    assert iam_principal_arn.role_arn(user) == user
    # The marker key's policy: GenerateMac only for the monitor's role, by aws:PrincipalArn.
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "kms:GenerateMac",
                "Resource": "*",
                "Condition": {"ArnEquals": {"aws:PrincipalArn": MONITOR_ROLE}},
            }
        ]
    }
    assert _decide(policy, "kms:GenerateMac", "*", SESSION) == "Allow"
    other = f"arn:aws:sts::{ACCOUNT}:assumed-role/orders-writer/app"
    assert _decide(policy, "kms:GenerateMac", "*", other) == "ImplicitDeny"


def test_passing_a_role_is_checked_with_the_service_it_is_passed_to():
    body = {"FunctionName": "orders-change-monitor", "Role": MONITOR_ROLE}
    rule = iam_pass_role.resolve(request("lambda", body=body), "lambda:CreateFunction")
    [check] = rule.checks
    assert (check.action, check.resource, check.context) == (
        "iam:PassRole",
        MONITOR_ROLE,
        {"iam:passedtoservice": "lambda.amazonaws.com"},
    )
    selection = {"BackupSelection": {"IamRoleArn": "arn:aws:iam::000000000000:role/ddbguard-backup"}}
    rule = iam_pass_role.resolve(
        request("backup", "PUT", "/backup/plans/p/selections/", selection), "backup:CreateBackupSelection"
    )
    assert rule.checks[0].context == {"iam:passedtoservice": "backup.amazonaws.com"}
    assert iam_pass_role.resolve(request("lambda", body={"FunctionName": "f"}), "lambda:CreateFunction") is None
    # Our policy's statement, evaluated: only to Lambda.
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": "arn:aws:iam::*:role/*-change-monitor",
                "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
            }
        ]
    }
    user = f"arn:aws:iam::{ACCOUNT}:user/op"
    to_lambda = {"iam:PassedToService": "lambda.amazonaws.com"}
    assert _decide(policy, "iam:PassRole", MONITOR_ROLE, user, to_lambda) == "Allow"
    to_backup = {"iam:PassedToService": "backup.amazonaws.com"}
    assert _decide(policy, "iam:PassRole", MONITOR_ROLE, user, to_backup) == "ImplicitDeny"


def test_attaching_a_policy_carries_iam_policy_arn():
    arn = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
    rule = iam_policy_arn.resolve(request("iam", PolicyArn=arn), "iam:AttachRolePolicy")
    assert rule.context == {"iam:policyarn": arn}
    assert iam_policy_arn.resolve(request("iam", PolicyArn=arn), "iam:CreateRole") is None


def test_backup_requests_are_authorized_on_their_vault_plan_or_recovery_point():
    vault = f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-vault:ddbguard-vault"
    point = f"arn:aws:backup:us-east-1:{ACCOUNT}:recovery-point:1234"

    def on(method, path, action, body=None):
        return iam_resource_arns.resolve(request("backup", method, path, body), action).resource

    assert on("GET", "/backup-vaults/ddbguard-vault", "backup:DescribeBackupVault") == vault
    air_gapped = on("PUT", "/logically-air-gapped-backup-vaults/lag", "backup:CreateLogicallyAirGappedBackupVault")
    assert air_gapped == vault.replace("ddbguard-vault", "lag")
    assert (
        on("GET", "/backup-vaults/ddbguard-vault/recovery-points/", "backup:ListRecoveryPointsByBackupVault") == vault
    )
    assert on("DELETE", f"/backup-vaults/ddbguard-vault/recovery-points/{point}", "backup:DeleteRecoveryPoint") == point
    assert on("GET", f"/tags/{point}", "backup:ListTags") == point
    assert on("GET", "/backup/plans/abc", "backup:GetBackupPlan").endswith(":backup-plan:abc")
    assert on("PUT", "/backup/plans/", "backup:CreateBackupPlan").endswith(":backup-plan:*")
    assert on("PUT", "/restore-jobs", "backup:StartRestoreJob", {"RecoveryPointArn": point}) == point


def test_restore_testing_calls_are_authorized_on_the_plan_and_pass_the_selections_role():
    from localaws.compat import backup

    plans = f"arn:aws:backup:us-east-1:{ACCOUNT}:restore-testing-plan"
    create = {"RestoreTestingPlan": {"RestoreTestingPlanName": "ddbguard_rt"}}
    rule = iam_resource_arns.resolve(
        request("backup", "PUT", "/restore-testing/plans", create), "backup:CreateRestoreTestingPlan"
    )
    assert rule.resource == f"{plans}:ddbguard_rt-*"
    backup.STORE.restore_testing_plans[f"{ACCOUNT}|us-east-1|ddbguard_rt"] = {
        "RestoreTestingPlanArn": f"{plans}:ddbguard_rt-abc"
    }
    try:
        rule = iam_resource_arns.resolve(
            request("backup", "GET", "/restore-testing/plans/ddbguard_rt/selections/s1"),
            "backup:GetRestoreTestingSelection",
        )
        assert rule.resource == f"{plans}:ddbguard_rt-abc"
    finally:
        backup.STORE.restore_testing_plans.clear()
    role = "arn:aws:iam::000000000000:role/ddbguard-backup"
    selection = {"RestoreTestingSelection": {"IamRoleArn": role}}
    rule = iam_pass_role.resolve(
        request("backup", "PUT", "/restore-testing/plans/ddbguard_rt/selections", selection),
        "backup:CreateRestoreTestingSelection",
    )
    assert (rule.checks[0].resource, rule.checks[0].context) == (role, {"iam:passedtoservice": "backup.amazonaws.com"})


def test_a_point_in_time_restore_needs_rights_on_the_table_it_creates():
    body = {"SourceTableName": "orders", "TargetTableName": "orders-restore-1"}
    rule = iam_resource_arns.resolve(request("dynamodb", body=body), "dynamodb:RestoreTableToPointInTime")
    assert rule.resource == f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"
    target = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders-restore-1"
    assert {(c.action, c.resource) for c in rule.checks} == {
        (a, target) for a in iam_resource_arns.RESTORE_TARGET_RIGHTS
    }


def test_alarm_calls_are_authorized_on_each_alarm_they_name():
    params = {"AlarmNames.member.1": "a-change-monitor-errors", "AlarmNames.member.2": "b"}
    rule = iam_resource_arns.resolve(request("monitoring", **params), "cloudwatch:DeleteAlarms")
    assert rule.resource.endswith(":alarm:a-change-monitor-errors")
    assert [c.resource.rsplit(":", 1)[1] for c in rule.checks] == ["b"]
    assert iam_resource_arns.resolve(request("monitoring"), "cloudwatch:DescribeAlarms") is None


def test_dashboard_calls_are_authorized_on_each_dashboard_they_name_without_a_region():
    put = iam_resource_arns.resolve(request("monitoring", DashboardName="ddbguard-dr"), "cloudwatch:PutDashboard")
    assert put.resource == f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/ddbguard-dr"
    get = iam_resource_arns.resolve(request("monitoring", DashboardName="x"), "cloudwatch:GetDashboard")
    assert get.resource == f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/x"
    params = {"DashboardNames.member.1": "a", "DashboardNames.member.2": "b"}
    rule = iam_resource_arns.resolve(request("monitoring", **params), "cloudwatch:DeleteDashboards")
    assert rule.resource.endswith(":dashboard/a") and [c.resource for c in rule.checks] == [
        f"arn:aws:cloudwatch::{ACCOUNT}:dashboard/b"
    ]


def test_eventbridge_target_calls_are_authorized_on_their_rule():
    for action in ("events:PutTargets", "events:RemoveTargets", "events:ListTargetsByRule"):
        rule = iam_resource_arns.resolve(request("events", body={"Rule": "t-change-monitor-canary"}), action)
        assert rule.resource == f"arn:aws:events:us-east-1:{ACCOUNT}:rule/t-change-monitor-canary"
    other = request("events", body={"Rule": "r", "EventBusName": "bus"})
    assert iam_resource_arns.resolve(other, "events:PutTargets").resource.endswith(":rule/bus/r")


def test_an_alias_call_is_authorized_on_the_alias_and_on_its_key():
    body = {"AliasName": "alias/ddbguard", "TargetKeyId": "k-1"}
    rule = iam_resource_arns.resolve(request("kms", body=body), "kms:CreateAlias")
    assert rule.resource == f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/ddbguard"
    assert [(c.action, c.resource) for c in rule.checks] == [
        ("kms:CreateAlias", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k-1")
    ]


def test_a_key_named_by_its_alias_is_authorized_on_the_key(monkeypatch):
    from ministack.services import kms

    alias_arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/it-key"
    monkeypatch.setattr(kms, "_aliases", {alias_arn: "k-2"})
    rule = iam_resource_arns.resolve(request("kms", body={"KeyId": "alias/it-key"}), "kms:DescribeKey")
    assert rule.resource == f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k-2"
    assert iam_resource_arns.resolve(request("kms", body={"KeyId": "alias/none"}), "kms:DescribeKey") is None


def test_stream_calls_are_authorized_on_the_stream():
    from ministack.services.dynamodb_streams import _encode_iterator

    stream = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders/stream/2026-12-05T14:00:00.000"
    for action in ("dynamodb:DescribeStream", "dynamodb:GetShardIterator"):
        assert (
            iam_resource_arns.resolve(request("dynamodbstreams", body={"StreamArn": stream}), action).resource == stream
        )
    iterator = _encode_iterator("orders", "shardId-1", 0, account_id=ACCOUNT, region="us-east-1", stream_arn=stream)
    rule = iam_resource_arns.resolve(
        request("dynamodbstreams", body={"ShardIterator": iterator}), "dynamodb:GetRecords"
    )
    assert rule.resource == stream
    assert iam_resource_arns.resolve(request("dynamodbstreams", body={}), "dynamodb:ListStreams") is None
    export = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders/export/01700000000000-abcd1234"
    assert (
        iam_resource_arns.resolve(request("dynamodb", body={"ExportArn": export}), "dynamodb:DescribeExport").resource
        == export
    )


def test_an_event_source_mapping_call_is_authorized_as_its_operation():
    path = "/2015-03-31/event-source-mappings/1234-abcd"
    assert iam_action_names.action_of("lambda", "GET", path) == "lambda:GetEventSourceMapping"
    assert iam_action_names.action_of("lambda", "PUT", path) == "lambda:UpdateEventSourceMapping"
    assert iam_action_names.action_of("lambda", "DELETE", path) == "lambda:DeleteEventSourceMapping"
    assert iam_action_names.action_of("lambda", "GET", "/2015-03-31/event-source-mappings/") is None
    assert iam_action_names.action_of("lambda", "POST", "/2015-03-31/functions") is None

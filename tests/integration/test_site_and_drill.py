"""The operator's path on a fresh local AWS: check, provision, re-run, drill, restart.

The tests of this module run in order against one emulator (module-scoped fixture).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from localaws import launcher, principals
from tests import iam_lint, report_rules
from tests.integration.conftest import ROOT, report_files, wait_for

pytestmark = pytest.mark.integration

TABLE = "ddbguard-demo"
DR_REGION = "us-west-2"
RECOVERY_ACCOUNT = principals.RECOVERY_ACCOUNT
FUNCTION = f"{TABLE}-change-monitor"


def resources(aws) -> dict[str, list]:
    """Names of everything site.yml may create, as the AWS APIs list them."""
    return {
        "tables": aws.client("dynamodb").list_tables()["TableNames"],
        "functions": [f["FunctionName"] for f in aws.client("lambda").list_functions()["Functions"]],
        "roles": [r["RoleName"] for r in aws.client("iam").list_roles()["Roles"]],
        "queues": aws.client("sqs").list_queues().get("QueueUrls", []),
        "aliases": [
            a["AliasName"] for a in aws.client("kms").list_aliases()["Aliases"] if "ddbguard" in a["AliasName"]
        ],
        "log_groups": [g["logGroupName"] for g in aws.client("logs").describe_log_groups()["logGroups"]],
        "alarms": [a["AlarmName"] for a in aws.client("cloudwatch").describe_alarms()["MetricAlarms"]],
        "dashboards": [d["DashboardName"] for d in aws.client("cloudwatch").list_dashboards()["DashboardEntries"]],
        "vaults": [v["BackupVaultName"] for v in aws.client("backup").list_backup_vaults()["BackupVaultList"]],
        "dr_vaults": [
            v["BackupVaultName"] for v in aws.client("backup", DR_REGION).list_backup_vaults()["BackupVaultList"]
        ],
        "plans": [p["BackupPlanName"] for p in aws.client("backup").list_backup_plans()["BackupPlansList"]],
        "topics": [t["TopicArn"] for t in aws.client("sns").list_topics()["Topics"]],
        "recovery_points": [j["RecoveryPointArn"] for j in aws.client("backup").list_backup_jobs()["BackupJobs"]],
    }


def test_check_mode_on_a_fresh_target_succeeds_and_creates_nothing(local_aws):
    before = resources(local_aws)
    run = local_aws.playbook("site.yml", "--check")
    assert run.recap()["failed"] == 0
    assert run.recap()["changed"] > 0, "check mode should report what it would create"
    assert resources(local_aws) == before


def test_bad_input_is_refused_before_any_aws_call(local_aws):
    before = resources(local_aws)
    bad_name = {"ddbguard_tables": [{"name": "bad name!", "hash_key_name": "pk"}]}
    run = local_aws.playbook("site.yml", "-e", json.dumps(bad_name), check=False)
    assert run.returncode != 0
    assert "ddbguard_tables[bad name!].name must be 3-255 characters" in run.stdout
    bad_event = {"ddbguard_tables": [{"name": TABLE, "hash_key_name": "pk", "protected_events": ["DELETE"]}]}
    run = local_aws.playbook("site.yml", "-e", json.dumps(bad_event), check=False)
    assert run.returncode != 0
    assert "value of protected_events must be one or more of" in run.stdout and "ddbguard_tables" in run.stdout
    for extra, said in (
        ({"dr_backup_air_gapped_min_retention_days": 400}, "dr_backup_air_gapped_max_retention_days must be from"),
        # no retention: the role's argument spec names the variable
        (
            {"dr_backup_air_gapped_max_retention_days": None},
            "argument 'dr_backup_air_gapped_max_retention_days' is of type",
        ),
        (
            {"dr_backup_air_gapped_recovery_account_ids": ["22222222222"]},
            "dr_backup_air_gapped_recovery_account_ids must be 12-digit account ids (got 22222222222)",
        ),
    ):
        run = local_aws.playbook("site.yml", "-e", json.dumps(extra), check=False)
        assert run.returncode != 0 and said in " ".join(run.stdout.split()), run.stdout[-2000:]
    # The account being protected is known from its credentials: refused after reading them
    # (a read), before anything is made.
    itself = {"dr_backup_air_gapped_recovery_account_ids": [principals.ACCOUNT]}
    run = local_aws.playbook("site.yml", "-e", json.dumps(itself), check=False)
    assert run.returncode != 0
    assert (
        f"dr_backup_air_gapped_recovery_account_ids names {principals.ACCOUNT}, the account being protected"
        in " ".join(run.stdout.split())
    )
    assert resources(local_aws) == before


def test_site_provisions_a_protected_table_and_its_monitor(local_aws):
    run = local_aws.playbook("site.yml")
    assert run.recap()["changed"] > 0
    ddb = local_aws.client("dynamodb")
    table = ddb.describe_table(TableName=TABLE)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["DeletionProtectionEnabled"] is True
    key_arn = table["SSEDescription"]["KMSMasterKeyArn"]
    assert table["SSEDescription"]["SSEType"] == "KMS"
    assert local_aws.client("kms").describe_key(KeyId=key_arn)["KeyMetadata"]["KeyManager"] == "CUSTOMER"
    pitr = ddb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert pitr["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 35

    groups = local_aws.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{FUNCTION}")["logGroups"]
    assert groups[0]["retentionInDays"] == 30 and groups[0]["kmsKeyId"] == key_arn

    mapping = local_aws.client("lambda").list_event_source_mappings(FunctionName=FUNCTION)["EventSourceMappings"][0]
    assert mapping["EventSourceArn"] == table["LatestStreamArn"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 3
    assert mapping["MaximumRecordAgeInSeconds"] == 3600
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"].endswith(f":{FUNCTION}-failures")


def test_site_provisions_the_backup_tier_and_escalation(local_aws):
    """What a fresh `make demo` must leave, read back from the target."""
    backup, kms = local_aws.client("backup"), local_aws.client("kms")
    vault = backup.describe_backup_vault(BackupVaultName="ddbguard-vault")
    assert kms.describe_key(KeyId=vault["EncryptionKeyArn"])["KeyMetadata"]["KeyManager"] == "CUSTOMER"
    policy = json.loads(backup.get_backup_vault_access_policy(BackupVaultName="ddbguard-vault")["Policy"])
    [deny] = policy["Statement"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": "*"}
    assert set(deny["Action"]) == {
        "backup:DeleteRecoveryPoint",
        "backup:UpdateRecoveryPointLifecycle",
        "backup:PutBackupVaultAccessPolicy",
        "backup:DeleteBackupVaultAccessPolicy",
    }

    [plan] = backup.list_backup_plans()["BackupPlansList"]
    [rule] = backup.get_backup_plan(BackupPlanId=plan["BackupPlanId"])["BackupPlan"]["Rules"]
    assert rule["ScheduleExpression"] == "cron(0 */12 * * ? *)" and rule["Lifecycle"]["DeleteAfterDays"] == 35
    copy, air_gapped_copy = rule["CopyActions"]
    dr_vault = local_aws.client("backup", DR_REGION).describe_backup_vault(BackupVaultName="ddbguard-vault")
    assert (
        copy["DestinationBackupVaultArn"] == dr_vault["BackupVaultArn"]
        and f":{DR_REGION}:" in copy["DestinationBackupVaultArn"]
    )
    dr_key = local_aws.client("kms", DR_REGION).describe_key(KeyId=dr_vault["EncryptionKeyArn"])["KeyMetadata"]
    assert dr_key["KeyManager"] == "CUSTOMER" and f":{DR_REGION}:" in dr_key["Arn"]
    # Account loss: every recovery point is also copied into the logically air-gapped vault,
    # locked in compliance mode by AWS, within whose retention the copy is kept.
    air_gapped = backup.describe_backup_vault(BackupVaultName="ddbguard-air-gapped")
    assert air_gapped["VaultType"] == "LOGICALLY_AIR_GAPPED_BACKUP_VAULT" and air_gapped["Locked"] is True
    assert (air_gapped["MinRetentionDays"], air_gapped["MaxRetentionDays"]) == (7, 365)
    assert air_gapped_copy == {
        "DestinationBackupVaultArn": air_gapped["BackupVaultArn"],
        "Lifecycle": {"DeleteAfterDays": 35},
    }

    table_arn = local_aws.client("dynamodb").describe_table(TableName=TABLE)["Table"]["TableArn"]
    [selection] = backup.list_backup_selections(BackupPlanId=plan["BackupPlanId"])["BackupSelectionsList"]
    chosen = backup.get_backup_selection(BackupPlanId=plan["BackupPlanId"], SelectionId=selection["SelectionId"])
    assert chosen["BackupSelection"]["Resources"] == [table_arn]
    role_arn = chosen["BackupSelection"]["IamRoleArn"]
    attached = local_aws.client("iam").list_attached_role_policies(RoleName=role_arn.split("/")[-1])["AttachedPolicies"]
    assert {p["PolicyName"] for p in attached} == {
        "AWSBackupServiceRolePolicyForBackup",
        "AWSBackupServiceRolePolicyForRestores",
    }
    points = backup.list_recovery_points_by_backup_vault(BackupVaultName="ddbguard-vault", ByResourceArn=table_arn)
    assert [p["Status"] for p in points["RecoveryPoints"]] == ["COMPLETED"]

    env = local_aws.client("lambda").get_function_configuration(FunctionName=FUNCTION)["Environment"]["Variables"]
    assert env["DDBGUARD_MODE"] == "undo+escalate"
    assert env["DDBGUARD_BACKUP_VAULT"] == "ddbguard-vault" and env["DDBGUARD_RESTORE_ROLE_ARN"] == role_arn
    topic = [
        t["TopicArn"]
        for t in local_aws.client("sns").list_topics()["Topics"]
        if t["TopicArn"].endswith(":ddbguard-alarms")
    ]
    attributes = local_aws.client("sns").get_topic_attributes(TopicArn=topic[0])["Attributes"]
    assert kms.describe_key(KeyId=attributes["KmsMasterKeyId"])["KeyMetadata"]["KeyManager"] == "CUSTOMER"
    alarms = local_aws.client("cloudwatch").describe_alarms()["MetricAlarms"]
    assert {a["AlarmName"] for a in alarms} == {
        f"{FUNCTION}-errors",
        f"{FUNCTION}-failed-records",
        f"{FUNCTION}-iterator-age",
        f"{FUNCTION}-not-undone",
        f"{FUNCTION}-maintenance-refused",
        f"{FUNCTION}-canary-failed",
        f"{FUNCTION}-canary-silent",
        "ddbguard-vault-failed-backup-jobs",
        "ddbguard_restore_test-validation-failed",
        "ddbguard-restore-validator-errors",
    }
    assert all(a["AlarmActions"] == topic for a in alarms)


def _document(value):
    return json.loads(value) if isinstance(value, str) else value


def test_every_policy_we_create_is_least_privilege_and_lints_clean(local_aws):
    """Read back every policy document site.yml deployed; lint each with our rules and parliament."""
    iam, kms = local_aws.client("iam"), local_aws.client("kms")
    documents = {}
    for role in iam.list_roles()["Roles"]:
        if role["RoleName"] == principals.BREAK_GLASS_ROLE:
            continue  # the launcher's (the account's), not site.yml's
        documents[("trust", role["RoleName"])] = _document(role["AssumeRolePolicyDocument"])
        for name in iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]:
            policy = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=name)["PolicyDocument"]
            documents[("execution", f"{role['RoleName']}/{name}")] = _document(policy)
    for region in ("us-east-1", DR_REGION):
        keys = [
            a for a in local_aws.client("kms", region).list_aliases()["Aliases"] if a["AliasName"] == "alias/ddbguard"
        ]
        key = local_aws.client("kms", region).get_key_policy(KeyId=keys[0]["TargetKeyId"], PolicyName="default")
        documents[("key", region)] = _document(key["Policy"])
        vault = local_aws.client("backup", region).get_backup_vault_access_policy(BackupVaultName="ddbguard-vault")
        documents[("vault", region)] = _document(vault["Policy"])
    assert {kind for kind, _ in documents} == {"trust", "execution", "key", "vault"}
    assert ("execution", f"{FUNCTION}/change-monitor") in documents
    for (kind, name), document in documents.items():
        if kind == "execution":
            assert iam_lint.problems(document) == [], name
        if kind == "trust":
            [statement] = iam_lint.statements(document)
            assert statement["Action"] == "sts:AssumeRole" and "aws:SourceAccount" in json.dumps(statement["Condition"])
        assert iam_lint.unexplained_findings(kind, document) == [], (kind, name)
    [key] = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/ddbguard"]
    assert kms.get_key_rotation_status(KeyId=key["TargetKeyId"])["KeyRotationEnabled"] is True


def test_the_execution_role_is_least_privilege(local_aws):
    iam = local_aws.client("iam")
    policy = iam.get_role_policy(RoleName=FUNCTION, PolicyName="change-monitor")["PolicyDocument"]
    if isinstance(policy, str):
        policy = json.loads(policy)
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all("*" not in a for a in actions), statement
        resources_ = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        # dynamodb:ListStreams is the one action here that AWS cannot scope to a resource.
        assert all(r != "*" for r in resources_) or actions == ["dynamodb:ListStreams"], statement
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    pass_role = by_sid["PassTheRestoreRoleToAwsBackupOnly"]
    assert pass_role["Action"] == ["iam:PassRole"] and pass_role["Resource"].endswith(":role/ddbguard-backup")
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}}
    assert by_sid["FindRecoveryPointsOfTheTable"]["Resource"].endswith(":backup-vault:ddbguard-vault")
    assert by_sid["ReadTheTableStream"]["Resource"].endswith(f":table/{TABLE}/stream/*")
    assert by_sid["UndoChangesInTheTable"]["Resource"].endswith(f":table/{TABLE}")
    assert "kms:ViaService" in by_sid["UseTheTableKeyThroughDynamoDBAndSQS"]["Condition"]["StringEquals"]


def test_a_second_run_reports_no_change(local_aws):
    assert local_aws.playbook("site.yml").recap()["changed"] == 0


def test_check_mode_after_provisioning_reports_no_change(local_aws):
    assert local_aws.playbook("site.yml", "--check").recap()["changed"] == 0


def test_check_diff_shows_what_a_changed_monitor_setting_would_change(local_aws):
    """--check --diff says what would change in the function, and changes nothing."""
    entry = {"name": TABLE, "hash_key_name": "pk", "ttl_attribute_name": "expires_at"}
    entry["monitor_protected_events"] = ["REMOVE"]
    run = local_aws.playbook("site.yml", "--check", "--diff", "-e", json.dumps({"ddbguard_tables": [entry]}))
    assert '-        "DDBGUARD_PROTECTED_EVENTS": "REMOVE,MODIFY",' in run.stdout, run.stdout[-4000:]
    assert '+        "DDBGUARD_PROTECTED_EVENTS": "REMOVE",' in run.stdout
    deployed = local_aws.client("lambda").get_function_configuration(FunctionName=FUNCTION)
    assert deployed["Environment"]["Variables"]["DDBGUARD_PROTECTED_EVENTS"] == "REMOVE,MODIFY"
    # Nothing differs: no diff, nothing changed.
    again = local_aws.playbook("site.yml", "--check", "--diff")
    assert again.recap()["changed"] == 0 and "DDBGUARD_PROTECTED_EVENTS" not in again.stdout


REPORT_FIELDS = {
    "drill_id",
    "target",
    "commit",
    "started_at",
    "finished_at",
    "rpo_seconds",
    "tiers",
    "checks",
    "not_proven_here",
}


def drill(aws, tmp_path, *extra: str, check: bool = True):
    run = aws.playbook("playbooks/verify.yml", "-e", f"ddbguard_report_dir={tmp_path}", *extra, check=check)
    [report] = [r for r in report_files(tmp_path) if "drill_id" in r]
    # Whatever the drill found, no check passes on work it did not do.
    assert report_rules.passes_without_measurement(report) == [], report["checks"]
    assert report_rules.not_run_without_reason(report) == [], report["checks"]
    return run, report


def canaries_and_scratch_left(aws) -> tuple[list, list]:
    ddb = aws.client("dynamodb")
    canaries = [i for i in ddb.scan(TableName=TABLE)["Items"] if i["pk"]["S"].startswith("ddbguard-canary#")]
    scratch = [
        t
        for region in ("us-east-1", DR_REGION)
        for t in aws.client("dynamodb", region=region).list_tables()["TableNames"]
        if "-drill-" in t
    ]
    recovery = aws.client("dynamodb", who="recovery_auditor")  # the recovery account's
    scratch += [t for t in recovery.list_tables()["TableNames"] if "-drill-" in t]
    return canaries, scratch


def test_before_the_plan_has_run_the_dr_copy_check_is_not_run_with_its_reason(local_aws, tmp_path):
    """No scheduled backup has run on a fresh target: there is no plan's copy to check."""
    run, report = drill(local_aws, tmp_path, "-e", json.dumps({"dr_drill_tiers": ["protection"]}))
    [copy] = [c for c in report["checks"] if c["name"] == "the DR-region vault holds a copy"]
    assert copy["status"] == "not-run" and "no scheduled backup has run" in copy["measured"], copy
    assert report["tiers"]["protection"]["status"] == "incomplete"
    assert "the DR-region vault holds a copy" in report["tiers"]["protection"]["not_run"]


def test_the_drill_proves_every_tier_and_reports_it(local_aws, tmp_path):
    # The plan's first scheduled run (the local AWS runs it when asked, docs/emulator.md row 35).
    [planned] = local_aws.run_plan("ddbguard-plan")
    assert [c["State"] for c in planned["copies"]] == ["COMPLETED", "COMPLETED"], planned
    run, report = drill(local_aws, tmp_path)
    assert "Drill PASSED on ddbguard-demo" in run.stdout
    assert set(report) >= REPORT_FIELDS and report["target"] == "local" and len(report["commit"]) == 40
    # Every check passes, each on what this run measured.
    assert [c for c in report["checks"] if c["status"] != "pass"] == []
    [copy] = [c for c in report["checks"] if c["name"] == "the DR-region vault holds a copy"]
    assert f"1 copies by the plan in {DR_REGION}" in copy["measured"], copy
    assert report_rules.passes_without_measurement(report) == []
    assert report_rules.not_run_without_reason(report) == []
    [copy_back] = [
        c for c in report["checks"] if c["name"] == "copy-back puts the restored canaries back in the live table"
    ]
    assert '"copied": 1' in copy_back["measured"], copy_back
    assert {c["name"] for c in report["checks"]} >= {
        "preflight",
        "item undo after a delete",
        "item undo after a modification",
        "item undo of an item of almost 400 KB",
        "an unprotected insert is left alone",
        "the monitor logged its decisions",
        "a recovery point restores the table as it was at backup time",
        "copy-back puts the restored canaries back in the live table",
        "a point-in-time restore holds the table as it was at T",
        "a window of damage is rolled back in place, and a later write kept",
        "a restore test of the newest recovery point matches the table's content at that point",
        "a copy in the DR region restores the table there",
        "every principal of the source account is refused while the recovery runs",
        "the recovery account restores the air-gapped copy, the source account denied",
        "DeleteTable is refused by deletion protection",
        "DeleteRecoveryPoint is refused by the vault policy",
        "the DR-region vault holds a copy",
        "point-in-time recovery window",
        "cleanup leaves no canary and no scratch table",
    }
    tiers = report["tiers"]
    rto = tiers["item_undo"]["rto_seconds"]
    assert 0 <= rto["p50"] <= rto["p95"] <= rto["max"] < 30 and tiers["item_undo"]["changes"] == 3
    assert tiers["restore_job"]["rto_seconds"] > 0 and tiers["restore_job"]["items_compared"] == 4
    assert tiers["point_in_time"]["rto_seconds"] > 0 and tiers["point_in_time"]["items_compared"] == 3
    window = tiers["window_rollback"]
    assert window["rto_seconds"] > 0 and window["items_compared"] == 4 and window["items_rolled_back"] == 3
    assert window["source"] == "stream"
    # AWS Backup's restore test of the table, started by the drill, validated by the function.
    restore_test = tiers["restore_test"]
    assert restore_test["status"] == "SUCCESSFUL" and restore_test["rto_seconds"] > 0, restore_test
    assert "items, content digest" in restore_test["message"], restore_test
    # The drill made the copy it checks, restored it in the DR region and compared every canary.
    region = tiers["region_loss"]
    assert region["status"] == "pass" and region["dr_region"] == DR_REGION, region
    assert region["copy_seconds"] >= 0 and region["rto_seconds"] > 0 and region["items_compared"] == 4
    [copied] = [c for c in report["checks"] if c["name"] == "a copy in the DR region restores the table there"]
    assert f"restored in {DR_REGION}" in copied["measured"] and "all equal" in copied["measured"], copied
    # With every principal of this account denied, the recovery account restored the drill's
    # copy in the air-gapped vault into itself, and every canary was as at backup time.
    account = tiers["account_loss"]
    assert account["status"] == "pass" and account["source_denied"] == "pass", account
    assert (
        account["recovery_account"] == RECOVERY_ACCOUNT
        and account["rto_seconds"] > 0
        and account["items_compared"] == 4
    )
    [restored] = [c for c in report["checks"] if c["name"].startswith("the recovery account restores")]
    assert (
        f"restored by account {RECOVERY_ACCOUNT} into arn:aws:dynamodb:us-east-1:{RECOVERY_ACCOUNT}:table/"
        in restored["measured"]
    )
    assert "all equal" in restored["measured"], restored
    assert tiers["protection"] == {"status": "pass", "not_run": []}
    assert report["rpo_seconds"] >= 0
    assert {"name", "status", "measured", "target"} <= set(report["checks"][0])
    assert report["not_proven_here"], "the local target cannot prove everything; the report must say what"
    markdown = (tmp_path / f"drill-{TABLE}-{report['drill_id']}.md").read_text()
    assert "PASSED" in markdown and "## Timeline" in markdown and "## Not proven here" in markdown
    assert canaries_and_scratch_left(local_aws) == ([], [])


def status(aws, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "tools/status.py", *args],
        cwd=ROOT,
        env=aws.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_make_status_says_every_table_is_protected_after_the_demo(local_aws):
    run = status(local_aws)
    assert run.returncode == 0, run.stdout + run.stderr
    [line] = [text for text in run.stdout.splitlines() if text.startswith(f"{TABLE}  ")]
    assert line.startswith(f"{TABLE}  OK  stream NEW_AND_OLD_IMAGES")
    for part in (
        "deletion protection on",
        "monitor undo+escalate, starts",
        "trigger Enabled",
        "canary passed",
        "restore test SUCCESSFUL",
        "alarms: none in ALARM",
    ):
        assert part in line, line
    assert "1 table(s): 1 protected, 0 with problems" in run.stdout
    doc = json.loads(status(local_aws, "--json").stdout)
    [table] = doc["tables"]
    assert doc["ok"] is True and doc["problems"] == [] and table["pitr"] == "ENABLED"
    assert table["last_recovery_point"] and table["dr_copy"] and table["selection"] == TABLE


def broken_status(aws) -> str:
    run = status(aws)
    assert run.returncode == 1, run.stdout + run.stderr
    return run.stdout


def test_make_status_names_a_removed_selection(local_aws):
    backup = local_aws.client("backup")
    [plan] = [p for p in backup.list_backup_plans()["BackupPlansList"] if p["BackupPlanName"] == "ddbguard-plan"]
    [selection] = backup.list_backup_selections(BackupPlanId=plan["BackupPlanId"])["BackupSelectionsList"]
    backup.delete_backup_selection(BackupPlanId=plan["BackupPlanId"], SelectionId=selection["SelectionId"])
    try:
        out = broken_status(local_aws)
        assert f"PROBLEM {TABLE}: no selection of the table in plan ddbguard-plan" in out, out
    finally:
        assert local_aws.playbook("site.yml").recap()["changed"] > 0, "site.yml puts the selection back"
    assert status(local_aws).returncode == 0


def test_make_status_names_a_disabled_trigger(local_aws):
    lam = local_aws.client("lambda")
    uuid = lam.list_event_source_mappings(FunctionName=FUNCTION)["EventSourceMappings"][0]["UUID"]
    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    try:
        out = broken_status(local_aws)
    finally:
        lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    # Disabling, then Disabled: either way nothing is undone.
    assert f"PROBLEM {TABLE}: the trigger is Disabl" in out and "no change is seen or undone" in out, out


def test_make_status_names_a_monitor_that_cannot_start(local_aws):
    lam = local_aws.client("lambda")
    env = lam.get_function_configuration(FunctionName=FUNCTION)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=FUNCTION, Environment={"Variables": {**env, "DDBGUARD_VERSION_ATTRIBUTE": "_ddbguard_undo"}}
    )
    try:
        out = broken_status(local_aws)
    finally:
        lam.update_function_configuration(FunctionName=FUNCTION, Environment={"Variables": env})
    assert f"PROBLEM {TABLE}: the monitor {FUNCTION} does not start" in out, out
    assert "dr_monitor_version_attribute must differ" in out or "VERSION_ATTRIBUTE" in out, out


def decisions_of(aws, key: dict) -> list[dict]:
    """The monitor's log lines about one key (stream decisions and operations)."""
    logs = aws.client("logs")
    pages = logs.get_paginator("filter_log_events").paginate(logGroupName=f"/aws/lambda/{FUNCTION}")
    out = []
    for page in pages:
        for event in page["events"]:
            try:
                doc = json.loads(event["message"])
            except ValueError:
                continue
            if isinstance(doc, dict) and doc.get("key") == key:
                out.append(doc)
    return out


def test_the_canary_runs_on_its_schedule_and_its_alarm_goes_off_when_the_trigger_is_disabled(local_aws):
    """The canary's rule sends the monitor its check; with the trigger disabled the check
    fails, its alarm goes off and make status names it."""
    events = local_aws.client("events", who="auditor")
    rule = events.describe_rule(Name=f"{FUNCTION}-canary")
    assert rule["State"] == "ENABLED" and rule["ScheduleExpression"] == "rate(60 minutes)"
    [target] = events.list_targets_by_rule(Rule=f"{FUNCTION}-canary")["Targets"]
    assert target["Arn"].endswith(f":function:{FUNCTION}")
    payload = {**json.loads(target["Input"]), "wait_seconds": 5}  # as the rule sends it, with a shorter wait
    assert payload["ddbguard"] == "canary" and payload["table"] == TABLE
    lam = local_aws.client("lambda")
    uuid = lam.list_event_source_mappings(FunctionName=FUNCTION)["EventSourceMappings"][0]["UUID"]
    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    try:
        answer = local_aws.client("lambda", who="operator").invoke(
            FunctionName=FUNCTION, Payload=json.dumps(payload).encode()
        )
        result = json.loads(answer["Payload"].read())
    finally:
        lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    assert result["status"] == "fail" and "was not undone within 5 s" in result["reason"], result
    # The trigger, enabled again, reads the canary's records late: its canary stays deleted.
    wait_for(lambda: any(line.get("reason") == "own-write" for line in decisions_of(local_aws, result["key"])), 60)
    time.sleep(5)
    assert canaries_and_scratch_left(local_aws)[0] == []
    cloudwatch = local_aws.client("cloudwatch")

    def alarm():
        [canary] = cloudwatch.describe_alarms(AlarmNames=[f"{FUNCTION}-canary-failed"])["MetricAlarms"]
        return canary if canary["StateValue"] == "ALARM" else None

    assert wait_for(alarm, timeout=60, what="the canary's alarm to go off")["AlarmActions"]
    out = broken_status(local_aws)
    assert f"PROBLEM {TABLE}: the last canary check failed" in out, out
    assert f"alarm {FUNCTION}-canary-failed is in ALARM" in out, out


ALARMS = (
    "errors",
    "failed-records",
    "iterator-age",
    "not-undone",
    "maintenance-refused",
    "canary-failed",
    "canary-silent",
)
ALARM_STATES = {"OK", "ALARM", "INSUFFICIENT_DATA"}


def test_the_dashboard_shows_every_table_and_make_dashboard_draws_this_runs_data(local_aws):
    body = json.loads(
        local_aws.client("cloudwatch", who="auditor").get_dashboard(DashboardName="ddbguard-dr")["DashboardBody"]
    )
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert [t for t in titles if t.startswith(f"{TABLE}: ")] == [
        f"{TABLE}: changes undone, superseded, not undone, failed; the canary; the restore test",
        f"{TABLE}: iterator age, the canary's undo latency (ms) and the RPO target",
        f"{TABLE}: monitor errors and records that failed every retry",
        f"{TABLE}: alarms",
    ]
    [lag] = [w for w in body["widgets"] if "iterator age" in w["properties"]["title"]]
    assert lag["properties"]["metrics"] == [
        ["AWS/Lambda", "IteratorAge", "FunctionName", FUNCTION],
        ["ddbguard", "UndoLatency", "Table", TABLE],
    ]
    run = subprocess.run(
        [sys.executable, "tools/dashboard.py", "--hours", "1"],
        cwd=ROOT,
        env=local_aws.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    # The drill's canaries were undone by the monitor: its EMF counts are on the dashboard.
    [undone] = [line for line in run.stdout.splitlines() if line.strip().startswith("Undone (Sum)")]
    assert "(no data)" not in undone and " sum 0 " not in undone, run.stdout
    states = {line.split()[-1]: line.split()[0] for line in run.stdout.splitlines() if "-change-monitor-" in line}
    assert set(states) == {f"{FUNCTION}-{a}" for a in ALARMS} and set(states.values()) <= ALARM_STATES, run.stdout


def test_make_logs_shows_the_monitors_decisions(local_aws):
    env = local_aws.env()
    run = subprocess.run(
        [sys.executable, "tools/logs.py", "--no-follow", "--since", "30", "--outcome", "applied"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = run.stdout.splitlines()
    assert any("REMOVE" in line and "restore-deleted" in line and line.endswith("-> applied") for line in lines)
    assert all(line.endswith("-> applied") for line in lines)
    assert any("retire-canaries" in line for line in lines), "the drill's cleanup is in the log too"


def test_the_drill_fails_and_says_why_when_the_monitor_is_disabled(local_aws, tmp_path):
    lam = local_aws.client("lambda")
    uuid = lam.list_event_source_mappings(FunctionName=FUNCTION)["EventSourceMappings"][0]["UUID"]
    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    try:
        run, report = drill(local_aws, tmp_path, check=False)
    finally:
        lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    assert run.returncode != 0 and "Recovery drill FAILED" in run.stdout
    [preflight] = [c for c in report["checks"] if c["name"] == "preflight"]
    assert preflight["status"] == "fail" and "its stream trigger, enabled" in preflight["measured"]
    assert report["passed"] is False and canaries_and_scratch_left(local_aws) == ([], [])


def test_the_drill_fails_and_says_why_when_the_monitor_cannot_start(local_aws, tmp_path):
    """Someone changes the function's environment by hand: every invocation fails at start-up."""
    lam = local_aws.client("lambda")
    env = lam.get_function_configuration(FunctionName=FUNCTION)["Environment"]["Variables"]
    lam.update_function_configuration(
        FunctionName=FUNCTION, Environment={"Variables": {**env, "DDBGUARD_VERSION_ATTRIBUTE": "_ddbguard_undo"}}
    )
    try:
        run, report = drill(local_aws, tmp_path, check=False)
    finally:
        lam.update_function_configuration(FunctionName=FUNCTION, Environment={"Variables": env})
    assert run.returncode != 0 and "Recovery drill FAILED" in run.stdout
    [preflight] = [c for c in report["checks"] if c["name"] == "preflight"]
    assert preflight["status"] == "fail" and "a monitor that starts" in preflight["measured"]
    # Someone is told: the failed start-ups are Lambda errors, and the errors alarm goes off.
    cloudwatch = local_aws.client("cloudwatch")

    def alarm():
        [errors] = cloudwatch.describe_alarms(AlarmNames=[f"{FUNCTION}-errors"])["MetricAlarms"]
        return errors if errors["StateValue"] == "ALARM" else None

    errors = wait_for(alarm, timeout=60, what="the errors alarm to go off")
    assert errors["AlarmActions"] and errors["AlarmActions"][0].startswith("arn:aws:sns:")
    assert local_aws.playbook("site.yml").recap()["changed"] == 0, "the environment is back as deployed"


def test_the_drill_fails_and_says_why_when_no_copy_reaches_the_dr_region(local_aws, tmp_path):
    """A DR region whose vault does not exist: the copy job ends FAILED, and the drill fails
    on the region-loss check, with AWS's reason; nothing is left in either region."""
    tiers = json.dumps({"dr_drill_tiers": ["restore_job", "region_loss"]})
    run, report = drill(local_aws, tmp_path, "-e", "dr_backup_dr_region=eu-west-1", "-e", tiers, check=False)
    assert run.returncode != 0 and "Recovery drill FAILED" in run.stdout
    [copied] = [c for c in report["checks"] if c["name"] == "a copy in the DR region restores the table there"]
    assert copied["status"] == "fail", copied
    assert "FAILED" in copied["measured"] and "does not exist in eu-west-1" in copied["measured"], copied
    assert report["tiers"]["region_loss"]["status"] == "fail" and report["tiers"]["region_loss"]["rto_seconds"] is None
    assert canaries_and_scratch_left(local_aws) == ([], [])


def _vault_arn(aws, name: str, region: str = "us-east-1") -> str:
    return aws.client("backup", region=region).describe_backup_vault(BackupVaultName=name)["BackupVaultArn"]


def test_the_drill_fails_and_says_why_when_a_restored_canary_differs(local_aws, tmp_path):
    """Copies that come out corrupted, in the DR region's vault and in the air-gapped vault
    (the local target's fault, localaws/controls.py): each tier restores its copy, finds the
    canaries changed, and fails naming them; nothing is left behind."""
    vaults = [_vault_arn(local_aws, "ddbguard-vault", DR_REGION), _vault_arn(local_aws, "ddbguard-air-gapped")]
    for vault in vaults:
        local_aws.corrupt_copies(vault, "ddbguard-canary#")
    try:
        tiers = json.dumps({"dr_drill_tiers": ["restore_job", "region_loss", "account_loss"]})
        run, report = drill(local_aws, tmp_path, "-e", tiers, check=False)
    finally:
        for vault in vaults:
            local_aws.corrupt_copies(vault, "ddbguard-canary#", corrupt=False)
    assert run.returncode != 0 and "Recovery drill FAILED" in run.stdout
    checks = {c["name"]: c for c in report["checks"]}
    for name in (
        "a copy in the DR region restores the table there",
        "the recovery account restores the air-gapped copy, the source account denied",
    ):
        assert checks[name]["status"] == "fail", checks[name]
        assert "differ: ddbguard-canary#" in checks[name]["measured"], checks[name]
    assert checks["a recovery point restores the table as it was at backup time"]["status"] == "pass"
    assert report["tiers"]["region_loss"]["status"] == "fail" and report["tiers"]["account_loss"]["status"] == "fail"
    assert canaries_and_scratch_left(local_aws) == ([], [])


def test_the_drill_fails_and_says_why_when_the_air_gapped_vault_is_not_shared(local_aws, tmp_path):
    """The recovery account is taken off the share: its restore is refused, and the
    account-loss tier fails with AWS's reason."""
    ram = local_aws.client("ram", who="operator")
    [share] = ram.get_resource_shares(resourceOwner="SELF", name="ddbguard-air-gapped")["resourceShares"]
    ram.disassociate_resource_share(resourceShareArn=share["resourceShareArn"], principals=[RECOVERY_ACCOUNT])
    try:
        tiers = json.dumps({"dr_drill_tiers": ["restore_job", "account_loss"]})
        run, report = drill(local_aws, tmp_path, "-e", tiers, check=False)
    finally:
        # Shared again: a new invitation, which the next drill's recovery accepts.
        ram.associate_resource_share(resourceShareArn=share["resourceShareArn"], principals=[RECOVERY_ACCOUNT])
    assert run.returncode != 0 and "Recovery drill FAILED" in run.stdout
    [restored] = [c for c in report["checks"] if c["name"].startswith("the recovery account restores")]
    assert restored["status"] == "fail", restored
    assert "could not restore the copy" in restored["measured"] and "is not shared with account" in restored["measured"]
    assert (
        report["tiers"]["account_loss"]["status"] == "fail" and report["tiers"]["account_loss"]["rto_seconds"] is None
    )
    assert canaries_and_scratch_left(local_aws) == ([], [])


def test_a_dr_region_equal_to_the_tables_is_refused_before_the_drill_writes(local_aws, tmp_path):
    run = local_aws.playbook(
        "playbooks/verify.yml",
        "-e",
        f"ddbguard_report_dir={tmp_path}",
        "-e",
        "dr_backup_dr_region=us-east-1",
        check=False,
    )
    assert run.returncode != 0
    assert "dr_drill_dr_region must be a region other than dr_drill_region (us-east-1)" in run.stdout, run.stdout[
        -2000:
    ]
    assert canaries_and_scratch_left(local_aws) == ([], [])


def test_the_drill_fails_and_says_why_when_the_restore_job_cannot_start(local_aws, tmp_path):
    # The operator may pass the backup role only (iam:PassRole): AWS refuses the job itself.
    run, report = drill(local_aws, tmp_path, "-e", "dr_drill_restore_role_name=no-such-role", check=False)
    assert run.returncode != 0 and "Recovery drill FAILED" in run.stdout
    assert "is not authorized to perform: iam:PassRole" in report["failure"], report["failure"]
    assert canaries_and_scratch_left(local_aws) == ([], [])


def test_a_restart_keeps_everything_and_the_drill_still_passes(local_aws, tmp_path):
    assert launcher.stop(local_aws.target)["action"] == "stopped"
    assert launcher.start(local_aws.target)["action"] == "started"
    assert local_aws.playbook("site.yml").recap()["changed"] == 0
    # The tiers whose state a restart could lose: the monitor and its trigger, the vault and
    # its recovery points, the RAM share (kept with AWS Backup's state) and the recovery account.
    tiers = json.dumps({"dr_drill_tiers": ["item_undo", "restore_job", "account_loss"]})
    _run, report = drill(local_aws, tmp_path, "-e", tiers)
    assert report["passed"] is True and report["tiers"]["account_loss"]["status"] == "pass"


# Last: it removes the vault policy.
def test_the_drill_fails_and_says_why_when_the_vault_policy_is_missing(local_aws, tmp_path):
    """Only the break-glass principal (the local inventory names it) may remove the policy;
    the launcher made it, and only the operator may assume it (localaws/principals.py)."""
    local_aws.break_glass_client("backup").delete_backup_vault_access_policy(BackupVaultName="ddbguard-vault")
    tiers = json.dumps({"dr_drill_tiers": ["restore_job", "protection"]})
    run, report = drill(local_aws, tmp_path, "-e", tiers, check=False)
    assert run.returncode != 0 and "Recovery drill FAILED" in run.stdout
    [check] = [c for c in report["checks"] if c["name"] == "DeleteRecoveryPoint is refused by the vault policy"]
    assert check["status"] == "fail" and "DELETED" in check["measured"]
    assert report["tiers"]["protection"]["status"] == "fail"
    # make status names it too, and exits non-zero.
    run = status(local_aws)
    assert run.returncode == 1 and "PROBLEM vault ddbguard-vault: no access policy" in run.stdout, run.stdout

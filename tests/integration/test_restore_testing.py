"""Restore testing, end to end on the local AWS: site.yml makes the plan, its selection, the
validation function and its rule; a scheduled run (the control of row 38) restores the
newest recovery point; the function compares the restored table with a full export of the
source at the recovery point's time and reports with PutRestoreValidationResult.

The tests of this module run in order against one emulator (module-scoped fixture).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.integration.conftest import ROOT, wait_for

pytestmark = pytest.mark.integration

TABLE = "ddbguard-demo"
PLAN = "ddbguard_restore_test"
FUNCTION = "ddbguard-restore-validator"
RULE = f"{FUNCTION}-on-restore-test"
ALARM = f"{PLAN}-validation-failed"


def _put_items(aws, prefix: str, count: int) -> None:
    ddb = aws.client("dynamodb", who="writer")
    for i in range(count):
        ddb.put_item(
            TableName=TABLE, Item={"pk": {"S": f"{prefix}-{i:03d}"}, "n": {"N": str(i)}, "tags": {"SS": ["a", "b"]}}
        )


def _validated(aws, job_id: str, timeout: float = 120.0) -> dict:
    backup = aws.client("backup", who="auditor")

    def final():
        job = backup.describe_restore_job(RestoreJobId=job_id)
        return job if job.get("ValidationStatus") in ("SUCCESSFUL", "FAILED", "TIMED_OUT") else None

    return wait_for(final, timeout=timeout, what=f"the validation of restore job {job_id}")


def test_site_makes_the_plan_its_selection_the_function_and_its_rule(local_aws):
    local_aws.playbook("site.yml")
    backup = local_aws.client("backup", who="auditor")
    plan = backup.get_restore_testing_plan(RestoreTestingPlanName=PLAN)["RestoreTestingPlan"]
    assert plan["ScheduleExpression"] == "cron(0 5 ? * * *)"
    assert plan["RecoveryPointSelection"]["Algorithm"] == "LATEST_WITHIN_WINDOW"
    assert plan["RecoveryPointSelection"]["SelectionWindowDays"] == 1
    table_arn = local_aws.client("dynamodb", who="auditor").describe_table(TableName=TABLE)["Table"]["TableArn"]
    selection = backup.get_restore_testing_selection(
        RestoreTestingPlanName=PLAN, RestoreTestingSelectionName="ddbguard_tables_1"
    )["RestoreTestingSelection"]
    assert selection["ProtectedResourceArns"] == [table_arn]
    assert selection["ValidationWindowHours"] == 24
    assert selection["RestoreMetadataOverrides"]["encryptionType"] == "KMS"
    env = local_aws.client("lambda", who="auditor").get_function_configuration(FunctionName=FUNCTION)
    assert env["Environment"]["Variables"]["DDBGUARD_RESTORE_TESTING_PLAN_ARNS"] == plan["RestoreTestingPlanArn"]
    events = local_aws.client("events", who="auditor")
    pattern = json.loads(events.describe_rule(Name=RULE)["EventPattern"])
    assert pattern["detail"]["restoreTestingPlanArn"] == [plan["RestoreTestingPlanArn"]]
    assert pattern["detail-type"] == ["Restore Job State Change"]
    [target] = events.list_targets_by_rule(Rule=RULE)["Targets"]
    assert target["Arn"].endswith(f":function:{FUNCTION}")
    assert local_aws.playbook("site.yml").recap()["changed"] == 0


def test_a_restore_test_is_validated_successful_against_the_source_at_the_recovery_points_time(local_aws):
    _put_items(local_aws, "before", 40)
    [run] = local_aws.run_plan("ddbguard-plan")  # the recovery point the test restores: 40 items
    assert run
    _put_items(local_aws, "after", 7)  # written after the recovery point: not in the reference
    [test] = local_aws.run_restore_test()
    job = _validated(local_aws, test["restore_job_id"])
    assert job["ValidationStatus"] == "SUCCESSFUL", job.get("ValidationStatusMessage")
    assert job["ValidationStatusMessage"].startswith("40 items, content digest ")
    assert job["CreatedResourceArn"].split("/")[-1].startswith("awsbackup-restore-test-")
    run = subprocess.run(
        [sys.executable, "tools/status.py"], cwd=ROOT, env=local_aws.env(), capture_output=True, text=True, timeout=120
    )
    assert "restore test SUCCESSFUL" in run.stdout, run.stdout
    # The restored table is encrypted with the customer managed key, as the source is.
    restored = local_aws.client("dynamodb", who="auditor").describe_table(
        TableName=job["CreatedResourceArn"].split("/")[-1]
    )["Table"]
    assert restored.get("SSEDescription", {}).get("SSEType") == "KMS"


def test_a_restored_table_with_one_item_changed_fails_validation_and_raises_the_alarm(local_aws):
    events = local_aws.client("events")
    events.disable_rule(Name=RULE)  # the test changes the restored table before the function reads it
    try:
        [test] = local_aws.run_restore_test()
    finally:
        events.enable_rule(Name=RULE)
    job = local_aws.client("backup", who="auditor").describe_restore_job(RestoreJobId=test["restore_job_id"])
    restored = job["CreatedResourceArn"].split("/")[-1]
    local_aws.client("dynamodb").update_item(
        TableName=restored,
        Key={"pk": {"S": "before-007"}},
        UpdateExpression="SET n = :n",
        ExpressionAttributeValues={":n": {"N": "-1"}},
    )
    payload = json.dumps({"operation": "validate", "restore_job_id": test["restore_job_id"]}).encode()
    answer = json.loads(local_aws.client("lambda").invoke(FunctionName=FUNCTION, Payload=payload)["Payload"].read())
    assert answer["outcome"] == "FAILED", answer
    job = _validated(local_aws, test["restore_job_id"])
    assert job["ValidationStatus"] == "FAILED"
    assert "restored 40 items" in job["ValidationStatusMessage"] and "held 40 items" in job["ValidationStatusMessage"]
    cloudwatch = local_aws.client("cloudwatch", who="auditor")

    def in_alarm():
        [alarm] = cloudwatch.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"]
        return alarm if alarm["StateValue"] == "ALARM" else None

    alarm = wait_for(in_alarm, timeout=120, what=f"{ALARM} in ALARM")
    assert alarm["AlarmActions"], "the alarm notifies the topic"
    # make status names it.
    run = subprocess.run(
        [sys.executable, "tools/status.py"], cwd=ROOT, env=local_aws.env(), capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"{TABLE}: the last restore test was validated FAILED" in run.stdout, run.stdout
    assert f"alarm {ALARM} is in ALARM" in run.stdout, run.stdout


def test_a_restore_job_no_plan_started_is_never_validated(local_aws):
    backup = local_aws.client("backup")
    table_arn = local_aws.client("dynamodb").describe_table(TableName=TABLE)["Table"]["TableArn"]
    point = backup.list_recovery_points_by_resource(ResourceArn=table_arn)["RecoveryPoints"][0]["RecoveryPointArn"]
    role = local_aws.client("iam").get_role(RoleName="ddbguard-backup")["Role"]["Arn"]
    started = backup.start_restore_job(
        RecoveryPointArn=point, IamRoleArn=role, Metadata={"targetTableName": f"{TABLE}-restore-by-hand"}
    )
    payload = json.dumps({"operation": "validate", "restore_job_id": started["RestoreJobId"]}).encode()
    answer = json.loads(local_aws.client("lambda").invoke(FunctionName=FUNCTION, Payload=payload)["Payload"].read())
    assert answer["outcome"] == "ignored" and "not started by a restore testing plan of ours" in answer["reason"]

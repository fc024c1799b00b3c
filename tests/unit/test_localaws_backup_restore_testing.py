"""Restore testing in the local AWS (localaws/compat/backup_restore_testing.py), in-process."""

from __future__ import annotations

import json
import time

import pytest

from localaws.compat import backup_restore_testing as rt
from tests.unit.test_localaws_backup_compat import ROLE, TABLE_ARN, VAULT_ARN, backup, call, compat  # noqa: F401

PLAN = {
    "RestoreTestingPlanName": "ddbguard_restore_test",
    "ScheduleExpression": "cron(0 5 ? * * *)",
    "RecoveryPointSelection": {
        "Algorithm": "LATEST_WITHIN_WINDOW",
        "IncludeVaults": [VAULT_ARN],
        "RecoveryPointTypes": ["SNAPSHOT"],
        "SelectionWindowDays": 1,
    },
}


def _selection(name="tables_1", arns=(TABLE_ARN,), hours=1):
    return {
        "RestoreTestingSelectionName": name,
        "ProtectedResourceType": "DynamoDB",
        "ProtectedResourceArns": list(arns),
        "IamRoleArn": ROLE,
        "ValidationWindowHours": hours,
        "RestoreMetadataOverrides": {"encryptionType": "KMS", "kmsMasterKeyArn": "arn:key"},
    }


def test_plans_and_selections_are_kept_and_a_plan_goes_only_after_its_selections(compat):  # noqa: F811
    status, made = call(compat, "PUT", "/restore-testing/plans", {"RestoreTestingPlan": PLAN})
    assert status == 200 and made["RestoreTestingPlanArn"].split(":")[5] == "restore-testing-plan"
    assert call(compat, "PUT", "/restore-testing/plans", {"RestoreTestingPlan": PLAN})[0] == 400  # exists
    status, _ = call(
        compat,
        "PUT",
        "/restore-testing/plans/ddbguard_restore_test/selections",
        {"RestoreTestingSelection": _selection()},
    )
    assert status == 200
    _, got = call(compat, "GET", "/restore-testing/plans/ddbguard_restore_test")
    assert got["RestoreTestingPlan"]["ScheduleExpression"] == "cron(0 5 ? * * *)"
    _, listed = call(compat, "GET", "/restore-testing/plans/ddbguard_restore_test/selections")
    assert [s["RestoreTestingSelectionName"] for s in listed["RestoreTestingSelections"]] == ["tables_1"]
    assert call(compat, "DELETE", "/restore-testing/plans/ddbguard_restore_test")[0] == 400
    assert call(compat, "DELETE", "/restore-testing/plans/ddbguard_restore_test/selections/tables_1")[0] == 200
    assert call(compat, "DELETE", "/restore-testing/plans/ddbguard_restore_test")[0] == 200
    assert call(compat, "GET", "/restore-testing/plans")[1] == {"RestoreTestingPlans": []}


@pytest.mark.parametrize(
    ("selection", "words"),
    [
        (_selection(arns=[f"{TABLE_ARN}{i}" for i in range(31)]), "at most 30"),
        (_selection(hours=169), "ValidationWindowHours"),
        (_selection(name="has-dash"), "RestoreTestingSelectionName"),
    ],
)
def test_a_selection_aws_refuses_is_refused(compat, selection, words):  # noqa: F811
    call(compat, "PUT", "/restore-testing/plans", {"RestoreTestingPlan": PLAN})
    status, doc = call(
        compat, "PUT", "/restore-testing/plans/ddbguard_restore_test/selections", {"RestoreTestingSelection": selection}
    )
    assert status == 400 and words in doc["Message"]


def test_a_plan_with_a_schedule_neither_cron_nor_rate_is_refused(compat):  # noqa: F811
    status, doc = call(
        compat, "PUT", "/restore-testing/plans", {"RestoreTestingPlan": {**PLAN, "ScheduleExpression": "daily"}}
    )
    assert status == 400 and "ScheduleExpression" in doc["Message"]


def test_a_run_restores_the_latest_point_marks_the_job_and_emits_its_event_and_takes_a_validation(compat):  # noqa: F811
    backup(compat)
    time.sleep(0.01)
    latest = backup(compat)["RecoveryPointArn"]
    call(compat, "PUT", "/restore-testing/plans", {"RestoreTestingPlan": PLAN})
    call(
        compat,
        "PUT",
        "/restore-testing/plans/ddbguard_restore_test/selections",
        {"RestoreTestingSelection": _selection()},
    )
    plan = compat.store.restore_testing_plans["000000000000|us-east-1|ddbguard_restore_test"]
    events = []
    runs = rt.run_now(compat, plan, events.append)
    assert len(runs) == 1 and "restore_job_id" in runs[0], runs
    job_id = runs[0]["restore_job_id"]
    _, job = call(compat, "GET", f"/restore-jobs/{job_id}")
    assert job["RecoveryPointArn"] == latest
    assert job["CreatedBy"] == {"RestoreTestingPlanArn": plan["RestoreTestingPlanArn"]}
    assert job["CreatedResourceArn"].split("/")[-1].startswith("awsbackup-restore-test-")
    detail = json.loads(events[0]["Detail"])
    assert events[0]["Source"] == "aws.backup" and events[0]["DetailType"] == "Restore Job State Change"
    assert detail["restoreJobId"] == job_id and detail["status"] == "COMPLETED"
    assert detail["restoreTestingPlanArn"] == plan["RestoreTestingPlanArn"]
    body = {"ValidationStatus": "SUCCESSFUL", "ValidationStatusMessage": "3 items"}
    assert call(compat, "PUT", f"/restore-jobs/{job_id}/validations", body)[0] == 200
    _, job = call(compat, "GET", f"/restore-jobs/{job_id}")
    assert (job["ValidationStatus"], job["ValidationStatusMessage"]) == ("SUCCESSFUL", "3 items")
    _, mine = call(compat, "GET", "/restore-jobs", query={"restoreTestingPlanArn": plan["RestoreTestingPlanArn"]})
    assert [j["RestoreJobId"] for j in mine["RestoreJobs"]] == [job_id]


def test_a_validation_of_a_restore_job_no_plan_started_is_refused(compat):  # noqa: F811
    point = backup(compat)["RecoveryPointArn"]
    _, started = call(
        compat,
        "PUT",
        "/restore-jobs",
        {"RecoveryPointArn": point, "IamRoleArn": ROLE, "Metadata": {"targetTableName": "orders-restore-1"}},
    )
    status, doc = call(
        compat, "PUT", f"/restore-jobs/{started['RestoreJobId']}/validations", {"ValidationStatus": "SUCCESSFUL"}
    )
    assert status == 400 and "not started by a restore testing plan" in doc["Message"]


def test_no_point_within_the_window_is_said_and_nothing_restored(compat):  # noqa: F811
    backup(compat)
    for point in compat.store.recovery_points.values():
        point["CreationDate"] -= 2 * rt.DAY
    call(compat, "PUT", "/restore-testing/plans", {"RestoreTestingPlan": PLAN})
    call(
        compat,
        "PUT",
        "/restore-testing/plans/ddbguard_restore_test/selections",
        {"RestoreTestingSelection": _selection()},
    )
    plan = compat.store.restore_testing_plans["000000000000|us-east-1|ddbguard_restore_test"]
    runs = rt.run_now(compat, plan, lambda e: None)
    assert runs == [{"resource": TABLE_ARN, "error": "no recovery point within the selection window"}]


def test_a_restore_job_with_kms_metadata_encrypts_the_restored_table_with_that_key(compat):  # noqa: F811
    point = backup(compat)["RecoveryPointArn"]
    encrypted = []
    compat.ddb.encrypt = lambda table, key: encrypted.append((table, key))
    body = {
        "RecoveryPointArn": point,
        "IamRoleArn": ROLE,
        "Metadata": {"targetTableName": "orders-r1", "encryptionType": "KMS", "kmsMasterKeyArn": "arn:key"},
    }
    assert call(compat, "PUT", "/restore-jobs", body)[0] == 200
    assert encrypted == [("orders-r1", "arn:key")]
    body["Metadata"] = {"targetTableName": "orders-r2", "encryptionType": "KMS"}
    status, doc = call(compat, "PUT", "/restore-jobs", body)
    assert status == 400 and "kmsMasterKeyArn" in doc["Message"]


def test_a_run_for_one_resource_restores_only_it_and_the_window_end_deletes_validated_tables(compat):  # noqa: F811
    backup(compat)
    other = TABLE_ARN.replace("orders", "invoices")
    compat.fake.tables.add("invoices")
    call(compat, "PUT", "/backup-jobs", {"BackupVaultName": "vault", "ResourceArn": other, "IamRoleArn": ROLE})
    call(compat, "PUT", "/restore-testing/plans", {"RestoreTestingPlan": PLAN})
    body = {"RestoreTestingSelection": _selection(arns=(TABLE_ARN, other))}
    call(compat, "PUT", "/restore-testing/plans/ddbguard_restore_test/selections", body)
    plan = compat.store.restore_testing_plans["000000000000|us-east-1|ddbguard_restore_test"]
    runs = rt.run_now(compat, plan, lambda e: None, only=other)
    assert [r["resource"] for r in runs] == [other]
    deleted = []
    assert rt.end_windows(compat, plan, deleted.append) == []  # nothing validated yet: nothing ends
    job_id = runs[0]["restore_job_id"]
    call(compat, "PUT", f"/restore-jobs/{job_id}/validations", {"ValidationStatus": "FAILED"})
    ended = rt.end_windows(compat, plan, lambda table: deleted.append(table) or True)
    assert [e["restore_job_id"] for e in ended] == [job_id] and deleted[0].startswith("awsbackup-restore-test-")
    assert call(compat, "GET", f"/restore-jobs/{job_id}")[1]["DeletionStatus"] == "SUCCESSFUL"

"""Row 35: a plan's scheduled run, asked for now: a backup job of every resource its
selections name, made by the plan (CreatedBy), then the rule's copies."""

from __future__ import annotations

from localaws.compat import backup_plan_runs
from tests.unit.test_localaws_backup_copy_jobs import DR, PRIMARY, ROLE, TABLE_ARN, World, vault_arn

PLAN = {
    "BackupPlanId": "plan-1",
    "BackupPlanArn": "arn:aws:backup:us-east-1:000000000000:backup-plan:plan-1",
    "VersionId": "v2",
    "BackupPlan": {
        "Rules": [
            {
                "RuleName": "every-12-hours",
                "RuleId": "rule-1",
                "TargetBackupVaultName": "vault",
                "Lifecycle": {"DeleteAfterDays": 35},
                "RecoveryPointTags": {"ddbguard:managed": "true"},
                "CopyActions": [{"DestinationBackupVaultArn": vault_arn(DR), "Lifecycle": {"DeleteAfterDays": 35}}],
            }
        ]
    },
}
SELECTIONS = [{"BackupPlanId": "plan-1", "IamRoleArn": ROLE, "Resources": [TABLE_ARN, "arn:aws:dynamodb:*:*:table/*"]}]


def test_a_run_backs_up_each_resource_named_by_arn_with_the_rules_settings():
    [step] = backup_plan_runs.runs(PLAN, SELECTIONS)
    assert step["job"] == {
        "BackupVaultName": "vault",
        "ResourceArn": TABLE_ARN,
        "IamRoleArn": ROLE,
        "RecoveryPointTags": {"ddbguard:managed": "true"},
        "Lifecycle": {"DeleteAfterDays": 35},
    }
    assert step["copies"] == [
        {"DestinationBackupVaultArn": vault_arn(DR), "IamRoleArn": ROLE, "Lifecycle": {"DeleteAfterDays": 35}}
    ]
    assert step["created_by"]["BackupPlanId"] == "plan-1" and step["created_by"]["BackupRuleId"] == "rule-1"


def test_the_recovery_point_and_its_copy_are_the_plans():
    world = World()
    [result] = backup_plan_runs.run_now(world.compat(PRIMARY), PLAN, SELECTIONS)
    assert [c["State"] for c in result["copies"]] == ["COMPLETED"]
    point = world.store.recovery_points[result["recovery_point"]]
    assert point["CreatedBy"]["BackupPlanArn"] == PLAN["BackupPlanArn"]
    [copied] = [p for p in world.store.recovery_points.values() if p["BackupVaultArn"] == vault_arn(DR)]
    assert copied["CreatedBy"] == point["CreatedBy"], "a copy keeps the plan that made it"
    assert copied["Lifecycle"] == {"DeleteAfterDays": 35}


def test_a_plan_without_selections_runs_nothing():
    assert backup_plan_runs.runs(PLAN, []) == []

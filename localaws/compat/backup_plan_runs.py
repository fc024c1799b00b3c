"""AWS Backup runs a plan's rules on their schedule (row 35).

AWS: at each rule's ``ScheduleExpression`` (within its start window), AWS Backup starts a
backup job, with the selection's role, of every resource the plan's selections assign,
into the rule's ``TargetBackupVaultName``, with the rule's ``Lifecycle`` and
``RecoveryPointTags``; the recovery point records the plan and rule that made it
(``CreatedBy``: ``BackupPlanId``, ``BackupPlanArn``, ``BackupPlanVersion``,
``BackupRuleId``). When the job completes, each of the rule's ``CopyActions`` starts a copy
job of the recovery point to its ``DestinationBackupVaultArn`` (another region's vault, a
logically air-gapped vault) with that action's ``Lifecycle``; the copy keeps ``CreatedBy``
(AWS Backup Developer Guide, "Creating a backup plan", "Creating backup copies across AWS
Regions").

ministack 1.5.33 stores plans and selections and never runs them. Here nothing runs on a
clock either (a rule every 12 hours would never fire during a test or a demo); instead the
control ``POST /_localaws/backup/run-plan?plan=<name>[&account=<id>&region=<region>]``
(``localaws/controls.py``) runs the plan's next scheduled run now: every rule, for every
resource named by ARN in its selections, through the same backup and copy jobs as
``StartBackupJob`` and ``StartCopyJob`` (rows 4 and 29). ``make demo`` asks for it between
``site.yml`` and the drill, where on AWS the first scheduled run comes within 12 hours.
**Not emulated:** schedules, start and completion windows, selections by tag or condition,
continuous backups, cold storage.
"""

from __future__ import annotations

import json
from typing import Any


def runs(plan: dict[str, Any], selections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What one scheduled run of ``plan`` does: for each rule and each resource its
    selections name, the backup job's request and the copies to make after it."""
    rules = (plan.get("BackupPlan") or {}).get("Rules") or []
    found = []
    for index, rule in enumerate(rules):
        created_by = {
            "BackupPlanId": plan["BackupPlanId"],
            "BackupPlanArn": plan["BackupPlanArn"],
            "BackupPlanVersion": plan.get("VersionId", ""),
            "BackupRuleId": rule.get("RuleId") or f"{plan['BackupPlanId']}-rule-{index}",
        }
        for selection in selections:
            for resource in selection.get("Resources") or []:
                if "*" in resource:
                    continue  # only resources named by ARN are run here
                job = {
                    "BackupVaultName": rule.get("TargetBackupVaultName", ""),
                    "ResourceArn": resource,
                    "IamRoleArn": selection.get("IamRoleArn", ""),
                    "RecoveryPointTags": rule.get("RecoveryPointTags") or {},
                }
                if rule.get("Lifecycle"):
                    job["Lifecycle"] = rule["Lifecycle"]
                copies = [
                    {
                        "DestinationBackupVaultArn": action["DestinationBackupVaultArn"],
                        "IamRoleArn": selection.get("IamRoleArn", ""),
                        **({"Lifecycle": action["Lifecycle"]} if action.get("Lifecycle") else {}),
                    }
                    for action in rule.get("CopyActions") or []
                ]
                found.append({"job": job, "copies": copies, "created_by": created_by})
    return found


def run_now(compat: Any, plan: dict[str, Any], selections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run ``plan``'s rules now through ``compat`` (a ``backup.BackupCompat`` of the plan's
    account and region); what each job and copy ended as."""
    from localaws.compat import backup_copy_jobs

    results = []
    for step in runs(plan, selections):
        status, _, body = compat.start_backup_job(step["job"])
        answer = json.loads(body)
        if status != 200:
            results.append({"resource": step["job"]["ResourceArn"], "error": answer})
            continue
        point = compat.store.recovery_points[answer["RecoveryPointArn"]]
        point["CreatedBy"] = dict(step["created_by"])
        compat.store.backup_jobs[answer["BackupJobId"]]["CreatedBy"] = dict(step["created_by"])
        copies = backup_copy_jobs.CopyJobs(
            compat.store,
            compat.account,
            compat.region,
            lambda vault: compat._vault_arn(vault) if vault in compat.vaults else None,
            compat.ddb.role_exists,
            compat.ddb.copy_backup,
            compat.ddb.find_vault,
        )
        copied = []
        for request in step["copies"]:
            request = {**request, "RecoveryPointArn": point["RecoveryPointArn"]}
            request["SourceBackupVaultName"] = point["BackupVaultName"]
            _, _, started = copies.start(request)
            job = compat.store.copy_jobs[json.loads(started)["CopyJobId"]]
            copied.append({k: job.get(k) for k in ("DestinationBackupVaultArn", "State", "StatusMessage")})
        results.append(
            {"resource": step["job"]["ResourceArn"], "recovery_point": point["RecoveryPointArn"], "copies": copied}
        )
    return results

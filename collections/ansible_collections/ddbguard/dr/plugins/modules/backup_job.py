#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup_job
version_added: 0.1.0
short_description: Start an on-demand AWS Backup job and return its recovery point
description:
  - Starts an on-demand backup of a resource (a DynamoDB table, for example) into a
    backup vault with an IAM role, waits for it by default, and returns the recovery point ARN.
  - Fills a gap, since no amazon.aws or community.aws module starts a backup job.
  - 'Idempotence: with O(max_recovery_point_age), a COMPLETED recovery point of the
    resource in the vault that is younger than that many minutes counts as done. No job
    starts and the module reports no change. Without it, every run starts a job, which is
    what "take a backup now" means.'
author:
  - ddbguard maintainers (@ddbguard)
options:
  resource_arn:
    description: ARN of the resource to back up.
    type: str
    required: true
  backup_vault_name:
    description: Vault that receives the recovery point.
    type: str
    required: true
  iam_role_arn:
    description: Role AWS Backup assumes to make the backup.
    type: str
    required: true
  max_recovery_point_age:
    description: Minutes; a completed recovery point younger than this makes the run a no-op.
    type: int
  idempotency_token:
    description: Token that makes AWS return the same job for repeated calls.
    type: str
  lifecycle:
    description: Lifecycle of the recovery point.
    type: dict
    suboptions:
      delete_after_days:
        description: Days after which the recovery point is deleted.
        type: int
      move_to_cold_storage_after_days:
        description: Days after which it moves to cold storage.
        type: int
  recovery_point_tags:
    description: Tags of the recovery point.
    type: dict
  start_window_minutes:
    description: Minutes within which the job must start.
    type: int
  complete_window_minutes:
    description: Minutes within which the job must complete.
    type: int
  wait:
    description: Wait until the job completes (and fail if it fails).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 3600
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Back up the orders table unless a backup of the last hour exists
  ddbguard.dr.backup_job:
    resource_arn: "{{ orders_table_arn }}"
    backup_vault_name: orders-vault
    iam_role_arn: "{{ backup_role_arn }}"
    max_recovery_point_age: 60
    lifecycle:
      delete_after_days: 35
  register: orders_backup
"""

RETURN = r"""
backup_job_id:
  description: Id of the job started; null when a fresh recovery point was reused or in check mode.
  returned: always
  type: str
recovery_point_arn:
  description: ARN of the recovery point made (or reused); null in check mode when a job would start.
  returned: always
  type: str
state:
  description: State of the job (COMPLETED once waited for), or REUSED.
  returned: always
  type: str
creation_date:
  description: When the recovery point was created (ISO 8601).
  returned: when known
  type: str
reused:
  description: Whether an existing recovery point younger than O(max_recovery_point_age) was returned.
  returned: always
  type: bool
"""

import time
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ddbguard.dr.plugins.module_utils import backup as bk
from ansible_collections.ddbguard.dr.plugins.module_utils import backup_api
from ansible_collections.ddbguard.dr.plugins.module_utils.common import role_arn_problem, without_none
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.times import iso
from ansible_collections.ddbguard.dr.plugins.module_utils.waiters import wait

ARGUMENT_SPEC = dict(
    resource_arn=dict(type="str", required=True),
    backup_vault_name=dict(type="str", required=True),
    iam_role_arn=dict(type="str", required=True),
    max_recovery_point_age=dict(type="int"),
    idempotency_token=dict(type="str", no_log=False),
    lifecycle=dict(
        type="dict",
        options=dict(delete_after_days=dict(type="int"), move_to_cold_storage_after_days=dict(type="int")),
    ),
    recovery_point_tags=dict(type="dict"),
    start_window_minutes=dict(type="int"),
    complete_window_minutes=dict(type="int"),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=3600),
)
SUPPORTS_CHECK_MODE = True


def validate(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters that the argument spec cannot express (empty when valid)."""
    problems = []
    if not params["resource_arn"].startswith("arn:"):
        problems.append(f"resource_arn must be an ARN, got {params['resource_arn']!r}")
    problems += role_arn_problem("iam_role_arn", params["iam_role_arn"])
    for option in ("max_recovery_point_age", "start_window_minutes", "complete_window_minutes", "wait_timeout"):
        if params[option] is not None and params[option] < 1:
            problems.append(f"{option} must be at least 1, got {params[option]}")
    lifecycle = params["lifecycle"] or {}
    cold, delete = lifecycle.get("move_to_cold_storage_after_days"), lifecycle.get("delete_after_days")
    if cold is not None and delete is not None and delete < cold + 90:
        problems.append("lifecycle.delete_after_days must be at least 90 days after move_to_cold_storage_after_days")
    return problems


def job_request(params: dict[str, Any]) -> dict[str, Any]:
    """The StartBackupJob request for the parameters (unset options are left out)."""
    lifecycle = params["lifecycle"] or {}
    return without_none(
        dict(
            BackupVaultName=params["backup_vault_name"],
            ResourceArn=params["resource_arn"],
            IamRoleArn=params["iam_role_arn"],
            IdempotencyToken=params["idempotency_token"],
            StartWindowMinutes=params["start_window_minutes"],
            CompleteWindowMinutes=params["complete_window_minutes"],
            RecoveryPointTags=params["recovery_point_tags"],
            Lifecycle=without_none(
                dict(
                    DeleteAfterDays=lifecycle.get("delete_after_days"),
                    MoveToColdStorageAfterDays=lifecycle.get("move_to_cold_storage_after_days"),
                )
            )
            or None,
        )
    )


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    client = module.client("backup")
    if params["max_recovery_point_age"]:
        points = backup_api.list_recovery_points(client, params["backup_vault_name"], params["resource_arn"])
        point = bk.fresh_recovery_point(points, params["max_recovery_point_age"] * 60, time.time())
        if point is not None:
            return dict(
                changed=False,
                reused=True,
                backup_job_id=None,
                recovery_point_arn=point["RecoveryPointArn"],
                state="REUSED",
                creation_date=iso(point["CreationDate"]),
            )
    if module.check_mode:
        return dict(changed=True, reused=False, backup_job_id=None, recovery_point_arn=None, state="WOULD_START")

    started = backup_api.start_backup_job(client, job_request(params))
    job_id = started["BackupJobId"]
    if params["wait"]:
        wait(client, "backup_job_completed", params["wait_timeout"], BackupJobId=job_id)
    job = backup_api.describe_backup_job(client, job_id)
    return dict(
        changed=True,
        reused=False,
        backup_job_id=job_id,
        recovery_point_arn=job.get("RecoveryPointArn") or started.get("RecoveryPointArn"),
        state=job.get("State"),
        creation_date=iso(job.get("CreationDate")),
    )


def main() -> None:
    run_module(run, validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

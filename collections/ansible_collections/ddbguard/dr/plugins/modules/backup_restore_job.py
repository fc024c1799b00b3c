#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup_restore_job
version_added: 0.1.0
short_description: Restore a DynamoDB recovery point into a new table with an AWS Backup restore job
description:
  - Chooses a recovery point, starts an AWS Backup restore job into a new table, waits for
    it and for the table to be C(ACTIVE), and returns the job's id, its timings and the
    restored table's ARN.
  - The recovery point is either given (O(recovery_point_arn)), or the latest COMPLETED one
    of O(resource_arn) in O(backup_vault_name) created before O(created_before). That is
    the "last good state before the first bad change".
  - Fills a gap, since no amazon.aws or community.aws module starts a restore job
    (C(amazon.aws.backup_restore_job_info) only reads them).
  - Never writes into an existing table. When O(target_table_name) exists and a restore job
    created it, the module reports that job without change. When it exists otherwise, the
    module fails.
  - A restored table lacks its source's stream, PITR, TTL, tags and triggers. Re-apply them
    with M(ddbguard.dr.dynamodb_table_protection).
author:
  - ddbguard maintainers (@ddbguard)
options:
  recovery_point_arn:
    description:
      - Recovery point to restore.
      - With O(backup_vault_name) and O(resource_arn), the module first checks that it is a
        COMPLETED recovery point of that resource, and fails naming the resource it belongs to otherwise.
    type: str
  backup_vault_name:
    description: Vault to search when O(recovery_point_arn) is not given, or that holds it.
    type: str
  resource_arn:
    description: ARN of the backed-up table whose recovery points are searched (or checked).
    type: str
  backup_vault_account_id:
    description:
      - The account that owns O(backup_vault_name), when another account shares its
        logically air-gapped vault with this one (AWS RAM, accepted); the table is restored
        into this account. Empty for a vault of this account.
    type: str
    default: ""
  created_before:
    description:
      - ISO 8601 time. Only recovery points created strictly before it are chosen.
      - Defaults to now.
    type: str
  include_drill_points:
    description:
      - When the latest recovery point is searched, also consider those the drill made
        (tagged C(ddbguard:drill)). By default they are skipped, so that a drill's
        recovery point, which holds canary items, never serves an operator's restore.
      - An explicit O(recovery_point_arn) is always used as given.
    type: bool
    default: false
  target_table_name:
    description: Name of the new table.
    type: str
    required: true
  iam_role_arn:
    description: Role AWS Backup assumes to restore.
    type: str
    required: true
  restore_metadata:
    description: Extra restore metadata (for example C(encryptionType), C(kmsMasterKeyArn)).
    type: dict
    default: {}
  wait:
    description: Wait until the job completes and the table is ACTIVE.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 7200
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Restore the last backup taken before the incident into a new table
  ddbguard.dr.backup_restore_job:
    backup_vault_name: orders-vault
    resource_arn: "{{ orders_table_arn }}"
    created_before: "2026-11-24T10:15:00Z"
    target_table_name: orders-restored-20261124
    iam_role_arn: "{{ backup_role_arn }}"
  register: restore
"""

RETURN = r"""
restore_job_id:
  description: Id of the restore job; null in check mode.
  returned: always
  type: str
status:
  description: Status of the job (COMPLETED once waited for).
  returned: always
  type: str
recovery_point_arn:
  description: The recovery point restored.
  returned: always
  type: str
recovery_point_creation_date:
  description: When that recovery point was created (ISO 8601).
  returned: when known
  type: str
created_resource_arn:
  description: ARN of the restored table.
  returned: when known
  type: str
creation_date:
  description: When the job started (ISO 8601).
  returned: when known
  type: str
completion_date:
  description: When the job completed (ISO 8601).
  returned: when known
  type: str
duration_seconds:
  description: completion_date minus creation_date.
  returned: when known
  type: float
skipped_drill_points:
  description: Newer recovery points passed over because the drill made them (tag C(ddbguard:drill)).
  returned: when the latest recovery point was searched
  type: list
  elements: str
"""

import datetime
import re
from typing import Any, Optional

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ddbguard.dr.plugins.module_utils import backup as bk
from ansible_collections.ddbguard.dr.plugins.module_utils import backup_api
from ansible_collections.ddbguard.dr.plugins.module_utils.common import role_arn_problem, table_name_problem
from ansible_collections.ddbguard.dr.plugins.module_utils.dynamodb import find_table
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardAWSError
from ansible_collections.ddbguard.dr.plugins.module_utils.times import iso, parse_time
from ansible_collections.ddbguard.dr.plugins.module_utils.waiters import wait, wait_table_active

ARGUMENT_SPEC = dict(
    recovery_point_arn=dict(type="str"),
    backup_vault_name=dict(type="str"),
    resource_arn=dict(type="str"),
    backup_vault_account_id=dict(type="str", default=""),
    created_before=dict(type="str"),
    target_table_name=dict(type="str", required=True),
    iam_role_arn=dict(type="str", required=True),
    restore_metadata=dict(type="dict", default={}),
    include_drill_points=dict(type="bool", default=False),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=7200),
)
MUTUALLY_EXCLUSIVE = [("recovery_point_arn", "created_before")]
REQUIRED_ONE_OF = [("recovery_point_arn", "backup_vault_name")]
REQUIRED_TOGETHER = [("backup_vault_name", "resource_arn")]
SUPPORTS_CHECK_MODE = True


def validate(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters that the argument spec cannot express (empty when valid)."""
    problems = table_name_problem("target_table_name", params["target_table_name"])
    problems += role_arn_problem("iam_role_arn", params["iam_role_arn"])
    if params["wait_timeout"] < 1:
        problems.append("wait_timeout must be at least 1 second")
    if "targetTableName" in params["restore_metadata"]:
        problems.append("restore_metadata must not set targetTableName; use target_table_name")
    if params["backup_vault_account_id"] and not re.fullmatch(r"\d{12}", params["backup_vault_account_id"]):
        problems.append(
            f"backup_vault_account_id must be a 12-digit account id, got {params['backup_vault_account_id']!r}"
        )
    if params["created_before"]:
        try:
            parse_time(params["created_before"], "created_before")
        except ValueError as err:
            problems.append(str(err))
    return problems


def created_before(params: dict[str, Any]) -> datetime.datetime:
    if params["created_before"]:
        return parse_time(params["created_before"], "created_before")
    return datetime.datetime.now(datetime.UTC)


def choose_point(client: Any, params: dict[str, Any], before: datetime.datetime) -> dict[str, Any]:
    """The recovery point given by ARN, or the latest COMPLETED one created before ``before``."""
    if params["recovery_point_arn"] and not params["backup_vault_name"]:
        return {"RecoveryPointArn": params["recovery_point_arn"]}
    if params["recovery_point_arn"]:
        point = backup_api.describe_recovery_point(client, params["backup_vault_name"], params["recovery_point_arn"])
        if point is None or point.get("ResourceArn") != params["resource_arn"] or point.get("Status") != "COMPLETED":
            owner = (point or {}).get("ResourceArn", "no resource: it is not in that vault")
            raise DdbguardAWSError(
                message=f"recovery_point_arn {params['recovery_point_arn']} is not a COMPLETED recovery point of "
                f"{params['resource_arn']} in vault {params['backup_vault_name']}; it belongs to {owner}"
            )
        return point
    owner = params.get("backup_vault_account_id")
    shared = {"BackupVaultAccountId": owner} if owner else {}
    points = backup_api.list_recovery_points(
        client, params["backup_vault_name"], params["resource_arn"], ByCreatedBefore=before, **shared
    )
    skipped: list[str] = []
    for point in bk.newest_first(points, before.timestamp()):
        if params["include_drill_points"] or not bk.made_by_drill(
            backup_api.list_tags(client, point["RecoveryPointArn"])
        ):
            return dict(point, skipped_drill_points=skipped)
        skipped.append(point["RecoveryPointArn"])
    drills = f" ({len(skipped)} made by the drill were skipped: include_drill_points)" if skipped else ""
    raise DdbguardAWSError(
        message=f"No COMPLETED recovery point of {params['resource_arn']} in vault "
        f"{params['backup_vault_name']} was created before {before.isoformat()}{drills}"
    )


def job_that_created(client: Any, table_arn: str) -> Optional[dict[str, Any]]:
    jobs = backup_api.list_restore_jobs(client, ByResourceType="DynamoDB")
    matches = [j for j in jobs if j.get("CreatedResourceArn") == table_arn]
    return max(matches, key=lambda j: j["CreationDate"], default=None)


def summary(job: dict[str, Any]) -> dict[str, Any]:
    created, completed = job.get("CreationDate"), job.get("CompletionDate")
    duration = round((completed - created).total_seconds(), 3) if created and completed else None
    return dict(
        restore_job_id=job.get("RestoreJobId"),
        status=job.get("Status"),
        recovery_point_arn=job.get("RecoveryPointArn"),
        recovery_point_creation_date=iso(job.get("RecoveryPointCreationDate")),
        created_resource_arn=job.get("CreatedResourceArn"),
        creation_date=iso(created),
        completion_date=iso(completed),
        duration_seconds=duration,
    )


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    client = module.client("backup")
    ddb = module.client("dynamodb")

    target = find_table(ddb, params["target_table_name"])
    if target is not None:
        job = job_that_created(client, target["TableArn"])
        if job is None:
            raise DdbguardAWSError(
                message=f"Table {params['target_table_name']} already exists and no restore job created it; "
                "choose a new target_table_name (a restore never writes into an existing table)"
            )
        return dict(changed=False, **summary(job))

    point = choose_point(client, params, created_before(params))
    chosen = {"skipped_drill_points": point["skipped_drill_points"]} if "skipped_drill_points" in point else {}
    if module.check_mode:
        return dict(
            changed=True,
            restore_job_id=None,
            status="WOULD_START",
            recovery_point_arn=point["RecoveryPointArn"],
            recovery_point_creation_date=iso(point.get("CreationDate")),
            **chosen,
        )
    started = backup_api.start_restore_job(
        client,
        dict(
            RecoveryPointArn=point["RecoveryPointArn"],
            Metadata={"targetTableName": params["target_table_name"], **params["restore_metadata"]},
            IamRoleArn=params["iam_role_arn"],
            ResourceType="DynamoDB",
        ),
    )
    job_id = started["RestoreJobId"]
    if params["wait"]:
        try:
            wait(client, "restore_job_completed", params["wait_timeout"], RestoreJobId=job_id)
        except DdbguardAWSError as err:
            job = backup_api.describe_restore_job(client, job_id)
            raise DdbguardAWSError(
                message=f"Restore job {job_id} ended {job.get('Status')}: {job.get('StatusMessage', 'no message')}",
                exception=err.exception,
            ) from err
        wait_table_active(ddb, params["target_table_name"], params["wait_timeout"])
    return dict(changed=True, **summary(backup_api.describe_restore_job(client, job_id)), **chosen)


def main() -> None:
    run_module(
        run,
        validate,
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_one_of=REQUIRED_ONE_OF,
        required_together=REQUIRED_TOGETHER,
        supports_check_mode=SUPPORTS_CHECK_MODE,
    )


if __name__ == "__main__":
    main()

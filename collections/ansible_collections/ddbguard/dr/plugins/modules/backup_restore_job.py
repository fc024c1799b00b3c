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
  - ddbguard maintainers
options:
  recovery_point_arn:
    description: Recovery point to restore.
    type: str
  backup_vault_name:
    description: Vault to search when O(recovery_point_arn) is not given.
    type: str
  resource_arn:
    description: ARN of the backed-up table whose recovery points are searched.
    type: str
  created_before:
    description:
      - ISO 8601 time. Only recovery points created strictly before it are chosen.
      - Defaults to now.
    type: str
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
"""

import datetime

try:
    from botocore.exceptions import BotoCoreError, ClientError, WaiterError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.waiter import custom_waiter_config
from ansible_collections.ddbguard.dr.plugins.module_utils import backup as bk
from ansible_collections.ddbguard.dr.plugins.module_utils.dynamodb import TABLE_NAME
from ansible_collections.ddbguard.dr.plugins.module_utils.waiters import wait

ARGUMENT_SPEC = dict(
    recovery_point_arn=dict(type="str"),
    backup_vault_name=dict(type="str"),
    resource_arn=dict(type="str"),
    created_before=dict(type="str"),
    target_table_name=dict(type="str", required=True),
    iam_role_arn=dict(type="str", required=True),
    restore_metadata=dict(type="dict", default={}),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=7200),
)
MUTUALLY_EXCLUSIVE = [("recovery_point_arn", "backup_vault_name"), ("recovery_point_arn", "created_before")]
REQUIRED_ONE_OF = [("recovery_point_arn", "backup_vault_name")]
REQUIRED_TOGETHER = [("backup_vault_name", "resource_arn")]


def parse_time(module, text):
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        module.fail_json(msg=f"created_before must be an ISO 8601 time such as 2026-11-24T10:15:00Z, got {text!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def validate(module):
    p = module.params
    if not TABLE_NAME.match(p["target_table_name"]):
        module.fail_json(
            msg=f"target_table_name must be 3-255 characters of A-Z a-z 0-9 _ . -, got {p['target_table_name']!r}"
        )
    if ":role/" not in p["iam_role_arn"]:
        module.fail_json(msg=f"iam_role_arn must be an IAM role ARN, got {p['iam_role_arn']!r}")
    if p["wait_timeout"] < 1:
        module.fail_json(msg="wait_timeout must be at least 1 second")
    if "targetTableName" in p["restore_metadata"]:
        module.fail_json(msg="restore_metadata must not set targetTableName; use target_table_name")
    return parse_time(module, p["created_before"]) if p["created_before"] else datetime.datetime.now(datetime.UTC)


def iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def choose_point(module, client, created_before):
    p = module.params
    if p["recovery_point_arn"]:
        return {"RecoveryPointArn": p["recovery_point_arn"]}
    try:
        result = (
            client.get_paginator("list_recovery_points_by_backup_vault")
            .paginate(
                BackupVaultName=p["backup_vault_name"], ByResourceArn=p["resource_arn"], ByCreatedBefore=created_before
            )
            .build_full_result()
        )
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"Failed to list the recovery points of vault {p['backup_vault_name']}")
    point = bk.latest_recovery_point(result.get("RecoveryPoints", []), created_before.timestamp())
    if point is None:
        module.fail_json(
            msg=f"No COMPLETED recovery point of {p['resource_arn']} in vault {p['backup_vault_name']} "
            f"was created before {created_before.isoformat()}"
        )
    return point


def existing_table_arn(module, ddb, name):
    try:
        return ddb.describe_table(aws_retry=True, TableName=name)["Table"]["TableArn"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (BotoCoreError, ClientError) as err:  # pylint: disable=duplicate-except
        module.fail_json_aws(err, msg=f"Failed to describe table {name}")


def job_that_created(module, client, table_arn):
    try:
        jobs = client.get_paginator("list_restore_jobs").paginate(ByResourceType="DynamoDB").build_full_result()
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg="Failed to list restore jobs")
    matches = [j for j in jobs.get("RestoreJobs", []) if j.get("CreatedResourceArn") == table_arn]
    return max(matches, key=lambda j: j["CreationDate"], default=None)


def summary(job):
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


def main():
    module = AnsibleAWSModule(
        argument_spec=ARGUMENT_SPEC,
        mutually_exclusive=MUTUALLY_EXCLUSIVE,
        required_one_of=REQUIRED_ONE_OF,
        required_together=REQUIRED_TOGETHER,
        supports_check_mode=True,
    )
    created_before = validate(module)
    p = module.params
    client = module.client("backup", retry_decorator=AWSRetry.jittered_backoff())
    ddb = module.client("dynamodb", retry_decorator=AWSRetry.jittered_backoff())

    target_arn = existing_table_arn(module, ddb, p["target_table_name"])
    if target_arn is not None:
        job = job_that_created(module, client, target_arn)
        if job is None:
            module.fail_json(
                msg=f"Table {p['target_table_name']} already exists and no restore job created it; "
                "choose a new target_table_name (a restore never writes into an existing table)"
            )
        module.exit_json(changed=False, **summary(job))

    point = choose_point(module, client, created_before)
    if module.check_mode:
        module.exit_json(
            changed=True,
            restore_job_id=None,
            status="WOULD_START",
            recovery_point_arn=point["RecoveryPointArn"],
            recovery_point_creation_date=iso(point.get("CreationDate")),
        )
    metadata = {"targetTableName": p["target_table_name"], **p["restore_metadata"]}
    try:
        started = client.start_restore_job(
            aws_retry=True,
            RecoveryPointArn=point["RecoveryPointArn"],
            Metadata=metadata,
            IamRoleArn=p["iam_role_arn"],
            ResourceType="DynamoDB",
        )
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"Failed to start restoring {point['RecoveryPointArn']}")
    job_id = started["RestoreJobId"]
    if p["wait"]:
        wait(module, client, "restore_job_completed", p["wait_timeout"], RestoreJobId=job_id)
        try:
            ddb.get_waiter("table_exists").wait(
                TableName=p["target_table_name"],
                WaiterConfig=custom_waiter_config(timeout=p["wait_timeout"], default_pause=2),
            )
        except WaiterError as err:
            module.fail_json_aws(err, msg=f"Table {p['target_table_name']} did not become ACTIVE")
    try:
        job = client.describe_restore_job(aws_retry=True, RestoreJobId=job_id)
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"Failed to describe restore job {job_id}")
    module.exit_json(changed=True, **summary(job))


if __name__ == "__main__":
    main()

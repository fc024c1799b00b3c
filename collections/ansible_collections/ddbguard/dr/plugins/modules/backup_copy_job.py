#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup_copy_job
version_added: 0.3.0
short_description: Copy an AWS Backup recovery point to a vault of another region and wait for it
description:
  - Starts an on-demand copy of a recovery point (C(StartCopyJob), called in the source
    vault's region) into the vault named by O(destination_backup_vault_arn), waits for the
    job to end by default, and returns the copy's recovery point ARN and how long the copy took.
  - Fills a gap, since no amazon.aws or community.aws module starts or follows a copy job.
  - A copy keeps the source's creation date and, across regions, all of its tags (AWS Backup
    Developer Guide, "Backup and tag copy"), so a copy of a drill's recovery point is still
    skipped by restores that skip drill points.
  - For DynamoDB, AWS copies across regions and accounts only with AWS Backup's advanced
    DynamoDB backup features enabled in the source region.
  - A job that ends FAILED or ABORTED fails the task with AWS's C(StatusMessage), unless
    O(fail_on_job_failure=false), which returns the state and the message instead.
author:
  - ddbguard maintainers (@ddbguard)
options:
  recovery_point_arn:
    description: The recovery point to copy.
    type: str
    required: true
  source_backup_vault_name:
    description: The vault (of the module's region) that holds O(recovery_point_arn).
    type: str
    required: true
  destination_backup_vault_arn:
    description: ARN of the vault that receives the copy (in the DR region, or another account).
    type: str
    required: true
  iam_role_arn:
    description: Role AWS Backup assumes to copy.
    type: str
    required: true
  idempotency_token:
    description: Token that makes AWS return the same job for repeated calls.
    type: str
  delete_after_days:
    description: Days after which the copy is deleted; by default the copy keeps its source's lifecycle.
    type: int
  fail_on_job_failure:
    description: Fail the task when the job ends FAILED or ABORTED.
    type: bool
    default: true
  wait:
    description: Wait until the job ends.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 14400
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Copy the latest recovery point to the DR region
  ddbguard.dr.backup_copy_job:
    recovery_point_arn: "{{ latest_point }}"
    source_backup_vault_name: orders-vault
    destination_backup_vault_arn: arn:aws:backup:eu-central-1:123456789012:backup-vault:orders-vault
    iam_role_arn: "{{ backup_role_arn }}"
  register: orders_copy
"""

RETURN = r"""
copy_job_id:
  description: Id of the job started; null in check mode.
  returned: always
  type: str
state:
  description: The job's state (COMPLETED once waited for, FAILED or ABORTED), or WOULD_START in check mode.
  returned: always
  type: str
status_message:
  description: AWS's message for a job that did not complete; empty otherwise.
  returned: always
  type: str
destination_recovery_point_arn:
  description: ARN of the copy; null until the job completes.
  returned: always
  type: str
destination_encryption_key_arn:
  description: The KMS key that encrypts the copy (the destination vault's); null when AWS does not say.
  returned: always
  type: str
seconds:
  description: Wall seconds from the job's start to its end, as the module saw it.
  returned: always
  type: float
"""

import re
import time
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ddbguard.dr.plugins.module_utils import backup_api
from ansible_collections.ddbguard.dr.plugins.module_utils.common import role_arn_problem, without_none
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardAWSError
from ansible_collections.ddbguard.dr.plugins.module_utils.waiters import wait

ARGUMENT_SPEC = dict(
    recovery_point_arn=dict(type="str", required=True),
    source_backup_vault_name=dict(type="str", required=True),
    destination_backup_vault_arn=dict(type="str", required=True),
    iam_role_arn=dict(type="str", required=True),
    idempotency_token=dict(type="str", no_log=False),
    delete_after_days=dict(type="int"),
    fail_on_job_failure=dict(type="bool", default=True),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=14400),
)
SUPPORTS_CHECK_MODE = True

POINT_ARN = re.compile(r"^arn:aws[a-z-]*:backup:[a-z0-9-]+:\d{12}:recovery-point:\S+$")
VAULT_ARN = re.compile(r"^arn:aws[a-z-]*:backup:[a-z0-9-]+:\d{12}:backup-vault:[A-Za-z0-9_.-]{2,50}$")


def validate(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters that the argument spec cannot express (empty when valid)."""
    problems = []
    if not POINT_ARN.match(params["recovery_point_arn"]):
        problems.append(f"recovery_point_arn must be a recovery point ARN, got {params['recovery_point_arn']!r}")
    if not VAULT_ARN.match(params["destination_backup_vault_arn"]):
        problems.append(
            f"destination_backup_vault_arn must be a backup vault ARN, got {params['destination_backup_vault_arn']!r}"
        )
    problems += role_arn_problem("iam_role_arn", params["iam_role_arn"])
    for option in ("delete_after_days", "wait_timeout"):
        if params[option] is not None and params[option] < 1:
            problems.append(f"{option} must be at least 1, got {params[option]}")
    return problems


def job_request(params: dict[str, Any]) -> dict[str, Any]:
    """The StartCopyJob request for the parameters (unset options are left out)."""
    return without_none(
        dict(
            RecoveryPointArn=params["recovery_point_arn"],
            SourceBackupVaultName=params["source_backup_vault_name"],
            DestinationBackupVaultArn=params["destination_backup_vault_arn"],
            IamRoleArn=params["iam_role_arn"],
            IdempotencyToken=params["idempotency_token"],
            Lifecycle={"DeleteAfterDays": params["delete_after_days"]} if params["delete_after_days"] else None,
        )
    )


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    if module.check_mode:
        return dict(
            changed=True,
            copy_job_id=None,
            state="WOULD_START",
            status_message="",
            destination_recovery_point_arn=None,
            destination_encryption_key_arn=None,
            seconds=0.0,
        )
    client = module.client("backup")
    began = time.monotonic()
    job_id = backup_api.start_copy_job(client, job_request(params))["CopyJobId"]
    if params["wait"]:
        wait(client, "copy_job_ended", params["wait_timeout"], CopyJobId=job_id)
    job = backup_api.describe_copy_job(client, job_id)
    result = dict(
        changed=True,
        copy_job_id=job_id,
        state=job.get("State"),
        status_message=job.get("StatusMessage") or "",
        destination_recovery_point_arn=job.get("DestinationRecoveryPointArn"),
        destination_encryption_key_arn=job.get("DestinationEncryptionKeyArn"),
        seconds=round(time.monotonic() - began, 3),
    )
    if params["fail_on_job_failure"] and result["state"] in ("FAILED", "ABORTED"):
        raise DdbguardAWSError(message=f"Copy job {job_id} ended {result['state']}: {result['status_message']}")
    return result


def main() -> None:
    run_module(run, validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS Backup calls shared by our modules, one helper per API call.

Helpers take a client and values, never the module. Errors become ``DdbguardAWSError``
(see ``errors``); throttling is retried, paginated listings included. The decisions
(which recovery point, which policy) are in the pure ``backup`` module.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import BackupVaultErrorHandler, DdbguardErrorHandler

Client = Any


@DdbguardErrorHandler.common_error_handler("list the recovery points of the vault")
@AWSRetry.jittered_backoff()
def list_recovery_points(client: Client, vault: str, resource_arn: str, **filters: Any) -> list[dict[str, Any]]:
    """Recovery points of one resource in a vault (``ByCreatedBefore`` and the like in ``filters``)."""
    paginator = client.get_paginator("list_recovery_points_by_backup_vault")
    result = paginator.paginate(BackupVaultName=vault, ByResourceArn=resource_arn, **filters).build_full_result()
    return result.get("RecoveryPoints", [])


@DdbguardErrorHandler.common_error_handler("list the tags of a recovery point")
@AWSRetry.jittered_backoff()
def list_tags(client: Client, resource_arn: str) -> dict[str, str]:
    """The tags of a Backup resource (a recovery point, a vault, a plan). botocore has no
    paginator for ListTags: follow NextToken."""
    tags: dict[str, str] = {}
    kwargs: dict[str, Any] = {"ResourceArn": resource_arn}
    while True:
        page = client.list_tags(**kwargs)
        tags.update(page.get("Tags") or {})
        if not page.get("NextToken"):
            return tags
        kwargs["NextToken"] = page["NextToken"]


@DdbguardErrorHandler.common_error_handler("start a backup job")
@AWSRetry.jittered_backoff()
def start_backup_job(client: Client, request: dict[str, Any]) -> dict[str, Any]:
    return client.start_backup_job(**request)


@DdbguardErrorHandler.common_error_handler("describe the backup job")
@AWSRetry.jittered_backoff()
def describe_backup_job(client: Client, job_id: str) -> dict[str, Any]:
    return client.describe_backup_job(BackupJobId=job_id)


@DdbguardErrorHandler.common_error_handler("start a copy job")
@AWSRetry.jittered_backoff()
def start_copy_job(client: Client, request: dict[str, Any]) -> dict[str, Any]:
    return client.start_copy_job(**request)


@DdbguardErrorHandler.common_error_handler("describe the copy job")
@AWSRetry.jittered_backoff()
def describe_copy_job(client: Client, job_id: str) -> dict[str, Any]:
    return client.describe_copy_job(CopyJobId=job_id)["CopyJob"]


@DdbguardErrorHandler.common_error_handler("list restore jobs")
@AWSRetry.jittered_backoff()
def list_restore_jobs(client: Client, **filters: Any) -> list[dict[str, Any]]:
    return client.get_paginator("list_restore_jobs").paginate(**filters).build_full_result().get("RestoreJobs", [])


@DdbguardErrorHandler.common_error_handler("start a restore job")
@AWSRetry.jittered_backoff()
def start_restore_job(client: Client, request: dict[str, Any]) -> dict[str, Any]:
    return client.start_restore_job(**request)


@DdbguardErrorHandler.common_error_handler("describe the restore job")
@AWSRetry.jittered_backoff()
def describe_restore_job(client: Client, job_id: str) -> dict[str, Any]:
    return client.describe_restore_job(RestoreJobId=job_id)


@BackupVaultErrorHandler.list_error_handler("describe the backup vault")
@AWSRetry.jittered_backoff()
def find_vault(client: Client, name: str) -> dict[str, Any] | None:
    """The vault, or None when it does not exist (AWS says AccessDenied for that)."""
    return client.describe_backup_vault(BackupVaultName=name)


@DdbguardErrorHandler.common_error_handler("create the logically air-gapped vault")
@AWSRetry.jittered_backoff()
def create_air_gapped_vault(client: Client, request: dict[str, Any]) -> dict[str, Any]:
    return client.create_logically_air_gapped_backup_vault(**request)


@DdbguardErrorHandler.list_error_handler("read the vault access policy")
@AWSRetry.jittered_backoff()
def get_vault_policy(client: Client, name: str) -> str | None:
    """The vault access policy's text, or None when the vault has none."""
    return client.get_backup_vault_access_policy(BackupVaultName=name)["Policy"]


@DdbguardErrorHandler.common_error_handler("change the backup vault")
@AWSRetry.jittered_backoff()
def vault_call(client: Client, method: str, name: str, **kwargs: Any) -> None:
    """One of the vault's Put/Delete calls (policy, lock), by botocore method name."""
    getattr(client, method)(BackupVaultName=name, **kwargs)


@DdbguardErrorHandler.deletion_error_handler("delete the recovery point")
@AWSRetry.jittered_backoff()
def delete_recovery_point(client: Client, vault: str, point_arn: str) -> bool:
    """Delete one recovery point; False when it was already gone."""
    client.delete_recovery_point(BackupVaultName=vault, RecoveryPointArn=point_arn)
    return True


@DdbguardErrorHandler.list_error_handler("describe the recovery point")
@AWSRetry.jittered_backoff()
def describe_recovery_point(client: Client, vault: str, point_arn: str) -> dict[str, Any] | None:
    """The recovery point, or None when the vault does not hold it."""
    return client.describe_recovery_point(BackupVaultName=vault, RecoveryPointArn=point_arn)

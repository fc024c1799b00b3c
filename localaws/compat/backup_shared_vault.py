"""Recovery points of a logically air-gapped vault shared with another account (row 33).

AWS: once an account has accepted the RAM share of another account's logically air-gapped
vault (row 32), it lists that vault's recovery points with
``ListRecoveryPointsByBackupVault`` naming the vault and its owner
(``BackupVaultAccountId``), and restores one with ``StartRestoreJob`` on the recovery
point's ARN (which names the owner's account), with a role of its own: the restored
resource is created in the restoring account, and the restore job is that account's
(``DescribeRestoreJob``, ``ListRestoreJobs``). Without an accepted share, neither call
reaches the vault: AWS answers ``AccessDeniedException`` (AWS Backup Developer Guide,
"Share a logically air-gapped vault" and "Restore a backup from a logically air-gapped
vault"). The calls are authorized on the vault's and the recovery point's ARNs in the
owner's account. The vault's owner keeps its own recovery points, restores and jobs.

ministack 1.5.33 looks every vault and recovery point up in the caller's account only.
Here ``backup``'s router asks ``listing`` and ``restore_source`` for a vault or recovery
point of another account. The DynamoDB backup behind the recovery point is copied into the
restoring account for the restore and deleted after it (nothing of it stays there, as on
AWS). **Not emulated:** a share of a standard vault (RAM refuses it, row 32), multi-party
approval's restore access vaults, restoring into a third region.
"""

from __future__ import annotations

from typing import Any

from localaws.compat import ram
from localaws.compat.answers import Response, error


def vault_arn(region: str, owner: str, name: str) -> str:
    return f"arn:aws:backup:{region}:{owner}:backup-vault:{name}"


def refusal(arn: str, account: str) -> Response | None:
    """AWS's answer when ``account`` may not reach the vault ``arn`` of another account."""
    if ram.shared_with(arn, account):
        return None
    return error(
        "AccessDeniedException",
        f"{arn} is not shared with account {account}: the owner must share it through AWS RAM and "
        "this account accept the invitation.",
        403,
    )


def listing(points: dict[str, dict[str, Any]], arn: str, account: str) -> list[dict[str, Any]] | Response:
    """The recovery points of the shared vault ``arn``, or AWS's refusal."""
    refused = refusal(arn, account)
    if refused:
        return refused
    return [p for p in points.values() if p["BackupVaultArn"] == arn]


def restore_source(point: dict[str, Any], account: str) -> Response | None:
    """AWS's refusal when ``account`` may not restore ``point`` of another account's vault."""
    return refusal(point["BackupVaultArn"], account)


def backup_for_restore(backup_arn: str, owner: str, account: str, region: str) -> str:
    """Copy the owner's DynamoDB backup behind a shared recovery point into ``account``,
    for one restore there; the copy's ARN (the caller deletes it after the restore)."""
    from localaws.compat.backup_copy_jobs import copy_backup
    from localaws.compat.scope import account_region

    with account_region(owner, region):
        return copy_backup(backup_arn, account, region)

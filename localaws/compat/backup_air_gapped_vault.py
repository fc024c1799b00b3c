"""Logically air-gapped backup vaults, as AWS Backup keeps them (row 31).

AWS: ``CreateLogicallyAirGappedBackupVault`` (``PUT /logically-air-gapped-backup-vaults/{name}``)
makes a vault whose ``DescribeBackupVault`` answers ``VaultType:
LOGICALLY_AIR_GAPPED_BACKUP_VAULT``, ``VaultState: AVAILABLE``, ``Locked: true`` and its
``MinRetentionDays`` and ``MaxRetentionDays``: it is locked in compliance mode from the
start, so its lock can never be changed or removed and no recovery point younger than the
minimum retention can be deleted. ``MinRetentionDays`` is at least 7 and not above
``MaxRetentionDays``; a name the account already uses in the region is
``AlreadyExistsException``. It is encrypted with an AWS owned key, or with the customer
managed key of ``EncryptionKeyArn`` (``EncryptionKeyType``). A backup or copy job into it
whose lifecycle keeps the recovery point fewer days than the minimum, or more than the
maximum (or forever), fails (AWS Backup Developer Guide, "Logically air-gapped vault";
API reference, ``CreateLogicallyAirGappedBackupVault``). A standard vault answers
``VaultType: BACKUP_VAULT``.

ministack 1.5.33 has no route for the call and no vault type. Here the vault is a record of
ministack's vaults (so every other call finds it), with its lock in ``backup``'s store,
dated at creation (``backup_vault_lock`` then refuses every change and young deletions);
``backup_copy_jobs`` asks ``lifecycle_refusal`` before copying into it. **Not emulated:**
the storage in an AWS service-owned account, multi-party approval, primary backups into
the vault.
"""

from __future__ import annotations

import time
from typing import Any

from localaws.compat.answers import Response, answer, error

AIR_GAPPED = "LOGICALLY_AIR_GAPPED_BACKUP_VAULT"
STANDARD = "BACKUP_VAULT"
MIN_RETENTION_FLOOR = 7
MAX_RETENTION_CEILING = 36500


def create(vaults: Any, locks: dict[str, dict[str, Any]], name: str, body: dict[str, Any], vault_arn: str) -> Response:
    low, high = body.get("MinRetentionDays"), body.get("MaxRetentionDays")
    if not isinstance(low, int) or not isinstance(high, int):
        return error("InvalidParameterValueException", "MinRetentionDays and MaxRetentionDays are required.")
    if low < MIN_RETENTION_FLOOR:
        return error("InvalidParameterValueException", f"MinRetentionDays must be at least {MIN_RETENTION_FLOOR}.")
    if low > high or high > MAX_RETENTION_CEILING:
        return error(
            "InvalidParameterValueException",
            f"MaxRetentionDays must be at least MinRetentionDays and at most {MAX_RETENTION_CEILING}.",
        )
    if name in vaults:
        return error("AlreadyExistsException", f"Backup vault {name} already exists.")
    now = time.time()
    key = body.get("EncryptionKeyArn") or ""
    vaults[name] = {
        "BackupVaultName": name,
        "BackupVaultArn": vault_arn,
        "CreationDate": now,
        "EncryptionKeyArn": key,
        "EncryptionKeyType": "CUSTOMER_MANAGED_KMS_KEY" if key else "AWS_OWNED_KMS_KEY",
        "BackupVaultTags": body.get("BackupVaultTags") or {},
        "CreatorRequestId": body.get("CreatorRequestId", ""),
        "NumberOfRecoveryPoints": 0,
        "VaultType": AIR_GAPPED,
        "VaultState": "AVAILABLE",
    }
    locks[vault_arn] = {"MinRetentionDays": low, "MaxRetentionDays": high, "LockDate": now}
    return answer(
        {"BackupVaultName": name, "BackupVaultArn": vault_arn, "CreationDate": now, "VaultState": "AVAILABLE"}
    )


def vault_type(record: dict[str, Any]) -> str:
    return record.get("VaultType") or STANDARD


def lifecycle_refusal(record: dict[str, Any], lock: dict[str, Any] | None, lifecycle: dict[str, Any] | None) -> str:
    """Why a job into this vault fails for its lifecycle ("" when it does not)."""
    if vault_type(record) != AIR_GAPPED or not lock:
        return ""
    days = (lifecycle or {}).get("DeleteAfterDays")
    low, high = lock["MinRetentionDays"], lock["MaxRetentionDays"]
    if days is None or not low <= days <= high:
        kept = f"{days} days" if days is not None else "forever"
        return (
            f"The recovery point would be kept {kept}, outside the retention of the logically air-gapped "
            f"vault {record['BackupVaultName']} ({low} to {high} days)."
        )
    return ""

"""Vault access policies and Vault Lock, kept and enforced as AWS does (row 5).

AWS stores a vault's access policy (``GetBackupVaultAccessPolicy`` returns it) and its lock
(``DescribeBackupVault`` reports ``Locked``, ``MinRetentionDays``, ``MaxRetentionDays``,
``LockDate``); a lock cannot change after its ``LockDate``, and a recovery point younger
than ``MinRetentionDays`` cannot be deleted. ministack kept none of it. The policy's
explicit denies are evaluated in ``backup_vault_policy`` (row 14). ``backup``'s router
calls these with its store.
"""

from __future__ import annotations

import json
import time
from typing import Any

from localaws.compat.answers import Response, answer, error

DAY = 86400


def policy(policies: dict[str, str], vault: str, vault_arn: str, method: str, body: dict[str, Any]) -> Response | None:
    """Put, get or delete the vault's access policy."""
    if method == "PUT":
        try:
            json.loads(body.get("Policy") or "")
        except ValueError:
            return error("InvalidParameterValueException", "Policy must be a JSON policy document.")
        policies[vault_arn] = body["Policy"]
        return answer()
    if method == "GET":
        text = policies.get(vault_arn)
        if text is None:
            return error("ResourceNotFoundException", f"No access policy is associated with vault {vault}.")
        return answer({"BackupVaultName": vault, "BackupVaultArn": vault_arn, "Policy": text})
    if method == "DELETE":
        policies.pop(vault_arn, None)
        return answer()
    return None


def lock(
    locks: dict[str, dict[str, Any]], vault: str, vault_arn: str, method: str, body: dict[str, Any]
) -> Response | None:
    """Put or delete the vault's lock, refused once its changeable period is over."""
    current = locks.get(vault_arn)
    now = time.time()
    if current and current.get("LockDate") and current["LockDate"] <= now:
        return error("InvalidRequestException", f"Vault {vault} is locked in compliance mode and cannot be changed.")
    if method == "DELETE":
        locks.pop(vault_arn, None)
        return answer()
    if method != "PUT":
        return None
    low, high, changeable = body.get("MinRetentionDays"), body.get("MaxRetentionDays"), body.get("ChangeableForDays")
    if low is not None and high is not None and low > high:
        return error("InvalidParameterValueException", "MinRetentionDays must not exceed MaxRetentionDays.")
    if changeable is not None and changeable < 3:
        return error("InvalidParameterValueException", "ChangeableForDays must be at least 3.")
    locks[vault_arn] = {
        "MinRetentionDays": low,
        "MaxRetentionDays": high,
        "LockDate": now + changeable * DAY if changeable is not None else None,
    }
    return answer()


def described(locks: dict[str, dict[str, Any]], vault_arn: str) -> dict[str, Any]:
    """What ``DescribeBackupVault`` reports of the lock."""
    current = locks.get(vault_arn)
    return {"Locked": current is not None, **{k: v for k, v in (current or {}).items() if v is not None}}


def refuses_delete(locks: dict[str, dict[str, Any]], point: dict[str, Any]) -> Response | None:
    """AWS's refusal to delete a recovery point younger than the lock's MinRetentionDays."""
    current = locks.get(point["BackupVaultArn"])
    if (
        current
        and current.get("MinRetentionDays")
        and time.time() - point["CreationDate"] < current["MinRetentionDays"] * DAY
    ):
        return error(
            "InvalidRequestException",
            f"Recovery point is protected by the vault lock for {current['MinRetentionDays']} days.",
        )
    return None

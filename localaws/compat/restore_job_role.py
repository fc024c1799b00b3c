"""A restore job whose role cannot be assumed (row 15).

AWS accepts ``StartRestoreJob``, then ends the job ``FAILED`` with a ``StatusMessage``
saying the role could not be assumed. ministack's answer (and row 4's restore) ran
whatever ``IamRoleArn`` said. Here a role that does not exist in the emulator's IAM fails
the job so. **Not emulated:** the role's trust and permissions. ``backup``'s router calls
``assumable`` before restoring and ``failed_job`` when it is not.
"""

from __future__ import annotations

import time
import uuid
from typing import Any


def assumable(role_arn: str) -> bool:
    """Whether the role exists in the emulator's IAM (of the request's account)."""
    from ministack.services import iam

    return iam._roles.get(role_arn.rsplit("/", 1)[-1]) is not None


def failed_job(account: str, point: dict[str, Any], role_arn: str, started: float) -> dict[str, Any]:
    """The restore job record AWS keeps for a job that could not assume its role."""
    return {
        "AccountId": account,
        "RestoreJobId": str(uuid.uuid4()).upper(),
        "RecoveryPointArn": point["RecoveryPointArn"],
        "SourceResourceArn": point["ResourceArn"],
        "BackupVaultArn": point["BackupVaultArn"],
        "CreationDate": started,
        "CompletionDate": time.time(),
        "Status": "FAILED",
        "StatusMessage": f"Unable to assume role {role_arn}",
        "PercentDone": "0.0",
        "IamRoleArn": role_arn,
        "ResourceType": "DynamoDB",
        "RecoveryPointCreationDate": point["CreationDate"],
        "IsParent": False,
    }

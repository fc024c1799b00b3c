"""AWS Backup copy jobs of DynamoDB recovery points, to a vault in another region (row 29).

AWS: ``StartCopyJob`` (called in the source vault's region, authorized on the recovery
point, handing ``IamRoleArn`` to ``backup.amazonaws.com``) copies a recovery point into the
vault named by ``DestinationBackupVaultArn``, in that vault's region. The copy is a recovery
point of the destination vault, restorable there with ``StartRestoreJob``, encrypted with
the destination vault's key; it keeps the source's creation date and, across regions, all
of its tags ("Backup and tag copy" and "Copying tags onto backups" in the AWS Backup
Developer Guide). ``DescribeCopyJob`` and ``ListCopyJobs`` (in the source region) report
the job with its ``DestinationRecoveryPointArn``. A job that cannot assume its role, or
whose destination vault does not exist, or that would keep the copy outside a logically
air-gapped vault's retention (row 31), is accepted and ends ``FAILED`` with a
``StatusMessage``.

ministack 1.5.33: ``StartCopyJob`` has no route and ``ListCopyJobs`` answers an empty list.

Here: the DynamoDB backup behind the recovery point (row 4) is copied into the destination
region's DynamoDB backups (ministack's own store, under that region's scope) and a
recovery point is added to the destination vault; the job completes at once (AWS takes
minutes; callers wait for it as they would on AWS). **Not emulated:** a copy to another
account (the job ends ``FAILED``, saying so: a drill reports that step as not proven
here), continuous backups, cold storage.
"""

from __future__ import annotations

import copy
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from localaws.compat import backup_air_gapped_vault as air_gapped
from localaws.compat.answers import Response
from localaws.compat.answers import answer as _answer
from localaws.compat.answers import error as _error

VAULT_ARN = re.compile(
    r"^arn:aws[a-z-]*:backup:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):backup-vault:(?P<name>[^:/]+)$"
)
LIST_FILTERS = (
    ("resourceArn", "ResourceArn"),
    ("state", "State"),
    ("destinationVaultArn", "DestinationBackupVaultArn"),
    ("sourceRecoveryPointArn", "SourceRecoveryPointArn"),
    ("resourceType", "ResourceType"),
)


# Called after each copy with (destination vault ARN, the copy's DynamoDB backup ARN,
# account, region): how ``localaws.controls`` lets a test corrupt a vault's copies.
AFTER_COPY: list[Callable[[str, str, str, str], None]] = []


def copy_backup(backup_arn: str, account: str, region: str) -> str:
    """Copy ministack's DynamoDB backup ``backup_arn`` (of the caller's scope) into the
    scope of ``account``/``region``; the copy's backup ARN."""
    from ministack.core.responses import request_scope
    from ministack.services import dynamodb as ddb

    source = ddb._backups.get(backup_arn)
    if source is None:
        raise LookupError(f"Backup not found: {backup_arn}")
    parts = backup_arn.split(":", 5)
    table_part = parts[5].split("/backup/", 1)[0]
    arn = (
        f"arn:aws:dynamodb:{region}:{account}:{table_part}/backup/{int(time.time() * 1000):013d}-{uuid.uuid4().hex[:8]}"
    )
    record = copy.deepcopy(source)
    record["BackupDetails"]["BackupArn"] = arn
    with request_scope(account, region):
        ddb._backups[arn] = record
    return arn


def vault_in(account: str, region: str, name: str) -> dict[str, Any] | None:
    """ministack's record of the vault ``name`` in ``account``/``region``, or None."""
    from ministack.services import backup as backup_module

    return backup_module._vaults.get_scoped(account, region, name)


class CopyJobs:
    """``StartCopyJob``, ``DescribeCopyJob`` and ``ListCopyJobs`` on the compat store."""

    def __init__(
        self,
        store: Any,
        account: str,
        region: str,
        source_vault_arn: Callable[[str], str | None],
        role_exists: Callable[[str], bool],
        copy: Callable[[str, str, str], str] = copy_backup,
        find_vault: Callable[[str, str, str], dict[str, Any] | None] = vault_in,
    ):
        self.store = store
        self.account = account
        self.region = region
        self.source_vault_arn = source_vault_arn
        self.role_exists = role_exists
        self.copy = copy
        self.find_vault = find_vault

    def route(self, method: str, parts: list[str], query: dict[str, str], body: dict[str, Any]) -> Response | None:
        if method == "PUT" and len(parts) == 1:
            return self.start(body)
        if method == "GET" and len(parts) == 2 and parts[1]:
            job = self.store.copy_jobs.get(parts[1])
            if job is None or not self._mine(job):
                return _error("ResourceNotFoundException", f"Copy job {parts[1]} not found.")
            return _answer({"CopyJob": _public(job)})
        if method == "GET":
            return self.list(query)
        return None

    def _mine(self, job: dict[str, Any]) -> bool:
        return job["AccountId"] == self.account and job["_Region"] == self.region

    def start(self, body: dict[str, Any]) -> Response:
        point = self.store.recovery_points.get(body.get("RecoveryPointArn", ""))
        source = body.get("SourceBackupVaultName", "")
        if point is None or point["BackupVaultArn"] != self.source_vault_arn(source):
            return _error(
                "ResourceNotFoundException",
                f"Recovery point {body.get('RecoveryPointArn')} not found in vault {source}.",
            )
        match = VAULT_ARN.match(body.get("DestinationBackupVaultArn", ""))
        if not match:
            return _error(
                "InvalidParameterValueException",
                f"DestinationBackupVaultArn is not a backup vault ARN: {body.get('DestinationBackupVaultArn')!r}",
            )
        if not body.get("IamRoleArn"):
            return _error("InvalidParameterValueException", "IamRoleArn is required.")
        token = body.get("IdempotencyToken")
        for job in self.store.copy_jobs.values():
            if token and job.get("_IdempotencyToken") == token and self._mine(job):
                return _answer({"CopyJobId": job["CopyJobId"], "CreationDate": job["CreationDate"], "IsParent": False})
        now = time.time()
        job = {
            "AccountId": self.account,
            "CopyJobId": str(uuid.uuid4()).upper(),
            "SourceBackupVaultArn": point["BackupVaultArn"],
            "SourceRecoveryPointArn": point["RecoveryPointArn"],
            "DestinationBackupVaultArn": body["DestinationBackupVaultArn"],
            "ResourceArn": point["ResourceArn"],
            "ResourceType": point["ResourceType"],
            "ResourceName": point.get("ResourceName", ""),
            "CreationDate": now,
            "BackupSizeInBytes": point.get("BackupSizeInBytes", 0),
            "IamRoleArn": body["IamRoleArn"],
            "IsParent": False,
            "_Region": self.region,
            "_IdempotencyToken": token,
        }
        self.store.copy_jobs[job["CopyJobId"]] = job
        failure = self._refusal(match, body["IamRoleArn"], body.get("Lifecycle"))
        if failure:
            job.update(State="FAILED", StatusMessage=failure, CompletionDate=time.time())
        else:
            self._copy(point, match, body, job)
        return _answer({"CopyJobId": job["CopyJobId"], "CreationDate": now, "IsParent": False})

    def _refusal(self, match: re.Match, role_arn: str, lifecycle: dict[str, Any] | None = None) -> str:
        if match["account"] != self.account:
            return (
                f"Copy to account {match['account']} is not emulated by the local AWS "
                "(localaws/compat/backup_copy_jobs.py): not proven here."
            )
        if not self.role_exists(role_arn):
            return f"Unable to assume role {role_arn}"
        vault = self.find_vault(match["account"], match["region"], match["name"])
        if vault is None:
            return f"Backup vault {match['name']} does not exist in {match['region']}."
        return air_gapped.lifecycle_refusal(vault, self.store.locks.get(vault["BackupVaultArn"]), lifecycle)

    def _copy(self, point: dict[str, Any], match: re.Match, body: dict[str, Any], job: dict[str, Any]) -> None:
        vault = self.find_vault(match["account"], match["region"], match["name"]) or {}
        backup_arn = self.copy(point["_DynamoDbBackupArn"], match["account"], match["region"])
        arn = f"arn:aws:backup:{match['region']}:{match['account']}:recovery-point:{uuid.uuid4()}"
        copied = {
            **copy.deepcopy({k: v for k, v in point.items() if k != "LastRestoreTime"}),
            "RecoveryPointArn": arn,
            "BackupVaultName": match["name"],
            "BackupVaultArn": vault.get("BackupVaultArn", body["DestinationBackupVaultArn"]),
            "SourceBackupVaultArn": point["BackupVaultArn"],
            "IamRoleArn": body["IamRoleArn"],
            "EncryptionKeyArn": vault.get("EncryptionKeyArn") or "",
            "CompletionDate": time.time(),
            "_DynamoDbBackupArn": backup_arn,
        }
        if body.get("Lifecycle"):
            copied["Lifecycle"] = body["Lifecycle"]
        for after in AFTER_COPY:
            after(copied["BackupVaultArn"], backup_arn, match["account"], match["region"])
        self.store.recovery_points[arn] = copied
        job.update(
            State="COMPLETED",
            CompletionDate=time.time(),
            DestinationRecoveryPointArn=arn,
            DestinationEncryptionKeyArn=copied["EncryptionKeyArn"],
            DestinationVaultType=air_gapped.vault_type(vault),
        )

    def list(self, query: dict[str, str]) -> Response:
        jobs = [j for j in self.store.copy_jobs.values() if self._mine(j)]
        for param, key in LIST_FILTERS:
            if query.get(param):
                jobs = [j for j in jobs if j.get(key) == query[param]]
        jobs.sort(key=lambda j: j["CreationDate"], reverse=True)
        return _answer({"CopyJobs": [_public(j) for j in jobs]})


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}

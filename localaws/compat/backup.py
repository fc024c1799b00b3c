"""AWS Backup: answer as AWS does where ministack differs.

1. ``DescribeBackupVault`` on a vault that does not exist: AWS answers
   ``AccessDeniedException`` (HTTP 403), and ``amazon.aws.backup_vault`` relies on that to
   decide that it must create the vault. ministack answers ``ResourceNotFoundException``.
2. Backup jobs, recovery points and restore jobs for DynamoDB tables. ministack's
   ``StartBackupJob`` records a job but makes no backup, and its recovery-point and
   restore-job lists stay empty. Here ``StartBackupJob`` on a DynamoDB table makes a real
   DynamoDB backup and a listable recovery point, which keeps its ``RecoveryPointTags``
   (``ListTags`` and ``TagResource`` on its ARN, as on AWS; ministack drops them).
   ``StartRestoreJob`` restores that backup into the table named in its metadata. The
   Describe/List calls answer in the shapes of botocore's ``backup`` service model.
3. Copy jobs to a vault in another region (``localaws.compat.backup_copy_jobs``).
4. Vault access policies and Vault Lock. ministack keeps neither. Here they are stored,
   returned by ``GetBackupVaultAccessPolicy`` and ``DescribeBackupVault``, and a lock cannot
   be removed once its changeable period is over. A policy's explicit denies refuse the
   operations it protects (``localaws.compat.backup_vault_policy``).
5. Logically air-gapped vaults, locked from the start (``localaws.compat.backup_air_gapped_vault``).
6. Another account's shared air-gapped vault: its recovery points listed and restored
   (``localaws.compat.backup_shared_vault``).

Every request this module does not concern goes to ministack unchanged.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from localaws.compat import backup_air_gapped_vault as air_gapped
from localaws.compat import (
    backup_copy_jobs,
    backup_restore_testing,
    backup_shared_vault,
    backup_vault_lock,
    backup_vault_not_found,
    restore_encryption,
    restore_job_role,
)
from localaws.compat import backup_vault_policy as vault_policy
from localaws.compat.answers import Response
from localaws.compat.answers import answer as _answer
from localaws.compat.answers import error as _error


def _epoch(value: str | None) -> float | None:
    """A querystring timestamp (ISO 8601, as botocore sends it, or epoch seconds)."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@dataclass
class DynamoDbOps:
    """The DynamoDB operations a backup or a restore needs, injected so tests can fake them."""

    create_backup: Callable[[str, str], tuple[str, int]]  # (table, backup name) -> (backup ARN, size)
    restore: Callable[[str, str], str]  # (backup ARN, target table) -> target table ARN
    delete_backup: Callable[[str], None]
    role_exists: Callable[[str], bool] = lambda arn: True  # an IAM role ARN the service could assume
    # (backup ARN, account, region) -> the copy's backup ARN in that account and region
    copy_backup: Callable[[str, str, str], str] = backup_copy_jobs.copy_backup
    # (account, region, vault name) -> that vault's record, or None
    find_vault: Callable[[str, str, str], dict[str, Any] | None] = backup_copy_jobs.vault_in
    # (backup ARN, owner, account, region) -> a copy in ``account`` for one restore of a shared point
    share_backup: Callable[[str, str, str, str], str] = backup_shared_vault.backup_for_restore
    # (table, KMS key ARN) -> None: the restored table encrypted with that key (restore_encryption)
    encrypt: Callable[[str, str], None] = lambda table, key: None


@dataclass
class BackupStore:
    """Recovery points, jobs, restore jobs, vault policies and locks of one emulator."""

    recovery_points: dict[str, dict[str, Any]] = field(default_factory=dict)
    backup_jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    restore_jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    copy_jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    policies: dict[str, str] = field(default_factory=dict)
    locks: dict[str, dict[str, Any]] = field(default_factory=dict)
    restore_testing_plans: dict[str, dict[str, Any]] = field(default_factory=dict)  # backup_restore_testing

    KINDS = (
        "recovery_points",
        "backup_jobs",
        "restore_jobs",
        "copy_jobs",
        "policies",
        "locks",
        "restore_testing_plans",
    )

    def state(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.KINDS}

    def load(self, data: dict[str, Any]) -> None:
        for name in self.KINDS:
            getattr(self, name).update(data.get(name, {}))

    def clear(self) -> None:
        for name in self.KINDS:
            getattr(self, name).clear()


class BackupCompat:
    """Routes the Backup requests that need AWS's behaviour; returns None for the rest."""

    def __init__(
        self,
        store: BackupStore,
        vaults: dict[str, dict[str, Any]],
        ddb: DynamoDbOps,
        account: str,
        region: str,
        principal: str | None = None,
    ):
        self.store = store
        self.vaults = vaults
        self.ddb = ddb
        self.account = account
        self.region = region
        self.principal = principal or f"arn:aws:iam::{account}:root"

    def _denied(self, method: str, kind: str, vault: str, resource: str) -> Response | None:
        """AWS's refusal when the vault's access policy explicitly denies this call (backup_vault_policy)."""
        action = vault_policy.PROTECTED.get((method, kind))
        if action is None:
            return None
        return vault_policy.refusal(self.store.policies.get(self._vault_arn(vault)), action, self.principal, resource)

    # -- routing -------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> Response | None:
        parts = [unquote(p) for p in path.strip("/").split("/") if p]
        if not parts:
            return None
        head = parts[0]
        if head == "backup-vaults" and len(parts) >= 2:
            return self._vault_route(method, parts[1], parts[2:], query, body)
        if head == "logically-air-gapped-backup-vaults" and len(parts) == 2 and method == "PUT":
            arn = f"arn:aws:backup:{self.region}:{self.account}:backup-vault:{parts[1]}"
            return air_gapped.create(self.vaults, self.store.locks, parts[1], body, arn)
        if head == "backup-jobs":
            if method == "PUT" and len(parts) == 1:
                return self.start_backup_job(body)
            if method == "GET" and len(parts) == 2 and parts[1] in self.store.backup_jobs:
                return _answer(self.store.backup_jobs[parts[1]])
            if method == "GET" and len(parts) == 1:
                return self.list_backup_jobs(query)
        if head == "restore-testing":
            return backup_restore_testing.RestoreTesting(
                self.store.restore_testing_plans, self.account, self.region
            ).route(method, parts, query, body)
        if head == "restore-jobs":
            if method == "PUT" and len(parts) == 1:
                return self.start_restore_job(body)
            if method == "PUT" and len(parts) == 3 and parts[2] == "validations":
                job = self.store.restore_jobs.get(parts[1])
                job = job if job and job["AccountId"] == self.account else None
                return backup_restore_testing.put_validation(job, parts[1], body)
            if method == "GET" and len(parts) == 2:
                job = self.store.restore_jobs.get(parts[1])
                job = job if job and job["AccountId"] == self.account else None
                return (
                    _answer(job) if job else _error("ResourceNotFoundException", f"Restore job {parts[1]} not found.")
                )
            if method == "GET" and len(parts) == 1:
                return self.list_restore_jobs(query)
        if head == "copy-jobs":
            return backup_copy_jobs.CopyJobs(
                self.store,
                self.account,
                self.region,
                lambda vault: self._vault_arn(vault) if vault in self.vaults else None,
                self.ddb.role_exists,
                self.ddb.copy_backup,
                self.ddb.find_vault,
            ).route(method, parts, query, body)
        if head == "tags" and len(parts) == 2 and parts[1] in self.store.recovery_points:
            return self._point_tags(method, self.store.recovery_points[parts[1]], body)
        if head == "resources" and method == "GET" and len(parts) >= 3:
            resource_arn = "/".join(parts[1:-1])
            if parts[-1] == "recovery-points":
                return self.list_recovery_points_by_resource(resource_arn)
            if parts[-1] == "restore-jobs":
                jobs = [j for j in self.store.restore_jobs.values() if j.get("SourceResourceArn") == resource_arn]
                return _answer({"RestoreJobs": jobs})
        return None

    @staticmethod
    def _point_tags(method: str, point: dict[str, Any], body: dict[str, Any]) -> Response | None:
        """ListTags and TagResource on a recovery point: its RecoveryPointTags, as AWS keeps them."""
        tags = point.setdefault("_Tags", {})
        if method == "GET":
            return _answer({"Tags": dict(tags)})
        if method == "POST":
            tags.update(body.get("Tags") or {})
            return _answer()
        return None

    def _vault_route(self, method: str, vault: str, rest: list[str], query: dict[str, str], body: dict[str, Any]):
        owner = query.get("backupVaultAccountId") or self.account
        if owner != self.account:
            if rest == ["recovery-points"] and method == "GET":
                arn = backup_shared_vault.vault_arn(self.region, owner, vault)
                found = backup_shared_vault.listing(self.store.recovery_points, arn, self.account)
                return found if isinstance(found, tuple) else self._listed(found, query)
            return _error("AccessDeniedException", f"Only the owner of {vault} may make this call on it.", 403)
        if not rest:
            if method == "GET":
                return self.describe_vault(vault)
            if method == "DELETE" and vault in self.vaults and self._points_in(vault):
                return _error(
                    "InvalidRequestException", f"Backup vault {vault} cannot be deleted: it holds recovery points."
                )
            return None
        if vault not in self.vaults:
            return None  # ministack answers for a missing vault's sub-resources
        sub = rest[0]
        if sub == "access-policy":
            return self._denied(method, "access-policy", vault, self._vault_arn(vault)) or backup_vault_lock.policy(
                self.store.policies, vault, self._vault_arn(vault), method, body
            )
        if sub == "vault-lock":
            return backup_vault_lock.lock(self.store.locks, vault, self._vault_arn(vault), method, body)
        if sub == "recovery-points":
            if len(rest) == 1 and method == "GET":
                return self.list_recovery_points_by_vault(vault, query)
            arn = "/".join(rest[1:])
            metadata = arn.endswith("/restore-metadata")
            arn = arn.removesuffix("/restore-metadata")
            point = self.store.recovery_points.get(arn)
            if point is None or point["BackupVaultArn"] != self._vault_arn(vault):
                return _error("ResourceNotFoundException", f"Recovery point {arn} not found in vault {vault}.")
            if not metadata:
                denied = self._denied(method, "recovery-point", vault, arn)
                if denied:
                    return denied
            if method == "GET" and metadata:
                return _answer(self._restore_metadata(point))
            if method == "GET":
                return _answer(self._public(point))
            if method == "DELETE":
                return self.delete_recovery_point(point)
        return None

    # -- vaults (their policies and locks: backup_vault_lock) ------------------------
    def describe_vault(self, vault: str) -> Response | None:
        record = self.vaults.get(vault)
        if record is None:
            return backup_vault_not_found.answer(vault)
        answer = dict(record)
        answer["NumberOfRecoveryPoints"] = len(self._points_in(vault))
        answer["VaultType"] = air_gapped.vault_type(record)
        answer.update(backup_vault_lock.described(self.store.locks, record["BackupVaultArn"]))
        return _answer(answer)

    # -- backup jobs ---------------------------------------------------------------
    def start_backup_job(self, body: dict[str, Any]) -> Response | None:
        resource = body.get("ResourceArn", "")
        if ":dynamodb:" not in resource or ":table/" not in resource:
            return None  # not a DynamoDB table: ministack's own behaviour
        vault = body.get("BackupVaultName", "")
        if vault not in self.vaults:
            return backup_vault_not_found.answer(vault)
        token = body.get("IdempotencyToken")
        for job in self.store.backup_jobs.values():
            if token and job.get("_IdempotencyToken") == token and job["ResourceArn"] == resource:
                return _answer(
                    {k: job[k] for k in ("BackupJobId", "RecoveryPointArn", "CreationDate")} | {"IsParent": False}
                )
        table = resource.split(":table/", 1)[1].split("/", 1)[0]
        job_id = str(uuid.uuid4()).upper()
        try:
            backup_arn, size = self.ddb.create_backup(table, f"awsbackup-job-{job_id}")
        except LookupError:
            return _error("InvalidParameterValueException", f"Resource {resource} does not exist.")
        now = time.time()
        point_arn = f"arn:aws:backup:{self.region}:{self.account}:recovery-point:{uuid.uuid4()}"
        vault_record = self.vaults[vault]
        point = {
            "RecoveryPointArn": point_arn,
            "BackupVaultName": vault,
            "BackupVaultArn": vault_record["BackupVaultArn"],
            "ResourceArn": resource,
            "ResourceType": "DynamoDB",
            "ResourceName": table,
            "IamRoleArn": body.get("IamRoleArn", ""),
            "Status": "COMPLETED",
            "CreationDate": now,
            "InitiationDate": now,
            "CompletionDate": now,
            "BackupSizeInBytes": size,
            "EncryptionKeyArn": vault_record.get("EncryptionKeyArn") or "",
            "IsEncrypted": True,
            "IsParent": False,
            "VaultType": "BACKUP_VAULT",
            "_DynamoDbBackupArn": backup_arn,
        }
        if body.get("Lifecycle"):
            point["Lifecycle"] = body["Lifecycle"]
        point["_Tags"] = dict(body.get("RecoveryPointTags") or {})
        self.store.recovery_points[point_arn] = point
        self.store.backup_jobs[job_id] = {
            "AccountId": self.account,
            "BackupJobId": job_id,
            "BackupVaultName": vault,
            "BackupVaultArn": vault_record["BackupVaultArn"],
            "RecoveryPointArn": point_arn,
            "ResourceArn": resource,
            "ResourceType": "DynamoDB",
            "ResourceName": table,
            "CreationDate": now,
            "CompletionDate": now,
            "State": "COMPLETED",
            "PercentDone": "100.0",
            "BackupSizeInBytes": size,
            "IamRoleArn": body.get("IamRoleArn", ""),
            "BackupType": "FULL",
            "IsParent": False,
            "_IdempotencyToken": token,
        }
        return _answer({"BackupJobId": job_id, "RecoveryPointArn": point_arn, "CreationDate": now, "IsParent": False})

    def list_backup_jobs(self, query: dict[str, str]) -> Response | None:
        jobs = [self._public(j) for j in self.store.backup_jobs.values()]
        for param, key in (("resourceArn", "ResourceArn"), ("state", "State"), ("backupVaultName", "BackupVaultName")):
            if query.get(param):
                jobs = [j for j in jobs if j.get(key) == query[param]]
        return _answer({"BackupJobs": sorted(jobs, key=lambda j: j["CreationDate"], reverse=True)})

    # -- recovery points -----------------------------------------------------------
    def _vault_arn(self, vault: str) -> str:
        return self.vaults[vault]["BackupVaultArn"]

    def _points_in(self, vault: str) -> list[dict[str, Any]]:
        arn = self._vault_arn(vault)
        return [p for p in self.store.recovery_points.values() if p["BackupVaultArn"] == arn]

    @staticmethod
    def _public(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if not k.startswith("_")}

    def list_recovery_points_by_vault(self, vault: str, query: dict[str, str]) -> Response:
        return self._listed(self._points_in(vault), query)

    def _listed(self, points: list[dict[str, Any]], query: dict[str, str]) -> Response:
        before, after = _epoch(query.get("createdBefore")), _epoch(query.get("createdAfter"))
        if query.get("resourceArn"):
            points = [p for p in points if p["ResourceArn"] == query["resourceArn"]]
        if query.get("resourceType"):
            points = [p for p in points if p["ResourceType"] == query["resourceType"]]
        if before is not None:
            points = [p for p in points if p["CreationDate"] < before]
        if after is not None:
            points = [p for p in points if p["CreationDate"] > after]
        points = sorted(points, key=lambda p: p["CreationDate"], reverse=True)
        return _answer({"RecoveryPoints": [self._public(p) for p in points]})

    def _here(self, point: dict[str, Any]) -> bool:
        """Whether a recovery point is in the caller's account and region (a copy in another
        region is listed and restored there, not here)."""
        return point["RecoveryPointArn"].split(":")[3:5] == [self.region, self.account]

    def list_recovery_points_by_resource(self, resource_arn: str) -> Response:
        points = [p for p in self.store.recovery_points.values() if p["ResourceArn"] == resource_arn and self._here(p)]
        keys = (
            "RecoveryPointArn",
            "CreationDate",
            "Status",
            "EncryptionKeyArn",
            "BackupVaultName",
            "IsParent",
            "ResourceName",
        )
        members = [{k: p[k] for k in keys} | {"BackupSizeBytes": p["BackupSizeInBytes"]} for p in points]
        return _answer({"RecoveryPoints": sorted(members, key=lambda p: p["CreationDate"], reverse=True)})

    def _restore_metadata(self, point: dict[str, Any]) -> dict[str, Any]:
        return {
            "BackupVaultArn": point["BackupVaultArn"],
            "RecoveryPointArn": point["RecoveryPointArn"],
            "ResourceType": "DynamoDB",
            "RestoreMetadata": {"originalTableName": point["ResourceName"]},
        }

    def delete_recovery_point(self, point: dict[str, Any]) -> Response:
        refusal = backup_vault_lock.refuses_delete(self.store.locks, point)
        if refusal:
            return refusal
        self.ddb.delete_backup(point["_DynamoDbBackupArn"])
        del self.store.recovery_points[point["RecoveryPointArn"]]
        return _answer()

    # -- restore jobs --------------------------------------------------------------
    def start_restore_job(self, body: dict[str, Any]) -> Response | None:
        point = self.store.recovery_points.get(body.get("RecoveryPointArn", ""))
        if point is None:
            return None  # not one of ours: ministack's own behaviour
        owner = point["RecoveryPointArn"].split(":")[4]
        if point["RecoveryPointArn"].split(":")[3] != self.region:
            return _error("ResourceNotFoundException", f"Recovery point {point['RecoveryPointArn']} not found.")
        if owner != self.account:
            refused = backup_shared_vault.restore_source(point, self.account)
            if refused:
                return refused
        metadata = body.get("Metadata") or {}
        target = metadata.get("targetTableName")
        if not target:
            return _error(
                "InvalidParameterValueException", "Metadata.targetTableName is required to restore a DynamoDB table."
            )
        if not body.get("IamRoleArn"):
            return _error("InvalidParameterValueException", "IamRoleArn is required.")
        started = time.time()
        if not self.ddb.role_exists(body["IamRoleArn"]):
            # AWS accepts the job, then fails it when it cannot assume the role.
            job = restore_job_role.failed_job(self.account, point, body["IamRoleArn"], started)
            self.store.restore_jobs[job["RestoreJobId"]] = job
            return _answer({"RestoreJobId": job["RestoreJobId"]})
        backup_arn = point["_DynamoDbBackupArn"]
        if owner != self.account:
            backup_arn = self.ddb.share_backup(backup_arn, owner, self.account, self.region)
        encryption = restore_encryption.metadata_key(metadata)
        if isinstance(encryption, str) and not encryption:
            return _error(
                "InvalidParameterValueException", "Metadata.kmsMasterKeyArn is required with encryptionType KMS."
            )
        try:
            created = self.ddb.restore(backup_arn, target)
        except ValueError as err:
            return _error("InvalidParameterValueException", str(err))
        finally:
            if backup_arn != point["_DynamoDbBackupArn"]:
                self.ddb.delete_backup(backup_arn)
        if encryption:
            self.ddb.encrypt(target, encryption)
        job_id = str(uuid.uuid4()).upper()
        self.store.restore_jobs[job_id] = {
            "AccountId": self.account,
            "RestoreJobId": job_id,
            "RecoveryPointArn": point["RecoveryPointArn"],
            "SourceResourceArn": point["ResourceArn"],
            "BackupVaultArn": point["BackupVaultArn"],
            "CreationDate": started,
            "CompletionDate": time.time(),
            "Status": "COMPLETED",
            "PercentDone": "100.0",
            "BackupSizeInBytes": point["BackupSizeInBytes"],
            "IamRoleArn": body["IamRoleArn"],
            "CreatedResourceArn": created,
            "ResourceType": "DynamoDB",
            "RecoveryPointCreationDate": point["CreationDate"],
            "IsParent": False,
        }
        point["LastRestoreTime"] = started
        return _answer({"RestoreJobId": job_id})

    def list_restore_jobs(self, query: dict[str, str]) -> Response:
        jobs = [j for j in self.store.restore_jobs.values() if j["AccountId"] == self.account]
        if query.get("status"):
            jobs = [j for j in jobs if j["Status"] == query["status"]]
        if query.get("resourceType"):
            jobs = [j for j in jobs if j["ResourceType"] == query["resourceType"]]
        if query.get("restoreTestingPlanArn"):
            plan = query["restoreTestingPlanArn"]
            jobs = [j for j in jobs if (j.get("CreatedBy") or {}).get("RestoreTestingPlanArn") == plan]
        return _answer({"RestoreJobs": sorted(jobs, key=lambda j: j["CreationDate"], reverse=True)})


STORE = BackupStore()
_STATE_KEY = "localaws_backup"


def ops() -> DynamoDbOps:
    """The DynamoDB operations on ministack's tables that the router uses (for the controls)."""
    return _ministack_ddb_ops()


def _ministack_ddb_ops() -> DynamoDbOps:
    """DynamoDB operations on ministack's own tables, in the caller's account and region."""
    from ministack.services import dynamodb as ddb

    def create_backup(table: str, name: str) -> tuple[str, int]:
        status, _, body = ddb._create_backup({"TableName": table, "BackupName": name})
        if status != 200:
            raise LookupError(json.loads(body).get("message") or json.loads(body).get("Message"))
        details = json.loads(body)["BackupDetails"]
        return details["BackupArn"], int(details.get("BackupSizeBytes") or 0)

    def restore(backup_arn: str, target: str) -> str:
        status, _, body = ddb._restore_table_from_backup({"TargetTableName": target, "BackupArn": backup_arn})
        doc = json.loads(body)
        if status != 200:
            raise ValueError(doc.get("message") or doc.get("Message") or "restore failed")
        return doc["TableDescription"]["TableArn"]

    def delete_backup(backup_arn: str) -> None:
        ddb._delete_backup({"BackupArn": backup_arn})

    def encrypt(table: str, key: str) -> None:
        record = ddb._tables.get(table)
        if record is not None:
            record["SSEDescription"] = ddb._sse_description_from_spec(
                {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}
            )

    return DynamoDbOps(
        create_backup=create_backup,
        restore=restore,
        delete_backup=delete_backup,
        role_exists=restore_job_role.assumable,
        encrypt=encrypt,
    )


def install() -> None:
    from ministack.core.responses import get_account_id, get_region
    from ministack.services import backup as backup_module

    original = backup_module.handle_request
    if getattr(original, "_localaws_patched", False):
        return
    ops = _ministack_ddb_ops()

    async def handle_request(method, path, headers, body, query_params):
        try:
            doc = json.loads(body) if body else {}
        except ValueError:
            doc = {}
        query = {k: (v[0] if isinstance(v, list) else v) for k, v in query_params.items()}
        principal = vault_policy.caller(headers, query)
        compat = BackupCompat(STORE, backup_module._vaults, ops, get_account_id(), get_region(), principal)
        answer = compat.handle(method, path, query, doc)
        if answer is not None:
            return answer
        return await original(method, path, headers, body, query_params)

    original_get_state = backup_module.get_state
    original_load = backup_module.load_persisted_state
    original_reset = backup_module.reset

    def get_state():
        return {**original_get_state(), _STATE_KEY: STORE.state()}

    def load_persisted_state(data):
        original_load(data)
        STORE.load((data or {}).get(_STATE_KEY, {}))

    def reset():
        original_reset()
        STORE.clear()

    handle_request._localaws_patched = True
    backup_module.handle_request = handle_request
    backup_module.get_state = get_state
    backup_module.load_persisted_state = load_persisted_state
    backup_module.reset = reset

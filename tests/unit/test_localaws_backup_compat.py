"""The AWS Backup compatibility layer, in-process, with DynamoDB faked."""

from __future__ import annotations

import json
import time

import pytest

from localaws.compat.backup import BackupCompat, BackupStore, DynamoDbOps
from localaws.compat.backup_vault_lock import DAY

VAULT_ARN = "arn:aws:backup:us-east-1:000000000000:backup-vault:vault"
TABLE_ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/orders"
ROLE = "arn:aws:iam::000000000000:role/backup"


class FakeDynamoDb:
    def __init__(self):
        self.backups: dict[str, str] = {}
        self.tables = {"orders"}

    def create_backup(self, table, name):
        if table not in self.tables:
            raise LookupError(f"Table not found: {table}")
        arn = f"{TABLE_ARN.rsplit('/', 1)[0]}/{table}/backup/{name}"
        self.backups[arn] = table
        return arn, 1234

    def restore(self, backup_arn, target):
        if target in self.tables:
            raise ValueError(f"Target table {target} already exists")
        self.tables.add(target)
        return f"arn:aws:dynamodb:us-east-1:000000000000:table/{target}"

    def delete_backup(self, backup_arn):
        del self.backups[backup_arn]


@pytest.fixture
def compat():
    fake = FakeDynamoDb()
    vaults = {"vault": {"BackupVaultName": "vault", "BackupVaultArn": VAULT_ARN, "EncryptionKeyArn": "arn:key"}}
    ops = DynamoDbOps(create_backup=fake.create_backup, restore=fake.restore, delete_backup=fake.delete_backup)
    c = BackupCompat(BackupStore(), vaults, ops, "000000000000", "us-east-1")
    c.fake = fake
    return c


def call(compat, method, path, body=None, query=None):
    answer = compat.handle(method, path, query or {}, body or {})
    assert answer is not None, f"{method} {path} was not handled"
    status, _, payload = answer
    return status, json.loads(payload or b"{}")


def backup(compat, **extra):
    status, doc = call(
        compat,
        "PUT",
        "/backup-jobs",
        {"BackupVaultName": "vault", "ResourceArn": TABLE_ARN, "IamRoleArn": ROLE, **extra},
    )
    assert status == 200, doc
    return doc


def test_describing_a_missing_vault_answers_access_denied_as_aws_does(compat):
    status, doc = call(compat, "GET", "/backup-vaults/missing")
    assert status == 403 and doc["__type"] == "AccessDeniedException"


def test_a_backup_job_makes_a_real_backup_and_a_listable_recovery_point(compat):
    job = backup(compat)
    assert len(compat.fake.backups) == 1
    status, described = call(compat, "GET", f"/backup-jobs/{job['BackupJobId']}")
    assert described["State"] == "COMPLETED" and described["RecoveryPointArn"] == job["RecoveryPointArn"]
    _, by_vault = call(compat, "GET", "/backup-vaults/vault/recovery-points/", query={"resourceArn": TABLE_ARN})
    assert [p["RecoveryPointArn"] for p in by_vault["RecoveryPoints"]] == [job["RecoveryPointArn"]]
    assert "_DynamoDbBackupArn" not in by_vault["RecoveryPoints"][0]
    _, by_resource = call(compat, "GET", f"/resources/{TABLE_ARN}/recovery-points/")
    assert by_resource["RecoveryPoints"][0]["BackupSizeBytes"] == 1234
    _, vault = call(compat, "GET", "/backup-vaults/vault")
    assert vault["NumberOfRecoveryPoints"] == 1 and vault["Locked"] is False


def test_the_same_idempotency_token_returns_the_same_job(compat):
    first = backup(compat, IdempotencyToken="t-1")
    again = backup(compat, IdempotencyToken="t-1")
    assert again["BackupJobId"] == first["BackupJobId"] and len(compat.fake.backups) == 1


def test_created_before_selects_the_latest_point_before_a_time(compat):
    first = backup(compat)
    cut = time.time()
    time.sleep(0.01)
    backup(compat)
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(cut)) + f".{int((cut % 1) * 1e6):06d}Z"
    _, doc = call(compat, "GET", "/backup-vaults/vault/recovery-points/", query={"createdBefore": iso})
    assert [p["RecoveryPointArn"] for p in doc["RecoveryPoints"]] == [first["RecoveryPointArn"]]


def test_a_restore_job_restores_into_the_named_table_and_is_described(compat):
    point = backup(compat)["RecoveryPointArn"]
    status, started = call(
        compat,
        "PUT",
        "/restore-jobs",
        {"RecoveryPointArn": point, "IamRoleArn": ROLE, "Metadata": {"targetTableName": "orders-restored"}},
    )
    assert status == 200
    _, job = call(compat, "GET", f"/restore-jobs/{started['RestoreJobId']}")
    assert job["Status"] == "COMPLETED"
    assert job["CreatedResourceArn"].endswith(":table/orders-restored")
    assert "orders-restored" in compat.fake.tables
    _, listed = call(compat, "GET", "/restore-jobs/")
    assert [j["RestoreJobId"] for j in listed["RestoreJobs"]] == [started["RestoreJobId"]]
    status, doc = call(
        compat,
        "PUT",
        "/restore-jobs",
        {"RecoveryPointArn": point, "IamRoleArn": ROLE, "Metadata": {"targetTableName": "orders"}},
    )
    assert status == 400 and "already exists" in doc["Message"]


def test_a_restore_without_a_target_table_is_refused(compat):
    point = backup(compat)["RecoveryPointArn"]
    status, doc = call(compat, "PUT", "/restore-jobs", {"RecoveryPointArn": point, "IamRoleArn": ROLE, "Metadata": {}})
    assert status == 400 and "targetTableName" in doc["Message"]


def test_the_access_policy_is_stored_returned_and_removed(compat):
    assert call(compat, "GET", "/backup-vaults/vault/access-policy")[0] == 400
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    assert call(compat, "PUT", "/backup-vaults/vault/access-policy", {"Policy": policy})[0] == 200
    assert call(compat, "GET", "/backup-vaults/vault/access-policy")[1]["Policy"] == policy
    assert call(compat, "DELETE", "/backup-vaults/vault/access-policy")[0] == 200
    assert call(compat, "PUT", "/backup-vaults/vault/access-policy", {"Policy": "not json"})[0] == 400


def test_vault_lock_settings_are_validated_described_and_frozen_after_the_lock_date(compat):
    assert (
        call(compat, "PUT", "/backup-vaults/vault/vault-lock", {"MinRetentionDays": 10, "MaxRetentionDays": 5})[0]
        == 400
    )
    assert call(compat, "PUT", "/backup-vaults/vault/vault-lock", {"ChangeableForDays": 2})[0] == 400
    body = {"MinRetentionDays": 7, "MaxRetentionDays": 35, "ChangeableForDays": 3}
    assert call(compat, "PUT", "/backup-vaults/vault/vault-lock", body)[0] == 200
    _, vault = call(compat, "GET", "/backup-vaults/vault")
    assert vault["Locked"] is True and vault["MinRetentionDays"] == 7 and vault["LockDate"] > time.time() + 2 * DAY
    point = backup(compat)["RecoveryPointArn"]
    status, doc = call(compat, "DELETE", f"/backup-vaults/vault/recovery-points/{point}")
    assert status == 400 and "vault lock" in doc["Message"]
    compat.store.locks[VAULT_ARN]["LockDate"] = time.time() - 1  # the changeable period is over
    assert call(compat, "DELETE", "/backup-vaults/vault/vault-lock")[0] == 400


def test_a_recovery_point_outside_any_lock_can_be_deleted_with_its_backup(compat):
    point = backup(compat)["RecoveryPointArn"]
    assert call(compat, "DELETE", f"/backup-vaults/vault/recovery-points/{point}")[0] == 200
    assert compat.fake.backups == {}
    assert call(compat, "GET", f"/backup-vaults/vault/recovery-points/{point}")[0] == 400


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/backup-jobs", {"BackupVaultName": "vault", "ResourceArn": "arn:aws:s3:::bucket"}),
        ("PUT", "/restore-jobs", {"RecoveryPointArn": "arn:aws:backup:us-east-1:0:recovery-point:unknown"}),
        ("PUT", "/backup-vaults/vault", {}),
        ("GET", "/backup/plans", {}),
    ],
)
def test_requests_outside_the_layer_go_to_ministack(compat, method, path, body):
    assert compat.handle(method, path, {}, body) is None


def _protect(compat, exempt):
    from ansible_collections.ddbguard.dr.plugins.module_utils import backup as bk

    policy = bk.vault_access_policy(VAULT_ARN, "arn:aws:backup:us-east-1:000000000000:recovery-point:*", exempt)
    status, _ = call(compat, "PUT", "/backup-vaults/vault/access-policy", {"Policy": json.dumps(policy)})
    assert status == 200


def test_the_vault_policy_refuses_what_it_denies_to_everyone_but_the_exempt(compat):
    """The policy ddbguard sets (module_utils.backup) is evaluated, not only stored."""
    point = backup(compat)["RecoveryPointArn"]
    _protect(compat, ["arn:aws:iam::000000000000:role/break-glass"])
    path = f"/backup-vaults/vault/recovery-points/{point}"
    status, doc = call(compat, "DELETE", path)
    assert status == 403 and doc["__type"] == "AccessDeniedException"
    assert "explicit deny in a resource-based policy" in doc["Message"]
    status, doc = call(compat, "DELETE", "/backup-vaults/vault/access-policy")
    assert status == 403, "removing the policy first must be refused too"
    compat.principal = "arn:aws:iam::000000000000:role/break-glass"
    assert call(compat, "DELETE", path)[0] == 200
    assert call(compat, "DELETE", "/backup-vaults/vault/access-policy")[0] == 200


def test_an_assumed_role_session_counts_as_its_role():
    from localaws.compat import backup_vault_policy as vp

    session = "arn:aws:sts::000000000000:assumed-role/break-glass/alice"
    assert vp.principal_arn(session) == "arn:aws:iam::000000000000:role/break-glass"
    assert vp.principal_arn("arn:aws:iam::000000000000:root") == "arn:aws:iam::000000000000:root"


def test_a_condition_the_emulator_cannot_read_is_not_applied():
    from localaws.compat import backup_vault_policy as vp

    policy = {
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "backup:DeleteRecoveryPoint",
                "Resource": "*",
                "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            }
        ]
    }
    assert vp.denying_statement(policy, "backup:DeleteRecoveryPoint", "arn:aws:iam::1:root", "arn:x") is None
    policy["Statement"][0].pop("Condition")
    assert vp.denying_statement(policy, "backup:DeleteRecoveryPoint", "arn:aws:iam::1:root", "arn:x") == "0"


def test_a_restore_job_whose_role_cannot_be_assumed_fails_as_on_aws(compat):
    point = backup(compat)["RecoveryPointArn"]
    compat.ddb = DynamoDbOps(
        create_backup=compat.fake.create_backup,
        restore=compat.fake.restore,
        delete_backup=compat.fake.delete_backup,
        role_exists=lambda arn: False,
    )
    body = {"RecoveryPointArn": point, "Metadata": {"targetTableName": "restored"}, "IamRoleArn": ROLE}
    status, started = call(compat, "PUT", "/restore-jobs", body)
    assert status == 200, "AWS accepts the job, then fails it"
    status, job = call(compat, "GET", f"/restore-jobs/{started['RestoreJobId']}")
    assert job["Status"] == "FAILED" and "Unable to assume role" in job["StatusMessage"]
    assert "restored" not in compat.fake.tables


def test_a_recovery_point_keeps_its_tags_as_aws_does(compat):
    """The drill tags its recovery points (ddbguard:drill) so that restores skip them;
    ministack dropped the tags, so nothing could be skipped."""
    point = backup(compat, RecoveryPointTags={"ddbguard:drill": "run-1"})["RecoveryPointArn"]
    assert call(compat, "GET", f"/tags/{point}/") == (200, {"Tags": {"ddbguard:drill": "run-1"}})
    assert call(compat, "POST", f"/tags/{point}", {"Tags": {"owner": "ops"}})[0] == 200
    assert call(compat, "GET", f"/tags/{point}/")[1]["Tags"] == {"ddbguard:drill": "run-1", "owner": "ops"}
    plain = backup(compat)["RecoveryPointArn"]
    assert call(compat, "GET", f"/tags/{plain}/") == (200, {"Tags": {}})
    assert compat.handle("GET", "/tags/arn:aws:backup:us-east-1:000000000000:backup-plan:x/", {}, {}) is None

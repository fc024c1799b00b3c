"""Copy jobs of the AWS Backup compatibility layer (row 29), in-process, DynamoDB faked:
a recovery point copied to a vault of another region is that region's to list and restore."""

from __future__ import annotations

import json

import pytest

from localaws.compat.backup import BackupCompat, BackupStore, DynamoDbOps

ACCOUNT, OTHER_ACCOUNT = "000000000000", "111111111111"
PRIMARY, DR = "us-east-1", "us-west-2"
TABLE_ARN = f"arn:aws:dynamodb:{PRIMARY}:{ACCOUNT}:table/orders"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/backup"


def vault_arn(region: str, name: str = "vault", account: str = ACCOUNT) -> str:
    return f"arn:aws:backup:{region}:{account}:backup-vault:{name}"


class World:
    """Two regions of one account: their vaults, and DynamoDB backups and tables by region."""

    def __init__(self):
        self.store = BackupStore()
        self.vaults = {
            region: {
                "vault": {"BackupVaultName": "vault", "BackupVaultArn": vault_arn(region), "EncryptionKeyArn": key}
            }
            for region, key in ((PRIMARY, "arn:key-primary"), (DR, "arn:key-dr"))
        }
        self.backups: dict[str, str] = {}  # backup ARN -> region
        self.restored: list[tuple[str, str, str]] = []  # (region, backup ARN, target)
        self.roles = {ROLE}

    def compat(self, region: str) -> BackupCompat:
        def create_backup(table, name):
            arn = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{table}/backup/{name}"
            self.backups[arn] = region
            return arn, 1234

        def restore(backup_arn, target):
            if self.backups.get(backup_arn) != region:
                raise ValueError(f"Backup not found: {backup_arn}")
            self.restored.append((region, backup_arn, target))
            return f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{target}"

        def copy_backup(backup_arn, account, to_region):
            assert self.backups[backup_arn] == region, "a copy reads the backup of the caller's region"
            arn = f"{backup_arn}-copy-{to_region}"
            self.backups[arn] = to_region
            return arn

        ops = DynamoDbOps(
            create_backup=create_backup,
            restore=restore,
            delete_backup=self.backups.pop,
            role_exists=lambda arn: arn in self.roles,
            copy_backup=copy_backup,
            find_vault=lambda account, in_region, name: (
                self.vaults.get(in_region, {}).get(name) if account == ACCOUNT else None
            ),
        )
        return BackupCompat(self.store, self.vaults[region], ops, ACCOUNT, region)


def call(compat, method, path, body=None, query=None):
    answer = compat.handle(method, path, query or {}, body or {})
    assert answer is not None, f"{method} {path} was not handled"
    status, _, payload = answer
    return status, json.loads(payload or b"{}")


@pytest.fixture
def world():
    return World()


def backed_up(world) -> dict:
    status, job = call(
        world.compat(PRIMARY),
        "PUT",
        "/backup-jobs",
        {
            "BackupVaultName": "vault",
            "ResourceArn": TABLE_ARN,
            "IamRoleArn": ROLE,
            "RecoveryPointTags": {"ddbguard:drill": "run-1"},
        },
    )
    assert status == 200, job
    return job


def copy(world, point_arn: str, destination: str = vault_arn(DR), **extra) -> dict:
    body = {
        "RecoveryPointArn": point_arn,
        "SourceBackupVaultName": "vault",
        "DestinationBackupVaultArn": destination,
        "IamRoleArn": ROLE,
        **extra,
    }
    status, started = call(world.compat(PRIMARY), "PUT", "/copy-jobs", body)
    assert status == 200, started
    status, described = call(world.compat(PRIMARY), "GET", f"/copy-jobs/{started['CopyJobId']}")
    assert status == 200, described
    return described["CopyJob"]


def test_a_copy_lands_in_the_destination_vault_and_is_restored_only_in_that_region(world):
    point = backed_up(world)["RecoveryPointArn"]
    job = copy(world, point)
    assert job["State"] == "COMPLETED" and job["SourceRecoveryPointArn"] == point
    copied = job["DestinationRecoveryPointArn"]
    assert copied.startswith(f"arn:aws:backup:{DR}:{ACCOUNT}:recovery-point:")

    dr, primary = world.compat(DR), world.compat(PRIMARY)
    _, listed = call(dr, "GET", "/backup-vaults/vault/recovery-points/")
    [member] = listed["RecoveryPoints"]
    _, source = call(primary, "GET", f"/backup-vaults/vault/recovery-points/{point}")
    assert member["RecoveryPointArn"] == copied and member["BackupVaultArn"] == vault_arn(DR)
    assert member["EncryptionKeyArn"] == "arn:key-dr", "a copy is encrypted with the destination vault's key"
    assert member["CreationDate"] == source["CreationDate"], "a copy keeps its source's creation date"
    assert member["ResourceArn"] == TABLE_ARN
    _, tags = call(dr, "GET", f"/tags/{copied}")
    assert tags["Tags"] == {"ddbguard:drill": "run-1"}, "a cross-region copy keeps every tag of its source"

    # the primary region lists and restores its own point only
    _, by_resource = call(primary, "GET", f"/resources/{TABLE_ARN}/recovery-points/")
    assert [p["RecoveryPointArn"] for p in by_resource["RecoveryPoints"]] == [point]
    status, refused = call(
        primary,
        "PUT",
        "/restore-jobs",
        {"RecoveryPointArn": copied, "IamRoleArn": ROLE, "Metadata": {"targetTableName": "x"}},
    )
    assert status == 400 and refused["__type"] == "ResourceNotFoundException"

    status, restore = call(
        dr,
        "PUT",
        "/restore-jobs",
        {"RecoveryPointArn": copied, "IamRoleArn": ROLE, "Metadata": {"targetTableName": "orders"}},
    )
    assert status == 200, restore
    assert world.restored == [(DR, f"{world.store.recovery_points[point]['_DynamoDbBackupArn']}-copy-{DR}", "orders")]


@pytest.mark.parametrize(
    ("destination", "prepare", "message"),
    [
        (vault_arn(DR, "missing"), None, "Backup vault missing does not exist in us-west-2."),
        (vault_arn(DR), lambda w: w.roles.clear(), f"Unable to assume role {ROLE}"),
        (vault_arn(DR, account=OTHER_ACCOUNT), None, "not proven here"),
    ],
)
def test_a_copy_that_cannot_be_made_is_accepted_and_fails_saying_why(world, destination, prepare, message):
    point = backed_up(world)["RecoveryPointArn"]
    if prepare:
        prepare(world)
    job = copy(world, point, destination)
    assert job["State"] == "FAILED" and message in job["StatusMessage"]
    assert "DestinationRecoveryPointArn" not in job
    _, listed = call(world.compat(DR), "GET", "/backup-vaults/vault/recovery-points/")
    assert listed["RecoveryPoints"] == []


def test_a_copy_job_refuses_a_point_of_another_vault_and_a_destination_that_is_not_a_vault(world):
    point = backed_up(world)["RecoveryPointArn"]
    primary = world.compat(PRIMARY)
    body = {"RecoveryPointArn": point, "DestinationBackupVaultArn": vault_arn(DR), "IamRoleArn": ROLE}
    status, doc = call(primary, "PUT", "/copy-jobs", {**body, "SourceBackupVaultName": "other"})
    assert status == 400 and doc["__type"] == "ResourceNotFoundException"
    bad = {**body, "SourceBackupVaultName": "vault", "DestinationBackupVaultArn": "arn:aws:s3:::bucket"}
    status, doc = call(primary, "PUT", "/copy-jobs", bad)
    assert status == 400 and doc["__type"] == "InvalidParameterValueException"
    assert world.store.copy_jobs == {}


def test_copy_jobs_are_listed_in_their_source_region_with_aws_filters_and_one_per_idempotency_token(world):
    point = backed_up(world)["RecoveryPointArn"]
    first = copy(world, point, IdempotencyToken="t-1")
    again = copy(world, point, IdempotencyToken="t-1")
    other = copy(world, point)
    assert again["CopyJobId"] == first["CopyJobId"] != other["CopyJobId"]
    _, listed = call(world.compat(PRIMARY), "GET", "/copy-jobs/", query={"sourceRecoveryPointArn": point})
    assert {j["CopyJobId"] for j in listed["CopyJobs"]} == {first["CopyJobId"], other["CopyJobId"]}
    _, failed = call(world.compat(PRIMARY), "GET", "/copy-jobs/", query={"state": "FAILED"})
    assert failed["CopyJobs"] == []
    _, in_dr = call(world.compat(DR), "GET", "/copy-jobs/")
    assert in_dr["CopyJobs"] == [], "a copy job belongs to the region it was started in"
    status, _ = call(world.compat(DR), "GET", f"/copy-jobs/{first['CopyJobId']}")
    assert status == 400

"""Row 31: a logically air-gapped vault is locked in compliance mode from its creation, and a
copy into it must keep the recovery point within its retention."""

from __future__ import annotations

import pytest

from tests.unit.test_localaws_backup_copy_jobs import (
    ACCOUNT,
    PRIMARY,
    World,
    backed_up,
    call,
    copy,
    vault_arn,
)

LAG = "air-gapped"
CREATE = f"/logically-air-gapped-backup-vaults/{LAG}"


@pytest.fixture
def world():
    return World()


def created(world, **body) -> tuple[int, dict]:
    return call(world.compat(PRIMARY), "PUT", CREATE, {"MinRetentionDays": 7, "MaxRetentionDays": 35, **body})


def test_the_vault_is_air_gapped_available_and_locked_from_the_start(world):
    status, made = created(world, EncryptionKeyArn="arn:key-primary")
    assert status == 200 and made["VaultState"] == "AVAILABLE"
    assert made["BackupVaultArn"] == vault_arn(PRIMARY, LAG)
    _, described = call(world.compat(PRIMARY), "GET", f"/backup-vaults/{LAG}")
    assert described["VaultType"] == "LOGICALLY_AIR_GAPPED_BACKUP_VAULT"
    assert described["Locked"] is True
    assert (described["MinRetentionDays"], described["MaxRetentionDays"]) == (7, 35)
    assert described["EncryptionKeyType"] == "CUSTOMER_MANAGED_KMS_KEY"
    _, standard = call(world.compat(PRIMARY), "GET", "/backup-vaults/vault")
    assert standard["VaultType"] == "BACKUP_VAULT"
    status, refused = call(world.compat(PRIMARY), "DELETE", f"/backup-vaults/{LAG}/vault-lock")
    assert status == 400 and refused["__type"] == "InvalidRequestException", "its lock can never be removed"


def test_without_a_key_it_is_encrypted_with_an_aws_owned_key(world):
    created(world)
    _, described = call(world.compat(PRIMARY), "GET", f"/backup-vaults/{LAG}")
    assert described["EncryptionKeyType"] == "AWS_OWNED_KMS_KEY"


@pytest.mark.parametrize(
    "body",
    [{"MinRetentionDays": 6}, {"MinRetentionDays": 40}, {"MaxRetentionDays": 36501}, {"MinRetentionDays": None}],
)
def test_a_retention_aws_refuses_is_refused(world, body):
    status, refused = created(world, **body)
    assert status == 400 and refused["__type"] == "InvalidParameterValueException"
    assert LAG not in world.vaults[PRIMARY]


def test_a_second_vault_of_the_same_name_already_exists(world):
    created(world)
    status, refused = created(world)
    assert status == 400 and refused["__type"] == "AlreadyExistsException"


def test_a_copy_within_its_retention_lands_and_is_kept_from_deletion(world):
    created(world)
    point = backed_up(world)["RecoveryPointArn"]
    job = copy(world, point, vault_arn(PRIMARY, LAG), Lifecycle={"DeleteAfterDays": 35})
    assert job["State"] == "COMPLETED", job
    assert job["DestinationVaultType"] == "LOGICALLY_AIR_GAPPED_BACKUP_VAULT"
    copied = job["DestinationRecoveryPointArn"]
    status, refused = call(world.compat(PRIMARY), "DELETE", f"/backup-vaults/{LAG}/recovery-points/{copied}")
    assert status == 400 and "vault lock" in refused["Message"]


@pytest.mark.parametrize("lifecycle", [None, {"DeleteAfterDays": 3}, {"DeleteAfterDays": 36}])
def test_a_copy_kept_outside_its_retention_fails_and_says_why(world, lifecycle):
    created(world)
    point = backed_up(world)["RecoveryPointArn"]
    extra = {"Lifecycle": lifecycle} if lifecycle else {}
    job = copy(world, point, vault_arn(PRIMARY, LAG), **extra)
    assert job["State"] == "FAILED"
    assert "outside the retention of the logically air-gapped vault air-gapped (7 to 35 days)" in job["StatusMessage"]
    _, listed = call(world.compat(PRIMARY), "GET", f"/backup-vaults/{LAG}/recovery-points/")
    assert listed["RecoveryPoints"] == []
    assert ACCOUNT in job["DestinationBackupVaultArn"]

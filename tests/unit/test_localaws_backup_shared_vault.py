"""Row 33: the recovery account lists and restores the recovery points of the source
account's air-gapped vault only once the share is accepted; the restore is its own."""

from __future__ import annotations

import pytest

from localaws.compat import ram
from localaws.compat.backup import BackupCompat, BackupStore, DynamoDbOps
from tests.unit.test_localaws_backup_copy_jobs import call

SOURCE, RECOVERY = "000000000000", "222222222222"
REGION = "us-east-1"
LAG = f"arn:aws:backup:{REGION}:{SOURCE}:backup-vault:air-gapped"
TABLE = f"arn:aws:dynamodb:{REGION}:{SOURCE}:table/orders"


class Accounts:
    """The source and the recovery account of one region: their vaults, backups and tables."""

    def __init__(self):
        self.store = BackupStore()
        self.vaults = {
            SOURCE: {"air-gapped": {"BackupVaultName": "air-gapped", "BackupVaultArn": LAG, "EncryptionKeyArn": ""}},
            RECOVERY: {},
        }
        self.backups: dict[str, str] = {}  # backup ARN -> account
        self.restored: list[tuple[str, str]] = []  # (account, target)

    def compat(self, account: str) -> BackupCompat:
        def create_backup(table, name):
            arn = f"arn:aws:dynamodb:{REGION}:{account}:table/{table}/backup/{name}"
            self.backups[arn] = account
            return arn, 10

        def restore(backup_arn, target):
            if self.backups.get(backup_arn) != account:
                raise ValueError(f"Backup not found: {backup_arn}")
            self.restored.append((account, target))
            return f"arn:aws:dynamodb:{REGION}:{account}:table/{target}"

        def share_backup(backup_arn, owner, to_account, region):
            assert self.backups[backup_arn] == owner
            copy = f"{backup_arn}-for-{to_account}"
            self.backups[copy] = to_account
            return copy

        ops = DynamoDbOps(
            create_backup=create_backup,
            restore=restore,
            delete_backup=self.backups.pop,
            role_exists=lambda arn: True,
            share_backup=share_backup,
        )
        return BackupCompat(self.store, self.vaults[account], ops, account, REGION)


@pytest.fixture
def accounts(monkeypatch):
    monkeypatch.setattr(ram, "STORE", ram.RamStore())
    return Accounts()


def share(accept: bool = True) -> None:
    kinds = {LAG: "LOGICALLY_AIR_GAPPED_BACKUP_VAULT"}.get
    owner = ram.Ram(ram.STORE, SOURCE, REGION, kinds)
    owner.create({"name": "s", "resourceArns": [LAG], "principals": [RECOVERY]})
    if accept:
        invitation = next(iter(ram.STORE.invitations.values()))
        ram.Ram(ram.STORE, RECOVERY, REGION, kinds).accept(
            {"resourceShareInvitationArn": invitation["resourceShareInvitationArn"]}
        )


def backed_up(accounts) -> str:
    body = {"BackupVaultName": "air-gapped", "ResourceArn": TABLE, "IamRoleArn": "arn:role"}
    body["Lifecycle"] = {"DeleteAfterDays": 35}
    status, job = call(accounts.compat(SOURCE), "PUT", "/backup-jobs", body)
    assert status == 200, job
    return job["RecoveryPointArn"]


def listed(accounts) -> tuple[int, dict]:
    return call(
        accounts.compat(RECOVERY), "GET", "/backup-vaults/air-gapped/recovery-points",
        query={"backupVaultAccountId": SOURCE},
    )  # fmt: skip


def restored(accounts, point: str) -> tuple[int, dict]:
    body = {"RecoveryPointArn": point, "IamRoleArn": f"arn:aws:iam::{RECOVERY}:role/r"}
    body["Metadata"] = {"targetTableName": "orders"}
    return call(accounts.compat(RECOVERY), "PUT", "/restore-jobs", body)


@pytest.mark.parametrize("accept", [None, False])
def test_without_an_accepted_share_the_vault_and_its_points_are_refused(accounts, accept):
    point = backed_up(accounts)
    if accept is not None:
        share(accept=accept)
    status, refused = listed(accounts)
    assert status == 403 and refused["__type"] == "AccessDeniedException"
    status, refused = restored(accounts, point)
    assert status == 403 and refused["__type"] == "AccessDeniedException"
    assert accounts.restored == []


def test_the_recovery_account_lists_and_restores_into_itself_and_keeps_no_backup(accounts):
    point = backed_up(accounts)
    share()
    status, found = listed(accounts)
    assert status == 200 and [p["RecoveryPointArn"] for p in found["RecoveryPoints"]] == [point]
    status, started = restored(accounts, point)
    assert status == 200, started
    assert accounts.restored == [(RECOVERY, "orders")]
    assert sorted(accounts.backups.values()) == [SOURCE], "the copy made for the restore is gone"
    status, job = call(accounts.compat(RECOVERY), "GET", f"/restore-jobs/{started['RestoreJobId']}")
    assert status == 200 and job["Status"] == "COMPLETED" and job["AccountId"] == RECOVERY
    assert job["CreatedResourceArn"] == f"arn:aws:dynamodb:{REGION}:{RECOVERY}:table/orders"
    status, _ = call(accounts.compat(SOURCE), "GET", f"/restore-jobs/{started['RestoreJobId']}")
    assert status == 400, "the restore job is the recovery account's, not the owner's"
    _, owner_jobs = call(accounts.compat(SOURCE), "GET", "/restore-jobs")
    assert owner_jobs["RestoreJobs"] == []


def test_only_the_owner_changes_its_vault(accounts):
    share()
    status, refused = call(
        accounts.compat(RECOVERY), "DELETE", "/backup-vaults/air-gapped", query={"backupVaultAccountId": SOURCE}
    )
    assert status == 403 and refused["__type"] == "AccessDeniedException"

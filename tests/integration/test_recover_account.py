"""playbooks/recover-account.yml: a lost account. The recovery account restores the tables
from the logically air-gapped vault the source account shared with it, with its own
credentials only, while every principal of the source account is denied (docs/emulator.md,
rows 32-34). The tests run in order: the first provisions."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

from localaws import principals
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

TABLE, SOURCE, RECOVERY = "ddbguard-demo", principals.ACCOUNT, principals.RECOVERY_ACCOUNT
LAG = "ddbguard-air-gapped"
ITEMS = [
    {"pk": "account-loss-every-type", "n": Decimal("3.25"), "b": Binary(b"\x07"), "ss": {"x", "y"}, "m": {"l": [True]}},
    {"pk": "account-loss-plain", "s": "kept"},
]
SER, DES = TypeSerializer(), TypeDeserializer()
SOURCE_ID = ["-e", f"ddbguard_recover_source_account_id={SOURCE}"]


def recover(aws, *extra: str, check: bool = True):
    return aws.playbook("playbooks/recover-account.yml", *SOURCE_ID, *extra, check=check)


def test_site_shares_the_vault_and_a_copy_of_a_backup_is_in_it(local_aws):
    """What a scheduled backup and its plan's copy leave in the air-gapped vault (the local
    AWS runs no schedule): a backup job of the data, copied into the vault."""
    local_aws.playbook("site.yml")
    ram = local_aws.client("ram", who="operator")
    [share] = ram.get_resource_shares(resourceOwner="SELF", name=LAG)["resourceShares"]
    [principal] = ram.get_resource_share_associations(
        associationType="PRINCIPAL", resourceShareArns=[share["resourceShareArn"]]
    )["resourceShareAssociations"]
    assert (principal["associatedEntity"], principal["status"]) == (RECOVERY, "ASSOCIATING"), "invited, not yet in"
    writer = local_aws.client("dynamodb", who="writer")
    for item in ITEMS:
        writer.put_item(TableName=TABLE, Item={k: SER.serialize(v) for k, v in item.items()})
    backup = local_aws.client("backup")
    role = local_aws.client("iam").get_role(RoleName="ddbguard-backup")["Role"]["Arn"]
    table_arn = local_aws.client("dynamodb").describe_table(TableName=TABLE)["Table"]["TableArn"]
    job = backup.start_backup_job(BackupVaultName="ddbguard-vault", ResourceArn=table_arn, IamRoleArn=role)
    point = wait_for(
        lambda: backup.describe_backup_job(BackupJobId=job["BackupJobId"]).get("RecoveryPointArn"), what="the backup"
    )
    lag = backup.describe_backup_vault(BackupVaultName=LAG)
    assert lag["VaultType"] == "LOGICALLY_AIR_GAPPED_BACKUP_VAULT"
    copy = backup.start_copy_job(
        RecoveryPointArn=point,
        SourceBackupVaultName="ddbguard-vault",
        DestinationBackupVaultArn=lag["BackupVaultArn"],
        IamRoleArn=role,
        Lifecycle={"DeleteAfterDays": 35},
    )
    assert backup.describe_copy_job(CopyJobId=copy["CopyJobId"])["CopyJob"]["State"] == "COMPLETED"


def test_bad_input_is_refused_before_any_aws_call_naming_the_variable(local_aws):
    short = recover(local_aws, "-e", "ddbguard_recover_source_account_id=12345", check=False)
    assert "ddbguard_recover_source_account_id must be the 12-digit id of the lost account" in short.stdout
    none = recover(local_aws, "-e", json.dumps({"ddbguard_recovery_aws": {}}), check=False)
    assert "ddbguard_recovery_aws must give the recovery account's connection" in none.stdout
    same = recover(local_aws, "-e", json.dumps({"ddbguard_recover_names": {TABLE: "x"}}), check=False)
    assert "ddbguard_recover_names must give DynamoDB table names" in same.stdout
    for run in (short, none, same):
        assert run.returncode != 0
        assert "Make sure the local AWS runs" not in run.stdout, "refused before the plays that call AWS"


def test_the_source_accounts_own_credentials_are_refused_before_anything_is_restored(local_aws):
    """Run with the source account's credentials by mistake: it says so, restores nothing."""
    run = recover(local_aws, "-e", "ddbguard_recovery_aws={{ ddbguard_aws }}", check=False)
    assert run.returncode != 0
    assert f"The credentials are of account {SOURCE}, the lost account" in run.stdout
    assert "ddbguard_recover_source_account_id" in run.stdout
    assert local_aws.client("backup", who="recovery").list_restore_jobs()["RestoreJobs"] == []


def test_the_recovery_account_restores_every_item_with_the_source_account_denied(local_aws):
    local_aws.isolate_account(SOURCE)
    try:
        with pytest.raises(Exception, match="AccessDenied"):
            local_aws.client("dynamodb", who="operator").describe_table(TableName=TABLE)
        plan = recover(local_aws, "--check")
        assert "is not accepted yet" in plan.stdout
        assert local_aws.client("dynamodb", who="recovery_auditor").list_tables()["TableNames"] == []
        run = recover(local_aws)
    finally:
        local_aws.isolate_account(SOURCE, isolated=False)
    assert f"point the application at table {TABLE} of account {RECOVERY}" in run.stdout
    auditor = local_aws.client("dynamodb", who="recovery_auditor")
    table = auditor.describe_table(TableName=TABLE)["Table"]
    assert table["TableArn"] == f"arn:aws:dynamodb:us-east-1:{RECOVERY}:table/{TABLE}"
    restored = {
        i["pk"]["S"]: {k: DES.deserialize(v) for k, v in i.items()} for i in auditor.scan(TableName=TABLE)["Items"]
    }
    for item in ITEMS:
        assert restored[item["pk"]] == item, "every attribute of every type, as backed up"
    [job] = local_aws.client("backup", who="recovery").list_restore_jobs()["RestoreJobs"]
    assert job["Status"] == "COMPLETED" and job["RecoveryPointArn"].split(":")[4] == SOURCE
    assert local_aws.client("backup").list_restore_jobs()["RestoreJobs"] == [], "the restore is not the source's"
    again = recover(local_aws)
    assert again.recap()["changed"] == 0, "a second run finds the table its restore made"


def test_a_name_taken_in_the_recovery_account_stops_before_anything_is_restored(local_aws):
    # An application of the recovery account made this table (its root, as no principal of
    # ours may create tables there).
    ddb = principals.root_client("dynamodb", local_aws.endpoint, account=RECOVERY)
    ddb.create_table(
        TableName="taken-by-an-application",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    jobs = len(local_aws.client("backup", who="recovery").list_restore_jobs()["RestoreJobs"])
    run = recover(
        local_aws, "-e", json.dumps({"ddbguard_recover_names": {TABLE: "taken-by-an-application"}}), check=False
    )
    assert run.returncode != 0
    assert f"ddbguard_recover_names[{TABLE}]: table taken-by-an-application exists in account {RECOVERY}" in run.stdout
    assert len(local_aws.client("backup", who="recovery").list_restore_jobs()["RestoreJobs"]) == jobs

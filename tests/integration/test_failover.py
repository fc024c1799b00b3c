"""playbooks/failover.yml: a lost region. The table comes up in the DR region from its copy
there, protected as site.yml protects it, while the primary region answers nothing at all
(docs/emulator.md, row 30). The tests run in order: the first provisions."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary, TypeSerializer

from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

TABLE, PRIMARY, DR = "ddbguard-demo", "us-east-1", "us-west-2"
# One item of every DynamoDB type, as the application wrote it before the backup.
ITEMS = [
    {
        "pk": "failover-every-type",
        "s": "text",
        "n": Decimal("12.5"),
        "b": Binary(b"\x00\x01"),
        "bool": True,
        "null": None,
        "ss": {"a", "b"},
        "ns": {Decimal(1), Decimal(2)},
        "bs": {Binary(b"x")},
        "l": ["x", Decimal(1), {"m": "n"}],
        "m": {"nested": {"deep": ["v"]}},
    },
    {"pk": "failover-plain", "s": "second"},
]
SER = TypeSerializer()


def wire(item: dict) -> dict:
    return {k: SER.serialize(v) for k, v in item.items()}


def test_site_then_a_copy_of_a_backup_of_the_data_in_the_dr_region(local_aws):
    """What a scheduled backup and its plan's copy leave in the DR region (the local AWS runs
    no schedule): a backup job of the data, copied to the DR region's vault."""
    local_aws.playbook("site.yml")
    writer = local_aws.client("dynamodb", who="writer")
    for item in ITEMS:
        writer.put_item(TableName=TABLE, Item=wire(item))
    backup = local_aws.client("backup")
    role = local_aws.client("iam").get_role(RoleName="ddbguard-backup")["Role"]["Arn"]
    table_arn = local_aws.client("dynamodb").describe_table(TableName=TABLE)["Table"]["TableArn"]
    job = backup.start_backup_job(BackupVaultName="ddbguard-vault", ResourceArn=table_arn, IamRoleArn=role)
    point = wait_for(
        lambda: backup.describe_backup_job(BackupJobId=job["BackupJobId"]).get("RecoveryPointArn"), what="the backup"
    )
    dr_vault = local_aws.client("backup", region=DR).describe_backup_vault(BackupVaultName="ddbguard-vault")
    copy = backup.start_copy_job(
        RecoveryPointArn=point,
        SourceBackupVaultName="ddbguard-vault",
        DestinationBackupVaultArn=dr_vault["BackupVaultArn"],
        IamRoleArn=role,
    )
    assert backup.describe_copy_job(CopyJobId=copy["CopyJobId"])["CopyJob"]["State"] == "COMPLETED"


def test_bad_input_is_refused_before_any_aws_call_naming_the_variable(local_aws):
    same = local_aws.playbook("playbooks/failover.yml", "-e", "ddbguard_failover_region=us-east-1", check=False)
    assert same.returncode != 0
    assert "ddbguard_failover_region (us-east-1) must differ" in same.stdout
    unknown = local_aws.playbook(
        "playbooks/failover.yml", "-e", json.dumps({"ddbguard_failover_tables": ["orders"]}), check=False
    )
    assert unknown.returncode != 0
    assert "ddbguard_failover_tables names tables ddbguard_tables does not list: orders" in unknown.stdout
    for run in (same, unknown):
        assert "Make sure the local AWS runs" not in run.stdout, "refused before the plays that call AWS"


def test_a_name_taken_in_the_dr_region_stops_the_failover_before_anything_is_restored(local_aws):
    dr = local_aws.client("dynamodb", region=DR)
    dr.create_table(
        TableName="taken",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    run = local_aws.playbook(
        "playbooks/failover.yml", "-e", json.dumps({"ddbguard_failover_names": {TABLE: "taken"}}), check=False
    )
    assert run.returncode != 0
    assert "ddbguard_failover_names[ddbguard-demo]: table taken exists in us-west-2" in run.stdout, run.stdout[-3000:]
    assert sorted(dr.list_tables()["TableNames"]) == ["taken"], "nothing restored"
    assert dr.scan(TableName="taken")["Count"] == 0


def test_the_dry_run_shows_the_plan_and_writes_nothing(local_aws):
    run = local_aws.playbook("playbooks/failover.yml", "--check")
    assert "ddbguard-demo -> ddbguard-demo in us-west-2" in run.stdout
    assert re.search(r"restore arn:aws:(backup|dynamodb):us-west-2:", " ".join(run.stdout.split())), run.stdout[-3000:]
    assert TABLE not in local_aws.client("dynamodb", region=DR).list_tables()["TableNames"]


def test_failover_with_the_primary_region_down_restores_and_protects_the_table_in_the_dr_region(local_aws):
    local_aws.region_down(PRIMARY)
    try:
        run = local_aws.playbook("playbooks/failover.yml")
        _the_table_is_back_and_protected(local_aws)
        said = " ".join(run.stdout.split())
        assert "ddbguard-demo: point the application at table ddbguard-demo in us-west-2" in said, run.stdout[-3000:]
        again = local_aws.playbook("playbooks/failover.yml")
        assert again.recap()["changed"] == 0, "a second failover finds it done"
    finally:
        local_aws.region_down(PRIMARY, down=False)


def _the_table_is_back_and_protected(local_aws) -> None:
    ddb = local_aws.client("dynamodb", region=DR)
    for item in ITEMS:
        got = ddb.get_item(TableName=TABLE, Key={"pk": {"S": item["pk"]}}, ConsistentRead=True)["Item"]
        assert got == wire(item), item["pk"]
    table = ddb.describe_table(TableName=TABLE)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["DeletionProtectionEnabled"] is True
    assert ":kms:us-west-2:" in table["SSEDescription"]["KMSMasterKeyArn"]
    pitr = ddb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    ttl = ddb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")
    backup = local_aws.client("backup", region=DR)
    plans = backup.list_backup_plans()["BackupPlansList"]
    selected = [
        arn
        for plan in plans
        for sel in backup.list_backup_selections(BackupPlanId=plan["BackupPlanId"])["BackupSelectionsList"]
        for arn in backup.get_backup_selection(BackupPlanId=plan["BackupPlanId"], SelectionId=sel["SelectionId"])[
            "BackupSelection"
        ].get("Resources", [])
    ]
    assert table["TableArn"] in selected
    mappings = local_aws.client("lambda", region=DR).list_event_source_mappings(FunctionName=f"{TABLE}-change-monitor")[
        "EventSourceMappings"
    ]
    assert [(m["EventSourceArn"], m["State"]) for m in mappings] == [(table["LatestStreamArn"], "Enabled")]
    # The monitor undoes a delete there, as it did in the lost region.
    writer = local_aws.client("dynamodb", region=DR, who="writer")
    writer.delete_item(TableName=TABLE, Key={"pk": {"S": "failover-plain"}})
    wait_for(
        lambda: "Item" in ddb.get_item(TableName=TABLE, Key={"pk": {"S": "failover-plain"}}, ConsistentRead=True),
        timeout=60,
        what="the monitor in the DR region to undo the delete",
    )

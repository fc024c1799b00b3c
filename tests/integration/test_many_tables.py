"""Many tables in one inventory: each protected in parallel, one vault and plan for all.

Also: adopting a table that exists never changes its key schema, billing mode or capacity.
The tests of this module run in order against one emulator (module-scoped fixture).
"""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.integration

TWO = [
    {"name": "many-orders", "hash_key_name": "pk", "protected_events": ["REMOVE"]},
    {
        "name": "many-customers",
        "hash_key_name": "id",
        "range_key_name": "kind",
        "protected_events": ["REMOVE", "MODIFY"],
    },
]
THIRD = {"name": "many-invoices", "hash_key_name": "pk", "protected_events": ["REMOVE"], "ttl_attribute_name": "ttl"}
LEGACY = "many-legacy"


def site(aws, tables, check: bool = True):
    return aws.playbook("site.yml", "-e", json.dumps({"ddbguard_tables": tables}), check=check)


def selections(aws) -> dict[str, list[str]]:
    backup = aws.client("backup")
    [plan] = backup.list_backup_plans()["BackupPlansList"]
    out = {}
    for listed in backup.list_backup_selections(BackupPlanId=plan["BackupPlanId"])["BackupSelectionsList"]:
        selection = backup.get_backup_selection(BackupPlanId=plan["BackupPlanId"], SelectionId=listed["SelectionId"])
        out[selection["BackupSelection"]["SelectionName"]] = selection["BackupSelection"]["Resources"]
    return out


def test_two_tables_are_both_protected(local_aws):
    site(local_aws, TWO)
    ddb, lam = local_aws.client("dynamodb"), local_aws.client("lambda")
    for table in TWO:
        described = ddb.describe_table(TableName=table["name"])["Table"]
        assert described["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        env = lam.get_function_configuration(FunctionName=f"{table['name']}-change-monitor")["Environment"]["Variables"]
        assert env["DDBGUARD_PROTECTED_EVENTS"] == ",".join(table["protected_events"])
        assert env["DDBGUARD_PARTITION_KEY"] == table["hash_key_name"]
        assert selections(local_aws)[table["name"]] == [described["TableArn"]]
    # One vault (and the inventory's air-gapped vault) for every table.
    vaults = local_aws.client("backup").list_backup_vaults()["BackupVaultList"]
    assert sorted(v["BackupVaultName"] for v in vaults) == ["ddbguard-air-gapped", "ddbguard-vault"]
    key_schema = ddb.describe_table(TableName="many-customers")["Table"]["KeySchema"]
    assert key_schema == [{"AttributeName": "id", "KeyType": "HASH"}, {"AttributeName": "kind", "KeyType": "RANGE"}]


def test_adding_a_third_table_changes_only_what_belongs_to_it(local_aws):
    run = site(local_aws, [*TWO, THIRD])
    changed = {host: counters["changed"] for host, counters in run.recap_by_host().items()}
    # localhost: the dashboard gains the new table's row, the restore testing selection and the
    # validation function's export right gain its ARN, and nothing else changes there.
    assert changed["localhost"] == 3 and changed["many-orders"] == 0 and changed["many-customers"] == 0, changed
    assert changed["many-invoices"] > 0
    assert set(selections(local_aws)) == {"many-orders", "many-customers", "many-invoices"}
    assert site(local_aws, [*TWO, THIRD]).recap()["changed"] == 0


def test_an_existing_provisioned_table_is_adopted_without_changing_its_capacity_or_keys(local_aws):
    ddb = local_aws.client("dynamodb")
    ddb.create_table(
        TableName=LEGACY,
        KeySchema=[{"AttributeName": "orderId", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "orderId", "AttributeType": "N"}],
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 7, "WriteCapacityUnits": 3},
    )
    before = ddb.describe_table(TableName=LEGACY)["Table"]
    adopt = {"name": LEGACY, "existing": True, "protected_events": ["REMOVE"]}
    site(local_aws, [*TWO, THIRD, adopt])
    after = ddb.describe_table(TableName=LEGACY)["Table"]
    assert after["KeySchema"] == before["KeySchema"] == [{"AttributeName": "orderId", "KeyType": "HASH"}]
    assert after["AttributeDefinitions"] == before["AttributeDefinitions"]
    assert after.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED") == "PROVISIONED"
    assert after["ProvisionedThroughput"]["ReadCapacityUnits"] == 7
    assert after["ProvisionedThroughput"]["WriteCapacityUnits"] == 3
    # ... and only the protections were turned on, with the monitor keyed on its real key.
    assert after["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert after["DeletionProtectionEnabled"] is True
    env = local_aws.client("lambda").get_function_configuration(FunctionName=f"{LEGACY}-change-monitor")
    assert env["Environment"]["Variables"]["DDBGUARD_PARTITION_KEY"] == "orderId"
    assert site(local_aws, [*TWO, THIRD, adopt]).recap()["changed"] == 0


def test_a_table_declared_existing_that_is_missing_is_not_created(local_aws):
    run = site(local_aws, [{"name": "many-missing", "existing": True}], check=False)
    assert run.returncode != 0
    assert "Table many-missing does not exist, and dr_table_existing is true" in run.stdout
    assert "many-missing" not in local_aws.client("dynamodb").list_tables()["TableNames"]

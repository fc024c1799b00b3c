"""playbooks/teardown.yml: removes what site.yml made, keeps data unless the operator types
the table's name, refuses a locked vault, and finishes after a half-finished run.

The tests of this module run in order against one emulator (module-scoped fixture).
"""

from __future__ import annotations

import json
import re

import pytest

from localaws import principals
from tests.integration.conftest import resources

pytestmark = pytest.mark.integration

TABLE = "ddbguard-demo"
FUNCTION = f"{TABLE}-change-monitor"


def test_without_confirmation_everything_but_the_data_goes(local_aws):
    local_aws.playbook("site.yml")
    made = resources(local_aws)
    assert made["recovery_points"] and made["functions"] and made["plans"] and made["topics"]
    assert made["dashboards"] == ["ddbguard-dr"]
    assert sorted(made["rules"]) == sorted([f"{FUNCTION}-canary", "ddbguard-restore-validator-on-restore-test"])
    assert made["restore_testing_plans"] == ["ddbguard_restore_test"]
    assert "ddbguard-restore-validator" in made["functions"]
    run = local_aws.playbook("playbooks/teardown.yml")
    assert run.recap()["changed"] > 0
    left = resources(local_aws)
    assert left["tables"] == [TABLE, f"{TABLE}-ddbguard-audit"]
    assert sorted(left["vaults"]) == ["ddbguard-air-gapped", "ddbguard-vault"] and left["dr_vaults"] == [
        "ddbguard-vault"
    ]
    assert left["recovery_points"] == made["recovery_points"]
    assert left["buckets"] == made["buckets"] == ["ddbguard-exports-000000000000-us-east-1"], "the exports are data"
    kinds = (
        "plans",
        "restore_testing_plans",
        "functions",
        "roles",
        "queues",
        "topics",
        "alarms",
        "rules",
        "dashboards",
        "log_groups",
    )
    for kind in (*kinds, "parameters"):
        assert left[kind] == [], kind
    assert local_aws.playbook("playbooks/teardown.yml").recap()["changed"] == 0


def test_teardown_finishes_after_a_half_finished_run(local_aws):
    local_aws.playbook("site.yml")
    # As if provisioning had stopped half-way: the function and its queue never came.
    local_aws.client("lambda").delete_function(FunctionName=FUNCTION)
    queue = local_aws.client("sqs").get_queue_url(QueueName=f"{FUNCTION}-failures")["QueueUrl"]
    local_aws.client("sqs").delete_queue(QueueUrl=queue)
    local_aws.playbook("playbooks/teardown.yml")
    left = resources(local_aws)
    assert left["functions"] == left["queues"] == left["plans"] == left["roles"] == []


def test_a_locked_vault_is_refused_before_anything_is_removed(local_aws):
    local_aws.playbook("site.yml", "-e", json.dumps({"dr_backup_vault_lock_mode": "governance"}))
    assert local_aws.client("backup").describe_backup_vault(BackupVaultName="ddbguard-vault")["Locked"] is True
    before = resources(local_aws)
    run = local_aws.playbook(
        "playbooks/teardown.yml", "-e", json.dumps({"ddbguard_teardown_confirm": [TABLE]}), check=False
    )
    assert run.returncode != 0 and "Vault ddbguard-vault is locked" in run.stdout
    assert resources(local_aws) == before


@pytest.mark.parametrize(
    "confirm",
    [
        {TABLE: False},  # a mapping: its keys used to pass the check, and the audit table went
        TABLE,  # a string, not a list
        f"{TABLE} other",  # a string with spaces
        ["*"],  # a wildcard
        [f"{TABLE}*"],
        5,
        [5],
        [True],
        None,
    ],
)
def test_a_confirmation_that_is_not_a_list_of_table_names_deletes_nothing(local_aws, confirm):
    before = resources(local_aws)
    run = local_aws.playbook(
        "playbooks/teardown.yml", "-e", json.dumps({"ddbguard_teardown_confirm": confirm}), check=False
    )
    assert run.returncode != 0
    assert "ddbguard_teardown_confirm" in run.stdout and "Nothing was removed" in run.stdout
    assert resources(local_aws) == before


@pytest.mark.parametrize("typed", [[TABLE], [f"{TABLE}-ddbguard-audit"], ["orders-restore-1"], f"{TABLE}-restore-1"])
def test_only_restored_and_scratch_tables_of_the_inventory_are_removed_by_name(local_aws, typed):
    before = resources(local_aws)
    extra = json.dumps({"ddbguard_teardown_restored_tables": typed})
    run = local_aws.playbook("playbooks/teardown.yml", "-e", extra, check=False)
    assert run.returncode != 0 and "ddbguard_teardown_restored_tables must be" in run.stdout
    assert resources(local_aws) == before


def test_a_restored_table_is_removed_by_name_with_its_deletion_protection(local_aws):
    ddb = local_aws.client("dynamodb")
    scratch = f"{TABLE}-restore-20261205T000000Z"
    ddb.create_table(
        TableName=scratch,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        DeletionProtectionEnabled=True,
    )
    local_aws.playbook("playbooks/teardown.yml", "-e", json.dumps({"ddbguard_teardown_restored_tables": [scratch]}))
    assert scratch not in ddb.list_tables()["TableNames"]
    assert {TABLE, f"{TABLE}-ddbguard-audit"} <= set(ddb.list_tables()["TableNames"]), "the data stays"


def test_deleting_the_data_is_refused_before_anything_without_a_break_glass_principal(local_aws):
    # A governance lock can be removed by a principal allowed to; then only the policy stands.
    local_aws.client("backup").delete_backup_vault_lock_configuration(BackupVaultName="ddbguard-vault")
    before = resources(local_aws)
    confirm = {"ddbguard_teardown_confirm": [TABLE]}
    refused = local_aws.playbook("playbooks/teardown.yml", "-e", json.dumps(confirm), check=False)
    assert refused.returncode != 0 and "Set ddbguard_break_glass_role_arn to one of them (not set)" in refused.stdout
    other = "arn:aws:iam::000000000000:role/not-break-glass"
    confirm["ddbguard_break_glass_role_arn"] = other
    refused = local_aws.playbook("playbooks/teardown.yml", "-e", json.dumps(confirm), check=False)
    assert refused.returncode != 0 and f"({other} is not one)" in refused.stdout
    # Checked before the first deletion: the audit table, the monitor and everything else stay.
    assert resources(local_aws) == before
    # The policy itself refuses the deletion to anyone else (the operator here).
    backup = local_aws.client("backup", who="operator")
    point = before["recovery_points"][0]
    with pytest.raises(backup.exceptions.ClientError, match="explicit deny in a resource-based policy"):
        backup.delete_recovery_point(BackupVaultName="ddbguard-vault", RecoveryPointArn=point)


def test_typing_the_table_name_deletes_the_data_too(local_aws):
    # The launcher made the break-glass role; only the operator may assume it (localaws/principals.py).
    break_glass = principals.load(local_aws.target.dir)["break_glass"]["arn"]
    local_aws.playbook("site.yml", "-e", json.dumps({"dr_backup_break_glass_principal_arns": [break_glass]}))
    wrong = local_aws.playbook(
        "playbooks/teardown.yml", "-e", json.dumps({"ddbguard_teardown_confirm": ["orders"]}), check=False
    )
    assert wrong.returncode != 0 and "names tables that are not in ddbguard_tables: orders" in wrong.stdout
    confirm = {"ddbguard_teardown_confirm": [TABLE], "ddbguard_break_glass_role_arn": break_glass}
    run = local_aws.playbook("playbooks/teardown.yml", "-vvv", "-e", json.dumps(confirm))
    # The modules assumed the break-glass role themselves (the vault policy let them delete),
    # and its temporary access key id (ASIA...) appears nowhere, even at -vvv.
    assert "assume_role_arn" in run.stdout
    assert not re.findall(r"ASIA[0-9A-Z]{16}", run.stdout + run.stderr)
    # Nor the operator's secret key, which Ansible masks wherever it would appear.
    operator = principals.load(local_aws.target.dir)["operator"]
    assert operator["secret_access_key"] not in run.stdout + run.stderr
    assert re.search(r"secret_key\W+VALUE_SPECIFIED_IN_NO_LOG_PARAMETER", run.stdout)
    left = resources(local_aws)
    assert left["tables"] == left["vaults"] == left["dr_vaults"] == left["recovery_points"] == left["buckets"] == []
    # The keys are kept: copies encrypted with them stay readable.
    assert [a for a in local_aws.client("kms").list_aliases()["Aliases"] if a["AliasName"] == "alias/ddbguard"]

"""The example playbook: every module together, idempotent on the second run."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration
# The example makes resources of its own names (a vault, roles, a function), outside what
# docs/operator-policy.json covers (the roles' names): it runs as the tester.
AS_TESTER = ("-e", "ddbguard_local_principal=tester")


def test_the_example_protects_backs_up_and_restores_then_changes_nothing(local_aws):
    first = local_aws.playbook("playbooks/examples/protect_backup_restore.yml", *AS_TESTER)
    assert first.recap()["changed"] > 0
    ddb = local_aws.client("dynamodb")
    item = {"pk": {"S": "order#1"}, "amount": {"N": "12345678901234567890123456789012345678"}}
    assert ddb.scan(TableName="ddbguard-example-restored")["Items"] == [item]
    assert ddb.scan(TableName="ddbguard-example-pitr")["Items"] == [item]
    pitr = ddb.describe_table(TableName="ddbguard-example-pitr")["Table"]
    assert pitr["StreamSpecification"]["StreamEnabled"] and pitr["DeletionProtectionEnabled"]
    mapping = local_aws.client("lambda").list_event_source_mappings(FunctionName="ddbguard-example-monitor")
    assert mapping["EventSourceMappings"][0]["BisectBatchOnFunctionError"] is True
    assert local_aws.client("backup").describe_backup_vault(BackupVaultName="ddbguard-example-vault")["Locked"]

    second = local_aws.playbook("playbooks/examples/protect_backup_restore.yml", *AS_TESTER)
    assert second.recap()["changed"] == 0, second.stdout[-4000:]

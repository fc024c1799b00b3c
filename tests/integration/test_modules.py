"""Each collection module against the local AWS, in the amazon.aws test order.

The playbooks in ``targets/`` hold the sequence (check-mode create, nothing created,
create, same task again unchanged, check-mode update, update, delete) and assert on it.
The tests here run them and then check with boto3 what the playbooks cannot see.
"""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path

import botocore.exceptions
import pytest

pytestmark = pytest.mark.integration
TARGETS = Path(__file__).resolve().parent / "targets"


def run_target(local_aws, name: str, **env: str):
    # The targets make resources of any name: as the tester, not the operator (localaws/principals.py).
    env = {"ddbguard_local_principal": "tester", **env}
    run = local_aws.playbook(str(TARGETS / f"{name}.yml"), *[x for k, v in env.items() for x in ("-e", f"{k}={v}")])
    assert run.recap()["failed"] == 0
    return run


@pytest.mark.parametrize(
    "target",
    [
        "dynamodb_table_protection",
        "lambda_stream_trigger",
        "backup_vault_protection",
        "dynamodb_item",
        "kms_hmac_key",
        "cloudwatch_dashboard",
        "backup_restore_testing_plan",
    ],
)
def test_module_target(local_aws, target):
    run_target(local_aws, target)


def test_backup_then_restore_brings_back_the_data_of_the_backup(local_aws, monkeypatch):
    monkeypatch.setenv("KEEP_RESTORED", "1")  # the data check below reads the restored table
    run_target(local_aws, "backup_and_restore_jobs")
    facts = json.loads((local_aws.target.home / "backup_and_restore_jobs.json").read_text())
    ddb = local_aws.client("dynamodb")
    items = ddb.scan(TableName=facts["restored"])["Items"]
    assert items == [{"pk": {"S": "before-backup"}, "n": {"N": "12345678901234567890123456789012345678"}}]


def test_point_in_time_restore_and_settings_copy(local_aws):
    run_target(local_aws, "dynamodb_point_in_time_restore")
    items = local_aws.client("dynamodb").scan(TableName="it-pitr-latest")["Items"]
    assert items == [{"pk": {"S": "kept"}}]


def test_point_in_time_restore_returns_the_table_as_it_was(local_aws):
    """The local AWS restores as of T (localaws/compat/pitr_history.py), for a table without a stream."""
    ddb = local_aws.client("dynamodb")
    ddb.create_table(
        TableName="it-pitr-asof",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    ddb.put_item(TableName="it-pitr-asof", Item={"pk": {"S": "older"}, "v": {"N": "0"}})
    ddb.update_continuous_backups(
        TableName="it-pitr-asof", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    for i in range(16):
        ddb.put_item(TableName="it-pitr-asof", Item={"pk": {"S": f"item-{i:02d}"}, "v": {"N": "1"}})
    time.sleep(0.05)
    moment = datetime.datetime.now(datetime.UTC)
    time.sleep(0.05)
    for i in range(10):  # modified after T
        ddb.put_item(TableName="it-pitr-asof", Item={"pk": {"S": f"item-{i:02d}"}, "v": {"N": "2"}})
    for i in range(10, 15):  # deleted after T
        ddb.delete_item(TableName="it-pitr-asof", Key={"pk": {"S": f"item-{i:02d}"}})
    ddb.put_item(TableName="it-pitr-asof", Item={"pk": {"S": "later"}, "v": {"N": "2"}})
    ddb.restore_table_to_point_in_time(
        SourceTableName="it-pitr-asof", TargetTableName="it-pitr-asof-restored", RestoreDateTime=moment
    )
    items = {i["pk"]["S"]: i["v"]["N"] for i in ddb.scan(TableName="it-pitr-asof-restored")["Items"]}
    assert items == {"older": "0", **{f"item-{i:02d}": "1" for i in range(16)}}
    latest = "it-pitr-asof-latest"
    ddb.restore_table_to_point_in_time(
        SourceTableName="it-pitr-asof", TargetTableName=latest, UseLatestRestorableTime=True
    )
    now = {i["pk"]["S"]: i["v"]["N"] for i in ddb.scan(TableName=latest)["Items"]}
    assert now == {i["pk"]["S"]: i["v"]["N"] for i in ddb.scan(TableName="it-pitr-asof")["Items"]}
    window = ddb.describe_continuous_backups(TableName="it-pitr-asof")["ContinuousBackupsDescription"]
    earliest = window["PointInTimeRecoveryDescription"]["EarliestRestorableDateTime"]
    with pytest.raises(botocore.exceptions.ClientError) as err:
        ddb.restore_table_to_point_in_time(
            SourceTableName="it-pitr-asof",
            TargetTableName="it-pitr-asof-too-early",
            RestoreDateTime=earliest - datetime.timedelta(seconds=5),
        )
    assert err.value.response["Error"]["Code"] == "InvalidRestoreTimeException"
    assert "it-pitr-asof-too-early" not in ddb.list_tables()["TableNames"]


class _IgnoresSse:
    """A DynamoDB client of a target that accepts UpdateTable's SSE change and does not make it."""

    def __init__(self, real):
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)

    def update_table(self, **kwargs):
        kwargs.pop("SSESpecification", None)
        if set(kwargs) == {"TableName"}:
            return {"TableDescription": self._real.describe_table(TableName=kwargs["TableName"])["Table"]}
        return self._real.update_table(**kwargs)


def test_a_target_that_ignores_a_change_fails_the_task_naming_it(local_aws):
    """dynamodb_table_protection reads back what it applied: accepted and not made is a failure,
    never `changed` with the old key in its result."""
    from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardAWSError
    from ansible_collections.ddbguard.dr.plugins.modules import dynamodb_table_protection as module

    ddb, kms = local_aws.client("dynamodb"), local_aws.client("kms")
    ddb.create_table(
        TableName="it-ignored-sse",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    key = kms.create_key(Description="it-ignored-sse")["KeyMetadata"]["Arn"]

    class Module:
        params = {name: spec.get("default") for name, spec in module.ARGUMENT_SPEC.items()}
        params.update(name="it-ignored-sse", sse={"type": "customer_managed", "kms_key": key})
        check_mode = False
        _diff = False

        def client(self, service):
            return _IgnoresSse(ddb) if service == "dynamodb" else kms

    try:
        with pytest.raises(DdbguardAWSError, match="did not take the requested settings: sse_"):
            module.run(Module())
        assert "SSEDescription" not in ddb.describe_table(TableName="it-ignored-sse")["Table"]
        plain = Module()
        plain.client = lambda service: ddb if service == "dynamodb" else kms
        assert module.run(plain)["settings"]["sse_kms_key_arn"] == key, "the real target takes it"
    finally:
        ddb.delete_table(TableName="it-ignored-sse")

"""The launcher and the compatibility layer, against a real emulator process."""

from __future__ import annotations

import json
import os
import time

import boto3
import botocore.config
import botocore.exceptions
import pytest

from localaws import launcher, principals

pytestmark = pytest.mark.integration


def create_table(ddb, name: str, **extra) -> None:
    """An on-demand table keyed on the string ``pk``."""
    ddb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        **extra,
    )


def test_start_reuses_a_running_emulator_and_status_reports_it(local_aws):
    again = launcher.start(local_aws.target)
    assert again["action"] == "reused"
    assert launcher.status(local_aws.target)["status"] == "running"
    assert again["endpoint"].startswith("http://127.0.0.1:")


def test_describe_backup_vault_on_a_missing_vault_is_access_denied(local_aws):
    backup = local_aws.client("backup")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        backup.describe_backup_vault(BackupVaultName="never-created")
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    backup.create_backup_vault(BackupVaultName="created")
    assert backup.describe_backup_vault(BackupVaultName="created")["BackupVaultName"] == "created"


def test_amazon_aws_backup_vault_creates_a_vault_then_reports_no_change(local_aws, tmp_path):
    play = tmp_path / "vault.yml"
    play.write_text(
        """
- name: Create a vault twice
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/ddbguard.dr.aws: "{{ ddbguard_aws }}"
  tasks:
    - name: Create the vault
      amazon.aws.backup_vault:
        backup_vault_name: compat-vault
      register: first
    - name: Create it again
      amazon.aws.backup_vault:
        backup_vault_name: compat-vault
      register: second
    - name: Check
      ansible.builtin.assert:
        that: [first is changed, second is not changed]
"""
    )
    local_aws.playbook(str(play), "-e", "ddbguard_local_principal=tester")  # a vault of any name


def test_the_pitr_recovery_period_is_kept(local_aws):
    ddb = local_aws.client("dynamodb")
    create_table(ddb, "pitr-table")
    ddb.update_continuous_backups(
        TableName="pitr-table",
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 7},
    )
    desc = ddb.describe_continuous_backups(TableName="pitr-table")["ContinuousBackupsDescription"]
    assert desc["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 7
    with pytest.raises(botocore.exceptions.ClientError, match="between 1 and 35"):
        ddb.update_continuous_backups(
            TableName="pitr-table",
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 36},
        )


def test_a_restored_table_takes_the_encryption_the_restore_asks_for(local_aws):
    """AWS applies SSESpecificationOverride to the restored table; ministack ignored it."""
    ddb, kms = local_aws.client("dynamodb"), local_aws.client("kms")
    key = kms.create_key(Description="restore-encryption test")["KeyMetadata"]["Arn"]
    create_table(ddb, "sse-source")
    ddb.update_continuous_backups(
        TableName="sse-source", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    override = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key}
    answer = ddb.restore_table_to_point_in_time(
        SourceTableName="sse-source",
        TargetTableName="sse-pitr",
        UseLatestRestorableTime=True,
        SSESpecificationOverride=override,
    )
    assert answer["TableDescription"]["SSEDescription"]["KMSMasterKeyArn"] == key
    assert ddb.describe_table(TableName="sse-pitr")["Table"]["SSEDescription"]["KMSMasterKeyArn"] == key
    backup = ddb.create_backup(TableName="sse-source", BackupName="sse-backup-1")["BackupDetails"]["BackupArn"]
    ddb.restore_table_from_backup(TargetTableName="sse-backup", BackupArn=backup, SSESpecificationOverride=override)
    assert ddb.describe_table(TableName="sse-backup")["Table"]["SSEDescription"]["KMSMasterKeyArn"] == key


def test_the_emulator_listens_on_loopback_only(local_aws):
    pid = launcher.status(local_aws.target)["pid"]
    listening = []
    for proto in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{proto}") as table:
                lines = table.read().splitlines()[1:]
        except OSError:
            continue
        inodes = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and f"socket:[{fields[9]}]" in inodes:  # 0A = LISTEN
                listening.append(fields[1].split(":")[0])
    assert listening, "the emulator listens on nothing"
    assert set(listening) == {"0100007F"}, f"non-loopback listeners: {listening}"


def test_a_stale_pid_file_is_replaced_and_a_restart_keeps_state_and_stream_delivery(tmp_path):
    from tests.integration.conftest import LocalAws, free_port

    target = launcher.Target(port=free_port(), home=tmp_path)
    target.dir.mkdir(parents=True)
    target.pid_file.write_text("999999\n")  # no such process
    assert launcher.start(target)["action"] == "started"
    try:
        aws = LocalAws(target)
        ddb = aws.client("dynamodb")
        create_table(
            ddb, "persisted", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        )
        stream = ddb.describe_table(TableName="persisted")["Table"]["LatestStreamArn"]
        for i in range(5):
            ddb.put_item(TableName="persisted", Item={"pk": {"S": f"before-{i}"}})
        assert launcher.stop(target)["action"] == "stopped"
        assert launcher.stop(target)["action"] == "not-running"
        assert launcher.start(target)["action"] == "started"
        assert len(ddb.scan(TableName="persisted")["Items"]) == 5
        streams = aws.client("dynamodbstreams")
        shard = streams.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
        assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == [f"before-{i}" for i in range(5)]
    finally:
        launcher.stop(target)
    assert launcher.status(target)["status"] == "stopped"


def test_backup_selections_and_plan_versions_answer_as_aws(local_aws):
    backup = local_aws.client("backup")
    backup.create_backup_vault(BackupVaultName="plan-vault")
    rule = {"RuleName": "r", "TargetBackupVaultName": "plan-vault", "ScheduleExpression": "cron(0 */12 * * ? *)"}
    plan = backup.create_backup_plan(BackupPlan={"BackupPlanName": "p", "Rules": [rule]})
    role = "arn:aws:iam::000000000000:role/backup"
    selection = backup.create_backup_selection(
        BackupPlanId=plan["BackupPlanId"],
        BackupSelection={
            "SelectionName": "s",
            "IamRoleArn": role,
            "Resources": ["arn:aws:dynamodb:us-east-1:000000000000:table/t"],
        },
    )
    got = backup.get_backup_selection(BackupPlanId=plan["BackupPlanId"], SelectionId=selection["SelectionId"])
    assert got["BackupSelection"]["Conditions"] == {
        "StringEquals": [],
        "StringNotEquals": [],
        "StringLike": [],
        "StringNotLike": [],
    }
    first = backup.get_backup_plan(BackupPlanId=plan["BackupPlanId"])["CreationDate"]
    time.sleep(1.1)
    updated = backup.update_backup_plan(
        BackupPlanId=plan["BackupPlanId"], BackupPlan={"BackupPlanName": "p", "Rules": [dict(rule, RuleName="r2")]}
    )
    now = backup.get_backup_plan(BackupPlanId=plan["BackupPlanId"])
    listed = [p for p in backup.list_backup_plans()["BackupPlansList"] if p["BackupPlanId"] == plan["BackupPlanId"]]
    assert now["VersionId"] == updated["VersionId"] and now["CreationDate"] > first
    assert listed[0]["CreationDate"] == now["CreationDate"] == updated["CreationDate"]


def test_a_second_ttl_change_within_the_hour_is_refused(local_aws):
    ddb = local_aws.client("dynamodb")
    create_table(ddb, "ttl-limit")
    ddb.update_time_to_live(TableName="ttl-limit", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    for spec, message in (
        ({"Enabled": False, "AttributeName": "exp"}, "modified multiple times within a fixed interval"),
        ({"Enabled": True, "AttributeName": "exp"}, "already enabled"),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as err:
            ddb.update_time_to_live(TableName="ttl-limit", TimeToLiveSpecification=spec)
        assert err.value.response["Error"]["Code"] == "ValidationException"
        assert message in err.value.response["Error"]["Message"]
    assert ddb.describe_time_to_live(TableName="ttl-limit")["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"


def _fill(ddb, table: str, count: int) -> None:
    pad = "x" * 1000
    for start in range(0, count, 25):
        items = [{"PutRequest": {"Item": {"pk": {"S": f"k{i}"}, "v": {"S": pad}}}} for i in range(start, start + 25)]
        ddb.batch_write_item(RequestItems={table: items[: count - start]})


def _count(ddb, table: str) -> int:
    return sum(page["Count"] for page in ddb.get_paginator("scan").paginate(TableName=table, Select="COUNT"))


def test_a_stop_waits_for_a_save_that_takes_longer_than_its_timeout(tmp_path):
    """With 100,000 items, the old stop killed the emulator 30 s into its save and every table
    was gone after a restart. Scaled down: 40,000 items with a stream and PITR (a save of
    several seconds) and a 2 s window, which the old stop took as its deadline."""
    from tests.integration.conftest import LocalAws, free_port

    target = launcher.Target(port=free_port(), home=tmp_path)
    launcher.start(target)
    try:
        ddb = LocalAws(target).client("dynamodb")
        create_table(ddb, "big", StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
        ddb.update_continuous_backups(
            TableName="big", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
        _fill(ddb, "big", 40_000)
        started = time.monotonic()
        assert launcher.stop(target, timeout=2)["action"] == "stopped"
        took = time.monotonic() - started
        assert took > 2, f"the save took {took:.1f} s, within the window: this run proves nothing (more items)"
        assert not list(target.state_dir.glob("*.tmp")), "a save was cut short"
        launcher.start(target)
        assert _count(ddb, "big") == 40_000
    finally:
        launcher.stop(target)


def test_a_crash_loses_at_most_the_changes_since_the_last_periodic_save(tmp_path, monkeypatch):
    """kill -9 used to roll back to the last clean stop: 0 of 20 writes made since survived.
    The emulator now saves every LOCALAWS_SAVE_SECONDS (1 s here)."""
    import signal

    from tests.integration.conftest import LocalAws, free_port, wait_for

    monkeypatch.setenv("LOCALAWS_SAVE_SECONDS", "1")
    target = launcher.Target(port=free_port(), home=tmp_path)
    launcher.start(target)
    try:
        ddb = LocalAws(target).client("dynamodb")
        create_table(ddb, "crash")
        _fill(ddb, "crash", 20)
        written = time.time()
        saved = target.state_dir / "dynamodb.json"
        wait_for(
            lambda: (
                saved.exists()
                and saved.stat().st_mtime > written + 0.01
                and not saved.with_suffix(".json.tmp").exists()
            ),
            what="a periodic save after the writes",
        )
        # The crash takes the whole emulator session (its Lambda workers hold the port too).
        os.killpg(launcher.status(target)["pid"], signal.SIGKILL)
        wait_for(lambda: launcher.status(target)["status"] == "stopped", what="the emulator to be gone")
        wait_for(lambda: not launcher._port_in_use(target.port), what="the port to be free")
        launcher.start(target)
        assert _count(ddb, "crash") == 20
    finally:
        launcher.stop(target)


def test_a_copy_job_puts_a_recovery_point_in_the_dr_region_where_it_restores_the_data(local_aws):
    """Row 29: the copy is the DR region's (listed and restored there, with the data of the
    backup), and the primary region neither lists nor restores it."""
    primary_ddb, dr_ddb = local_aws.client("dynamodb"), local_aws.client("dynamodb", region="us-west-2")
    create_table(primary_ddb, "copied")
    primary_ddb.put_item(TableName="copied", Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    primary, dr = local_aws.client("backup"), local_aws.client("backup", region="us-west-2")
    primary.create_backup_vault(BackupVaultName="copy-src")
    dr_vault = dr.create_backup_vault(BackupVaultName="copy-dst")["BackupVaultArn"]
    iam = local_aws.client("iam")
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    role = iam.create_role(RoleName="copy-job-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    table_arn = primary_ddb.describe_table(TableName="copied")["Table"]["TableArn"]
    job = primary.start_backup_job(BackupVaultName="copy-src", ResourceArn=table_arn, IamRoleArn=role)
    point = primary.describe_backup_job(BackupJobId=job["BackupJobId"])["RecoveryPointArn"]

    started = primary.start_copy_job(
        RecoveryPointArn=point, SourceBackupVaultName="copy-src", DestinationBackupVaultArn=dr_vault, IamRoleArn=role
    )
    copy_job = primary.describe_copy_job(CopyJobId=started["CopyJobId"])["CopyJob"]
    assert copy_job["State"] == "COMPLETED", copy_job
    copied = copy_job["DestinationRecoveryPointArn"]
    assert ":us-west-2:" in copied
    listed = dr.list_recovery_points_by_backup_vault(BackupVaultName="copy-dst")["RecoveryPoints"]
    assert [p["RecoveryPointArn"] for p in listed] == [copied]
    assert [
        p["RecoveryPointArn"] for p in primary.list_recovery_points_by_resource(ResourceArn=table_arn)["RecoveryPoints"]
    ] == [point]
    with pytest.raises(botocore.exceptions.ClientError):
        primary.start_restore_job(RecoveryPointArn=copied, IamRoleArn=role, Metadata={"targetTableName": "nope"})

    restore = dr.start_restore_job(RecoveryPointArn=copied, IamRoleArn=role, Metadata={"targetTableName": "copied"})
    assert dr.describe_restore_job(RestoreJobId=restore["RestoreJobId"])["Status"] == "COMPLETED"
    assert dr_ddb.get_item(TableName="copied", Key={"pk": {"S": "a"}})["Item"]["n"] == {"N": "1"}
    assert "nope" not in primary_ddb.list_tables()["TableNames"]


def test_a_region_that_is_down_answers_nothing_while_the_others_and_iam_do(local_aws):
    """Row 30: while us-west-2 is down, every request signed for it fails (after botocore's
    retries) and leaves its state alone; us-east-1 and IAM answer; back up, it answers again."""
    west, east = local_aws.client("dynamodb", region="us-west-2"), local_aws.client("dynamodb")
    create_table(west, "outage-west")
    once = botocore.config.Config(retries={"total_max_attempts": 1})

    def refused_in_west(service: str):
        keys = principals.load(local_aws.target.dir)["tester"]
        return boto3.client(
            service,
            endpoint_url=local_aws.endpoint,
            region_name="us-west-2",
            aws_access_key_id=keys["access_key_id"],
            aws_secret_access_key=keys["secret_access_key"],
            config=once,
        )

    local_aws.region_down("us-west-2")
    try:
        with pytest.raises(botocore.exceptions.ClientError) as refused:
            refused_in_west("dynamodb").delete_table(TableName="outage-west")
        assert refused.value.response["Error"]["Code"] == "ServiceUnavailable"
        with pytest.raises(botocore.exceptions.ClientError):
            refused_in_west("backup").list_backup_vaults()
        assert "outage-west" not in east.list_tables()["TableNames"]
        assert local_aws.client("iam").list_roles()["Roles"] is not None
    finally:
        local_aws.region_down("us-west-2", down=False)
    assert west.describe_table(TableName="outage-west")["Table"]["TableStatus"] == "ACTIVE"


def test_a_copy_into_the_air_gapped_vault_stays_until_its_retention_ends(local_aws):
    """Row 31: the vault is locked from its creation; a copy kept within its retention lands
    there and cannot be deleted, one kept longer fails and says why."""
    ddb, backup = local_aws.client("dynamodb"), local_aws.client("backup")
    create_table(ddb, "gapped")
    backup.create_backup_vault(BackupVaultName="gapped-src")
    made = backup.create_logically_air_gapped_backup_vault(
        BackupVaultName="gapped-lag", MinRetentionDays=7, MaxRetentionDays=30
    )
    lag = backup.describe_backup_vault(BackupVaultName="gapped-lag")
    assert (lag["VaultType"], lag["Locked"], made["VaultState"]) == (
        "LOGICALLY_AIR_GAPPED_BACKUP_VAULT",
        True,
        "AVAILABLE",
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = local_aws.client("iam").create_role(RoleName="gapped-role", AssumeRolePolicyDocument=json.dumps(trust))
    table_arn = ddb.describe_table(TableName="gapped")["Table"]["TableArn"]
    job = backup.start_backup_job(BackupVaultName="gapped-src", ResourceArn=table_arn, IamRoleArn=role["Role"]["Arn"])
    point = backup.describe_backup_job(BackupJobId=job["BackupJobId"])["RecoveryPointArn"]

    def copy(days: int) -> dict:
        started = backup.start_copy_job(
            RecoveryPointArn=point,
            SourceBackupVaultName="gapped-src",
            DestinationBackupVaultArn=lag["BackupVaultArn"],
            IamRoleArn=role["Role"]["Arn"],
            Lifecycle={"DeleteAfterDays": days},
        )
        return backup.describe_copy_job(CopyJobId=started["CopyJobId"])["CopyJob"]

    too_long = copy(31)
    assert too_long["State"] == "FAILED" and "(7 to 30 days)" in too_long["StatusMessage"]
    kept = copy(30)
    assert kept["State"] == "COMPLETED" and kept["DestinationVaultType"] == "LOGICALLY_AIR_GAPPED_BACKUP_VAULT"
    with pytest.raises(botocore.exceptions.ClientError, match="vault lock"):
        backup.delete_recovery_point(BackupVaultName="gapped-lag", RecoveryPointArn=kept["DestinationRecoveryPointArn"])
    with pytest.raises(botocore.exceptions.ClientError):
        backup.delete_backup_vault_lock_configuration(BackupVaultName="gapped-lag")


def test_make_logs_pages_past_ten_thousand_decisions(local_aws):
    """Row 36: FilterLogEvents pages with nextToken; `make logs` prints every decision and
    says on standard error what it read."""
    import subprocess
    import sys
    from pathlib import Path

    logs = local_aws.client("logs")
    group = "/aws/lambda/pager-change-monitor"
    logs.create_log_group(logGroupName=group)
    now = int(time.time() * 1000) - 60_000
    total = 12_000
    for stream in ("a", "b"):
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        for first in range(0, total // 2, 1000):
            batch = []
            for i in range(first, first + 1000):
                decision = {"event": "REMOVE", "key": {"pk": {"S": f"{stream}{i}"}}, "outcome": "applied"}
                batch.append({"timestamp": now + i, "message": json.dumps(decision)})
                batch.append({"timestamp": now + i, "message": "REPORT RequestId: x Duration: 1.0 ms"})
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "tools/logs.py", "--table", "pager", "--no-follow", "--since", "30"],
        cwd=root,
        env=local_aws.env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    lines = run.stdout.splitlines()
    assert len(lines) == total and len(set(lines)) == total
    assert all(line.endswith("-> applied") for line in lines)
    assert run.stderr.startswith("Reading the decisions of pager since"), run.stderr

"""playbooks/restore.yml: each source (PITR, recovery point) and each mode (plan, dry run,
copy-keys, copy-diff with and without deletes), and bad input refused before any write.

The table protects deletes only, so modifications stand, as damage beyond item level does.
Copy-back goes through the table's monitor, which must not undo it. The tests of this
module run in order against one emulator (module-scoped fixture).
"""

from __future__ import annotations

import datetime
import json
import time

import pytest

pytestmark = pytest.mark.integration

TABLE = "restore-demo"
MARKER = "_ddbguard_undo"
STATE: dict = {}


def site(aws):
    table = {"name": TABLE, "hash_key_name": "pk", "protected_events": ["REMOVE"]}
    aws.playbook("site.yml", "-e", json.dumps({"ddbguard_tables": [table]}))


def restore(aws, tmp_path, *, check: bool = True, dry_run: bool = False, **variables):
    extra = {"dr_restore_table": TABLE, "ddbguard_report_dir": str(tmp_path), **variables}
    args = ["playbooks/restore.yml", "-e", json.dumps(extra)] + (["--check"] if dry_run else [])
    run = aws.playbook(*args, check=check)
    reports = [r for r in report_files_like(tmp_path)]
    return run, reports[-1] if reports else None


def report_files_like(directory):
    return [
        json.loads(p.read_text()) for p in sorted(directory.glob("restore-*.json"), key=lambda p: p.stat().st_mtime)
    ]


def items(aws, table=TABLE) -> dict[str, str]:
    found = aws.client("dynamodb").scan(TableName=table, ConsistentRead=True)["Items"]
    return {i["pk"]["S"]: i["v"]["N"] for i in found}


def put(aws, pk, v):
    aws.client("dynamodb").put_item(TableName=TABLE, Item={"pk": {"S": pk}, "v": {"N": str(v)}})


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_setup(local_aws):
    site(local_aws)
    for i in range(4):
        put(local_aws, f"row-{i}", 1)
    time.sleep(1.2)
    STATE["t"] = now_iso()
    time.sleep(1.2)
    for i in range(3):  # damage that the monitor lets stand: modifications of a REMOVE-only table
        put(local_aws, f"row-{i}", 666)
    put(local_aws, "late", 7)
    time.sleep(2)
    assert items(local_aws) == {"row-0": "666", "row-1": "666", "row-2": "666", "row-3": "1", "late": "7"}


def test_plan_restores_to_t_and_writes_nothing_live(local_aws, tmp_path):
    run, report = restore(local_aws, tmp_path, dr_restore_time=STATE["t"], dr_restore_target=f"{TABLE}-at-t")
    assert report["restored"] is True and report["mode"] == "plan" and report["dry_run"] is True
    assert items(local_aws, f"{TABLE}-at-t") == {f"row-{i}": "1" for i in range(4)}
    # Plan shows what the chosen options do: delete_missing is off, so "late" is neither
    # counted nor planned for deletion (plan used to turn it on without saying so).
    assert report["counts"] == {"copied": 0, "deleted": 0, "unchanged": 1, "superseded": 0, "excluded": 0, "planned": 3}
    assert report["options"]["delete_missing"] is False
    assert any(
        "live items the restored table lacks are kept, and not counted" in step for step in report["cutover_plan"]
    )
    assert any("Cut-over" in step for step in report["cutover_plan"]) and "Cut-over" in run.stdout
    assert items(local_aws)["row-0"] == "666", "plan must not write the live table"
    protection = local_aws.client("dynamodb").describe_table(TableName=f"{TABLE}-at-t")["Table"]
    assert protection["DeletionProtectionEnabled"] is True and protection["StreamSpecification"]["StreamEnabled"]


def test_a_dry_run_shows_each_item_and_writes_nothing(local_aws, tmp_path):
    run, report = restore(
        local_aws, tmp_path, dr_restore_from_table=f"{TABLE}-at-t", dr_restore_mode="copy-diff", dry_run=True
    )
    planned = {i["key"]["pk"]["S"] for i in report["sample"] if i["outcome"] == "planned"}
    assert planned == {"row-0", "row-1", "row-2"}
    # One summary line on the console, not a line per item.
    assert "Would copy back" in run.stdout and "planned 3" in run.stdout
    assert 'copy {"pk": {"S": "row-0"}}' not in run.stdout
    assert items(local_aws)["row-0"] == "666"


def test_copy_diff_puts_the_damaged_items_back_through_the_monitor(local_aws, tmp_path):
    _run, report = restore(local_aws, tmp_path, dr_restore_from_table=f"{TABLE}-at-t", dr_restore_mode="copy-diff")
    assert report["through_monitor"] == f"{TABLE}-change-monitor"
    assert report["counts"]["copied"] == 3 and report["counts"]["superseded"] == 0
    assert report["superseded"] == [] and len(report["sample"]) == 4  # the 3 copies first, then row-3 unchanged
    assert [s["action"] for s in report["sample"]] == ["copy", "copy", "copy", "unchanged"]
    [markdown] = tmp_path.glob("restore-*.md")
    assert "| copied | 3 |" in markdown.read_text() and markdown.with_suffix(".json").exists()
    time.sleep(3)  # the monitor sees the copy-back; it must not undo it
    assert items(local_aws) == {"row-0": "1", "row-1": "1", "row-2": "1", "row-3": "1", "late": "7"}


def test_copy_diff_deletes_what_the_restored_table_lacks_only_when_asked(local_aws, tmp_path):
    restore(local_aws, tmp_path, dr_restore_from_table=f"{TABLE}-at-t", dr_restore_mode="copy-diff")
    assert "late" in items(local_aws)
    _run, report = restore(
        local_aws,
        tmp_path,
        dr_restore_from_table=f"{TABLE}-at-t",
        dr_restore_mode="copy-diff",
        dr_restore_delete_missing=True,
    )
    assert report["counts"]["deleted"] == 1
    # Two runs on the same table: two reports side by side, the first one not overwritten.
    assert len(list(tmp_path.glob("restore-*.json"))) == 2 and len(list(tmp_path.glob("restore-*.md"))) == 2
    time.sleep(3)  # REMOVE is protected: the monitor must recognise its own delete
    assert "late" not in items(local_aws)


def test_a_recovery_point_restore_copies_back_the_keys_given(local_aws, tmp_path):
    backup, ddb = local_aws.client("backup"), local_aws.client("dynamodb")
    arn = ddb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    role = local_aws.client("iam").get_role(RoleName="ddbguard-backup")["Role"]["Arn"]
    backup.start_backup_job(BackupVaultName="ddbguard-vault", ResourceArn=arn, IamRoleArn=role)
    time.sleep(1.2)
    before = now_iso()
    put(local_aws, "row-3", 999)
    put(local_aws, "row-2", 999)
    _run, report = restore(
        local_aws,
        tmp_path,
        dr_restore_source="recovery-point",
        dr_restore_before=before,
        dr_restore_target=f"{TABLE}-rp",
        dr_restore_mode="copy-keys",
        dr_restore_keys=[{"pk": {"S": "row-3"}}],
    )
    assert report["source"] == "recovery-point" and report["recovery_point_arn"].startswith("arn:aws:backup:")
    assert report["counts"]["copied"] == 1
    assert report["sample"] == [{"key": {"pk": {"S": "row-3"}}, "action": "copy", "outcome": "applied"}]
    settled = items(local_aws)
    assert settled["row-3"] == "1" and settled["row-2"] == "999", "only the keys given are copied back"
    STATE["point"] = report["recovery_point_arn"]


def test_a_drills_recovery_point_and_its_canaries_never_serve_an_operators_restore(local_aws, tmp_path):
    """The drill tags its on-demand recovery point; it is newer than the last scheduled one,
    and it holds canaries. The latest recovery point before T skips it, and even restored on
    purpose, its canaries are never copied into the live table."""
    backup, ddb = local_aws.client("backup"), local_aws.client("dynamodb")
    arn = ddb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    role = local_aws.client("iam").get_role(RoleName="ddbguard-backup")["Role"]["Arn"]
    canary = "ddbguard-canary#drill-1#backup-1"
    put(local_aws, canary, 1)
    drill = backup.start_backup_job(
        BackupVaultName="ddbguard-vault",
        ResourceArn=arn,
        IamRoleArn=role,
        RecoveryPointTags={"ddbguard:drill": "drill-1"},
    )["RecoveryPointArn"]
    time.sleep(1.2)
    put(local_aws, canary, 2)  # the canary changes after the backup (not protected here)
    _run, report = restore(
        local_aws,
        tmp_path,
        dr_restore_source="recovery-point",
        dr_restore_before=now_iso(),
        dr_restore_target=f"{TABLE}-op",
    )
    assert report["recovery_point_arn"] == STATE["point"], "the drill's newer recovery point was chosen"
    assert report["skipped_drill_points"] == [drill]
    _run, report = restore(
        local_aws,
        tmp_path,
        dr_restore_source="recovery-point",
        dr_restore_recovery_point_arn=drill,
        dr_restore_target=f"{TABLE}-drill-rp",
        dr_restore_mode="copy-diff",
    )
    excluded = [i for i in report["sample"] if i["action"] == "excluded"]
    assert excluded == [{"key": {"pk": {"S": canary}}, "action": "excluded", "outcome": "excluded"}]
    assert report["counts"]["excluded"] == 1
    assert items(local_aws)[canary] == "2", "a canary was copied into the live table"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {"dr_restore_time": "2001-01-01T00:00:00Z"},
            "dr_restore_time: restore_date_time 2001-01-01T00:00:00+00:00 is outside the restorable window",
        ),
        ({"dr_restore_mode": "merge"}, "value of dr_restore_mode must be one of: plan, copy-keys, copy-diff"),
        ({"dr_restore_target": f"{TABLE}-at-t"}, f"dr_restore_target {TABLE}-at-t already exists"),
        ({"dr_restore_time": "yesterday"}, "dr_restore_time must be an ISO 8601 time with its zone"),
        ({"dr_restore_mode": "copy-keys"}, "dr_restore_keys must list keys in DynamoDB JSON"),
    ],
)
def test_bad_input_is_refused_before_any_write(local_aws, tmp_path, variables, message):
    tables = set(local_aws.client("dynamodb").list_tables()["TableNames"])
    run, _report = restore(local_aws, tmp_path, check=False, **variables)
    assert run.returncode != 0 and message in " ".join(run.stdout.split()), run.stdout[-2000:]
    assert set(local_aws.client("dynamodb").list_tables()["TableNames"]) == tables


def test_a_recovery_point_of_another_table_is_refused(local_aws, tmp_path):
    other = {"name": "restore-other", "hash_key_name": "pk", "protected_events": ["REMOVE"]}
    local_aws.playbook("site.yml", "-e", json.dumps({"ddbguard_tables": [other]}))
    tables = set(local_aws.client("dynamodb").list_tables()["TableNames"])
    run, _report = restore(
        local_aws,
        tmp_path,
        check=False,
        dr_restore_table="restore-other",
        dr_restore_source="recovery-point",
        dr_restore_recovery_point_arn=STATE["point"],
    )
    assert run.returncode != 0
    assert "dr_restore_recovery_point_arn" in run.stdout and "is not a COMPLETED recovery point of" in run.stdout
    assert set(local_aws.client("dynamodb").list_tables()["TableNames"]) == tables

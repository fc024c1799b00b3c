"""playbooks/rollback.yml on the local AWS, as the operator: a window of a few seconds rolled
back from the table's stream, exact for every DynamoDB type; a write made after the window's
end is never clobbered; items created in the window are deleted only when asked; a dry run
writes nothing; a re-run writes nothing twice; the monitor neither undoes the rollback's
writes nor is bypassed by them; bad input is refused before any write.

The table protects deletes only, so the modifications and inserts of the window stand, as
damage that tier 1 lets through does. The tests run in order against one emulator.
"""

from __future__ import annotations

import datetime
import json
import math
import time

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer

pytestmark = pytest.mark.integration

TABLE = "rollback-demo"
TABLES = [{"name": TABLE, "hash_key_name": "pk", "protected_events": ["REMOVE"]}]
MARKER = "_ddbguard_undo"
STATE: dict = {}


def every_type(n: int) -> dict:
    """An item holding every DynamoDB type, its values derived from ``n``."""
    return {
        "s": {"S": f"text-{n}"},
        "n": {"N": str(n)},
        "b": {"B": bytes([n % 256, 1, 2])},
        "bool": {"BOOL": n % 2 == 0},
        "null": {"NULL": True},
        "m": {"M": {"inner": {"S": f"in-{n}"}, "deep": {"M": {"x": {"N": str(n * 2)}}}}},
        "l": {"L": [{"S": "a"}, {"N": str(n)}, {"L": [{"BOOL": True}]}]},
        "ss": {"SS": [f"x{n}", f"y{n}"]},
        "ns": {"NS": [str(n), str(n + 1)]},
        "bs": {"BS": [bytes([n % 256]), b"\xff"]},
    }


def item(pk: str, n: int) -> dict:
    return {"pk": {"S": pk}, **every_type(n)}


def plain(stored: dict | None) -> dict | None:
    if stored is None:
        return None
    out = {k: TypeDeserializer().deserialize(v) for k, v in stored.items() if k != MARKER}
    return {k: bytes(v) if isinstance(v, Binary) else v for k, v in out.items()}


def live(aws) -> dict[str, dict]:
    found = aws.client("dynamodb", who="auditor").scan(TableName=TABLE, ConsistentRead=True)["Items"]
    return {i["pk"]["S"]: plain(i) for i in found}


def whole_second(offset: float = 0.0) -> str:
    """The next whole second (the stream times records to the second), as ISO 8601."""
    moment = math.ceil(time.time() + offset)
    while time.time() < moment:
        time.sleep(0.05)
    return datetime.datetime.fromtimestamp(moment, datetime.UTC).isoformat().replace("+00:00", "Z")


def rollback(aws, tmp_path, *, check: bool = True, dry_run: bool = False, **variables):
    extra = {
        "rollback_table": TABLE,
        "rollback_from": STATE["from"],
        "rollback_to": STATE["to"],
        "ddbguard_report_dir": str(tmp_path),
        "ddbguard_tables": TABLES,
        **variables,
    }
    run = aws.playbook(
        "playbooks/rollback.yml", "-e", json.dumps(extra), *(["--check"] if dry_run else []), check=check
    )
    reports = sorted(tmp_path.glob("rollback-*.json"), key=lambda p: p.stat().st_mtime)
    return run, (json.loads(reports[-1].read_text()) if reports else None)


def test_setup(local_aws):
    local_aws.playbook("site.yml", "-e", json.dumps({"ddbguard_tables": TABLES}))
    writer = local_aws.client("dynamodb", who="writer")
    for i in range(6):
        writer.put_item(TableName=TABLE, Item=item(f"row-{i}", i))
    STATE["before"] = live(local_aws)
    STATE["from"] = whole_second(1.0)
    for i in range(4):  # damage the monitor lets stand: modifications, then inserts
        writer.put_item(TableName=TABLE, Item=item(f"row-{i}", 100 + i))
    writer.put_item(TableName=TABLE, Item=item("row-0", 200))  # twice in the window
    writer.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "row-4"}},
        UpdateExpression="REMOVE m, ss SET extra = :e",
        ExpressionAttributeValues={":e": {"S": "bad"}},
    )
    for i in range(2):
        writer.put_item(TableName=TABLE, Item=item(f"new-{i}", 300 + i))
    writer.delete_item(TableName=TABLE, Key={"pk": {"S": "row-5"}})  # protected: the monitor undoes it
    time.sleep(2)
    STATE["to"] = whole_second(1.0)
    writer.put_item(TableName=TABLE, Item=item("row-3", 999))  # a legitimate write after the window
    time.sleep(1.5)
    STATE["damaged"] = live(local_aws)
    assert STATE["damaged"]["row-0"]["n"] == 200 and STATE["damaged"]["row-5"] == STATE["before"]["row-5"]
    assert "new-0" in STATE["damaged"] and "extra" in STATE["damaged"]["row-4"]


def test_a_dry_run_lists_what_would_change_and_writes_nothing(local_aws, tmp_path):
    run, report = rollback(local_aws, tmp_path, dry_run=True)
    assert report["dry_run"] is True and report["source"] == "stream"
    # row-0, 1, 2, 4 would be put back; row-3 was written after the window; new-0/1 kept;
    # row-5's delete was undone by the monitor within the window: already as it was.
    assert report["counts"]["planned"] == 4, report
    assert report["counts"]["superseded"] == 1 and report["superseded"] == [{"pk": {"S": "row-3"}}]
    assert report["counts"]["created"] == 2 and report["counts"]["unchanged"] == 1
    assert "Would roll back" in run.stdout and "planned 4" in run.stdout and "superseded 1" in run.stdout
    assert live(local_aws) == STATE["damaged"]
    assert (
        (tmp_path / next(p.name for p in tmp_path.glob("rollback-*.md")))
        .read_text()
        .startswith(f"# Rollback of {TABLE}")
    )


def test_the_window_is_rolled_back_exactly_and_a_later_write_wins(local_aws, tmp_path):
    _run, report = rollback(local_aws, tmp_path)
    assert report["counts"]["rolled_back"] == 4 and report["counts"]["superseded"] == 1, report
    assert report["live_reads"] == 8, "reads are proportional to the damage: one per item changed in the window"
    time.sleep(2)  # the monitor has seen the rollback's writes: it must leave them
    after = live(local_aws)
    for i in (0, 1, 2, 4, 5):
        assert after[f"row-{i}"] == STATE["before"][f"row-{i}"], f"row-{i}"
    assert after["row-3"] == plain(item("row-3", 999)), "the write after the window is kept"
    assert after["new-0"] == plain(item("new-0", 300)), "created items are kept unless asked"


def test_a_rerun_writes_nothing_twice(local_aws, tmp_path):
    before = live(local_aws)
    _run, report = rollback(local_aws, tmp_path)
    assert report["counts"]["rolled_back"] == 0 and report["counts"]["unchanged"] == 5, report
    assert live(local_aws) == before


def test_items_created_in_the_window_are_deleted_only_when_asked(local_aws, tmp_path):
    _run, report = rollback(local_aws, tmp_path, rollback_delete_created=True)
    assert report["counts"]["deleted"] == 2, report
    time.sleep(2)
    after = live(local_aws)
    assert "new-0" not in after and "new-1" not in after, "the monitor protects deletes, but not these"
    assert after["row-3"] == plain(item("row-3", 999))


def test_the_monitor_still_undoes_a_protected_change_after_the_rollback(local_aws):
    writer = local_aws.client("dynamodb", who="writer")
    writer.delete_item(TableName=TABLE, Key={"pk": {"S": "row-1"}})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "row-1" not in live(local_aws):
        time.sleep(0.1)
    assert live(local_aws)["row-1"] == STATE["before"]["row-1"]


@pytest.mark.parametrize(
    ("variables", "named"),
    [
        ({"rollback_to": "2999-01-01T00:00:00Z"}, "window_to must not be in the future"),
        ({"rollback_from": "yesterday"}, "window_from must be an ISO 8601 time"),
        ({"rollback_table": "not-in-the-inventory"}, "rollback_table must name a table of ddbguard_tables"),
        ({"rollback_source": "export"}, "at least 15 minutes"),
        ({"rollback_from": "2020-01-01T00:00:00Z", "rollback_to": "2020-01-01T00:05:00Z"}, "older than the stream"),
        ({"rollback_from": "2026-12-01T10:05:00Z", "rollback_to": "2026-12-01T10:00:00Z"}, "must be after window_from"),
        ({"rollback_export_bucket": "someone-elses-bucket"}, "rollback_export_bucket must be the exports bucket"),
        (
            {"rollback_from": "2020-01-01T00:00:00Z", "rollback_to": "2020-01-01T00:20:00Z"},
            "is before the earliest restorable time",
        ),
    ],
)
def test_bad_input_is_refused_before_any_write(local_aws, tmp_path, variables, named):
    before = live(local_aws)
    run, report = rollback(local_aws, tmp_path, check=False, **variables)
    assert run.returncode != 0 and named in run.stdout, run.stdout[-2000:]
    assert report is None and live(local_aws) == before


# A window of 15 minutes or more comes from incremental exports. The local AWS writes them as
# AWS does (docs/emulator.md, row 27); its control /_localaws/pitr/age moves the table's
# point-in-time history into the past, so that the writes a test just made are 20 minutes
# old and a 15-minute window can be exported without waiting. Run as the tester: the export
# bucket is not provisioned by site.yml yet, so the operator holds no right on it.
EXPORTS_TABLE = "rollback-exports"
BUCKET = "rollback-exports-test"
AGE = 1200.0


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).isoformat().replace("+00:00", "Z")


def _age_history(aws, table: str, seconds: float) -> None:
    import urllib.request

    url = f"{aws.endpoint}/_localaws/pitr/age?table={table}&seconds={seconds}"
    with urllib.request.urlopen(urllib.request.Request(url, method="POST", data=b"")) as answer:  # noqa: S310
        assert answer.status == 200


def _export_rollback(aws, tmp_path, **options):
    play = tmp_path / "rollback-exports.yml"
    play.write_text(
        "- hosts: localhost\n  gather_facts: false\n"
        "  module_defaults: {group/ddbguard.dr.aws: '{{ ddbguard_aws }}'}\n"
        "  tasks:\n    - ddbguard.dr.dynamodb_window_rollback: '{{ options }}'\n      register: result\n"
        "    - ansible.builtin.copy: {content: '{{ result | to_json }}', dest: '"
        + str(tmp_path / "result.json")
        + "'}\n"
        "      check_mode: false\n"
    )
    extra = {
        "options": {"table": EXPORTS_TABLE, "export_bucket": BUCKET, **options},
        "ddbguard_local_principal": "tester",
    }
    run = aws.playbook(str(play), "-e", json.dumps(extra), check=False)
    return run, (json.loads((tmp_path / "result.json").read_text()) if run.returncode == 0 else None)


def test_exports_setup(local_aws):
    ddb, s3 = local_aws.client("dynamodb"), local_aws.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    ddb.create_table(
        TableName=EXPORTS_TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    ddb.update_continuous_backups(
        TableName=EXPORTS_TABLE, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    writer = local_aws.client("dynamodb", who="writer")
    for i in range(5):
        writer.put_item(TableName=EXPORTS_TABLE, Item=item(f"row-{i}", i))
    STATE["exports_before"] = {k: v for k, v in _live(local_aws, EXPORTS_TABLE).items()}
    time.sleep(1.0)
    STATE["exports_from"] = time.time() - AGE
    time.sleep(1.0)
    for i in range(4):
        writer.put_item(TableName=EXPORTS_TABLE, Item=item(f"row-{i}", 100 + i))
    writer.delete_item(TableName=EXPORTS_TABLE, Key={"pk": {"S": "row-4"}})
    writer.put_item(TableName=EXPORTS_TABLE, Item=item("new-0", 300))
    writer.put_item(TableName=EXPORTS_TABLE, Item=item("gone-0", 301))  # created and deleted: no line
    writer.delete_item(TableName=EXPORTS_TABLE, Key={"pk": {"S": "gone-0"}})
    time.sleep(1.0)
    _age_history(local_aws, EXPORTS_TABLE, AGE)
    STATE["exports_to"] = STATE["exports_from"] + 900  # 15 minutes: ends 5 minutes ago
    writer.put_item(TableName=EXPORTS_TABLE, Item=item("row-3", 999))  # now: after the window


def _live(aws, table: str) -> dict[str, dict]:
    found = aws.client("dynamodb", who="auditor").scan(TableName=table, ConsistentRead=True)["Items"]
    return {i["pk"]["S"]: plain(i) for i in found}


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        ({"from": 0, "to": 600}, "ValidationException"),  # 10 minutes
        ({"from": 0, "to": 7200}, "InvalidExportTimeException"),  # ends in the future
        ({"from": -3600, "to": 0}, "InvalidExportTimeException"),  # starts before PITR was on
    ],
)
def test_the_local_aws_applies_the_incremental_export_window_rules(local_aws, spec, code):
    ddb = local_aws.client("dynamodb")
    arn = ddb.describe_table(TableName=EXPORTS_TABLE)["Table"]["TableArn"]
    start = STATE["exports_from"]
    with pytest.raises(ddb.exceptions.ClientError) as caught:
        ddb.export_table_to_point_in_time(
            TableArn=arn,
            S3Bucket=BUCKET,
            ExportType="INCREMENTAL_EXPORT",
            IncrementalExportSpecification={
                "ExportFromTime": datetime.datetime.fromtimestamp(start + spec["from"], datetime.UTC),
                "ExportToTime": datetime.datetime.fromtimestamp(start + spec["to"], datetime.UTC),
            },
        )
    assert caught.value.response["Error"]["Code"] == code


def test_a_long_window_is_rolled_back_from_an_incremental_export(local_aws, tmp_path):
    window = {"window_from": _iso(STATE["exports_from"]), "window_to": _iso(STATE["exports_to"])}
    run, result = _export_rollback(local_aws, tmp_path, **window)
    assert run.returncode == 0, run.stdout[-3000:]
    assert result["source"] == "export" and len(result["exports"]) == 1
    counts = result["counts"]
    # row-0..2 and row-4 put back; row-3 kept (written after the window); new-0 kept (created).
    assert counts["rolled_back"] == 4 and counts["superseded"] == 1 and counts["created"] == 1, counts
    assert result["live_reads"] == 6, "one read per item the export holds (gone-0 gives no line)"
    after = _live(local_aws, EXPORTS_TABLE)
    for i in (0, 1, 2, 4):
        assert after[f"row-{i}"] == STATE["exports_before"][f"row-{i}"], f"row-{i}"
    assert after["row-3"] == plain(item("row-3", 999)) and after["new-0"] == plain(item("new-0", 300))
    # The export as AWS lays it out.
    s3 = local_aws.client("s3")
    export = local_aws.client("dynamodb").describe_export(ExportArn=result["exports"][0])["ExportDescription"]
    assert export["ExportStatus"] == "COMPLETED" and export["ItemCount"] == 6
    summary = json.loads(s3.get_object(Bucket=BUCKET, Key=export["ExportManifest"])["Body"].read())
    assert summary["exportType"] == "INCREMENTAL_EXPORT" and summary["outputView"] == "NEW_AND_OLD_IMAGES"
    files = s3.get_object(Bucket=BUCKET, Key=summary["manifestFilesS3Key"])["Body"].read().decode().splitlines()
    assert all(json.loads(f)["dataFileS3Key"].startswith("ddbguard-rollback/AWSDynamoDB/data/") for f in files)
    # A re-run reuses the export (same client token) and writes nothing twice.
    run, again = _export_rollback(local_aws, tmp_path, **window)
    assert again["exports"] == result["exports"] and again["counts"]["rolled_back"] == 0
    assert again["counts"]["unchanged"] == 4 and _live(local_aws, EXPORTS_TABLE) == after

"""The distributed copy-back (``dr_restore_distributed``, ``ddbguard.dr.dynamodb_copy_back_job``):
the live table's state machine runs a Distributed Map over Scan segments of the restored
table, each segment invoking the change monitor page by page.

Checked against the single-process copy-back (``dynamodb_copy_back``) on the same data, for
every DynamoDB type; interrupted by taking the job role's right to invoke the monitor away
(the local AWS evaluates the state machine's role, ``docs/emulator.md`` row 28), then
resumed: finished segments are not redone and no item is written twice (read from the
live table's stream). The tests of this module run in order against one emulator.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration

TABLE = "cbjob-demo"
RESTORED = f"{TABLE}-restore-same-data"
MARKER = "_ddbguard_undo"
MACHINE_NAME = f"{TABLE}-change-monitor-copy-back"
ROLE = f"{TABLE}-change-monitor-copy-back"
N = 240


def item(i: int, v: int) -> dict:
    """An item holding every DynamoDB type."""
    return {
        "pk": {"S": f"item-{i:04d}"},
        "v": {"N": str(v)},
        "b": {"B": bytes([i % 256, 0, 255])},
        "ss": {"SS": [f"s{i}", "x"]},
        "ns": {"NS": ["1", str(i + 2)]},
        "bs": {"BS": [b"\x00", bytes([i % 256 + 1 if i % 256 < 255 else 1])]},
        "m": {"M": {"deep": {"L": [{"S": "a"}, {"N": "12345678901234567890123456789012345678"}]}}},
        "l": {"L": [{"BOOL": True}, {"NULL": True}]},
        "t": {"BOOL": i % 2 == 0},
        "z": {"NULL": True},
    }


def strip(found: dict) -> dict:
    return {k: v for k, v in found.items() if k != MARKER}


def scan(aws, table: str) -> dict[str, dict]:
    ddb, out, start = aws.client("dynamodb"), {}, None
    while True:
        page = ddb.scan(TableName=table, ConsistentRead=True, **({"ExclusiveStartKey": start} if start else {}))
        out.update({i["pk"]["S"]: strip(i) for i in page["Items"]})
        start = page.get("LastEvaluatedKey")
        if not start:
            return out


def damage(aws, every: int = 8) -> set[str]:
    """Modify one item in ``every`` (MODIFY is not protected here) and add items the restore lacks."""
    ddb, hit = aws.client("dynamodb", who="writer"), set()
    for i in range(0, N, every):
        ddb.put_item(TableName=TABLE, Item=item(i, 666))
        hit.add(f"item-{i:04d}")
    for i in range(3):
        ddb.put_item(TableName=TABLE, Item={"pk": {"S": f"extra-{i}"}, "v": {"N": "1"}})
    return hit


def restore(aws, tmp_path, **variables):
    extra = {"dr_restore_table": TABLE, "dr_restore_from_table": RESTORED, "ddbguard_report_dir": str(tmp_path)}
    extra.update(variables)
    run = aws.playbook("playbooks/restore.yml", "-e", json.dumps(extra))
    reports = sorted(tmp_path.glob("restore-*.json"), key=lambda p: p.stat().st_mtime)
    return run, json.loads(reports[-1].read_text())


def segment_records(aws) -> list[dict]:
    """The copy-back segments' records in the monitor's audit table (every job of the table)."""
    return aws.client("dynamodb").query(
        TableName=f"{TABLE}-ddbguard-audit",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"{TABLE}#copy-back"}},
        ConsistentRead=True,
    )["Items"]


def test_setup(local_aws):
    tables = [{"name": TABLE, "hash_key_name": "pk", "protected_events": ["REMOVE"]}]
    local_aws.playbook("site.yml", "-e", json.dumps({"ddbguard_tables": tables, "dr_monitor_copy_back_concurrency": 1}))
    ddb = local_aws.client("dynamodb")
    ddb.create_table(
        TableName=RESTORED,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    writer = local_aws.client("dynamodb", who="writer")
    for i in range(N):
        ddb.put_item(TableName=RESTORED, Item=item(i, 1))
        writer.put_item(TableName=TABLE, Item=item(i, 1))
    machine = local_aws.client("stepfunctions").describe_state_machine(
        stateMachineArn=f"arn:aws:states:us-east-1:000000000000:stateMachine:{MACHINE_NAME}"
    )
    definition = json.loads(machine["definition"])
    assert definition["States"]["Segments"]["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert machine["roleArn"].endswith(f":role/{ROLE}")


def test_the_job_plans_what_the_single_process_copy_back_plans(local_aws, tmp_path):
    hit = damage(local_aws)
    _run, single = restore(local_aws, tmp_path, dr_restore_mode="plan")
    run, job = restore(local_aws, tmp_path, dr_restore_mode="plan", dr_restore_distributed=True, dr_restore_segments=4)
    assert single["counts"]["planned"] == len(hit) and single["counts"]["unchanged"] == N - len(hit)
    for name in ("planned", "unchanged", "superseded", "copied"):
        assert job["counts"][name] == single["counts"][name], name
    assert job["counts"]["compared"] == N
    assert [s["segment"] for s in job["segments"]] == [0, 1, 2, 3] and all(s["done"] for s in job["segments"])
    assert sum(s["counts"]["compared"] for s in job["segments"]) == N
    assert all(scan(local_aws, TABLE)[k]["v"] == {"N": "666"} for k in hit), "a plan writes nothing"
    assert "Would copy back" in run.stdout and "compared 240" in run.stdout, "one summary line"


def test_the_job_copies_back_exactly_what_the_single_process_copy_back_does(local_aws, tmp_path):
    restored = scan(local_aws, RESTORED)
    _run, job = restore(
        local_aws,
        tmp_path,
        dr_restore_mode="copy-diff",
        dr_restore_delete_missing=True,
        dr_restore_distributed=True,
        dr_restore_segments=4,
    )
    after_job = scan(local_aws, TABLE)
    assert after_job == restored, "every DynamoDB type back exactly, the extra items deleted"
    assert job["counts"]["copied"] == N // 8 and job["counts"]["deleted"] == 3 and job["counts"]["superseded"] == 0
    assert {s["side"] for s in job["segments"]} == {"restored", "live"}
    time.sleep(3)  # the monitor sees the echoes of its own writes: none may be undone
    assert scan(local_aws, TABLE) == restored

    damage(local_aws)
    _run, single = restore(local_aws, tmp_path, dr_restore_mode="copy-diff", dr_restore_delete_missing=True)
    assert scan(local_aws, TABLE) == after_job, "the single-process copy-back leaves the same table"
    assert (single["counts"]["copied"], single["counts"]["deleted"]) == (
        job["counts"]["copied"],
        job["counts"]["deleted"],
    )


def _stream_writes(aws, since: float) -> dict[str, int]:
    """How many times each key was written back to its restored image, from the live table's stream."""
    ddb, streams = aws.client("dynamodb"), aws.client("dynamodbstreams")
    arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    counts: dict[str, int] = {}
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            for record in page["Records"]:
                data = record["dynamodb"]
                new, old = data.get("NewImage") or {}, data.get("OldImage") or {}
                if data["ApproximateCreationDateTime"].timestamp() < since - 1:
                    continue
                if new.get("v") == {"N": "1"} and old.get("v") == {"N": "666"} and MARKER in new:
                    key = new["pk"]["S"]
                    counts[key] = counts.get(key, 0) + 1
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return counts


def test_an_interrupted_job_resumes_without_redoing_a_segment_or_writing_twice(local_aws, tmp_path):
    hit = damage(local_aws)
    since = time.time()
    iam, sfn = local_aws.client("iam"), local_aws.client("stepfunctions")
    policy = iam.get_role_policy(RoleName=ROLE, PolicyName="copy-back-job")["PolicyDocument"]
    variables = {"dr_restore_mode": "copy-diff", "dr_restore_distributed": True, "dr_restore_segments": 8}
    variables["dr_restore_progress_seconds"] = 1
    extra = {"dr_restore_table": TABLE, "dr_restore_from_table": RESTORED, "ddbguard_report_dir": str(tmp_path)}
    # The first attempt: once a segment is done (the map runs one at a time), the job's role
    # loses its right to invoke the monitor, as a policy edited by mistake would.
    machine = f"arn:aws:states:us-east-1:000000000000:stateMachine:{MACHINE_NAME}"
    earlier = {e["name"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]}
    first = local_aws.popen("playbooks/restore.yml", "-e", json.dumps({**extra, **variables}))

    def done_segments() -> list[str]:
        found = segment_records(local_aws)
        runs = [e["name"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]]
        new = [n for n in runs if n not in earlier]
        if not new:
            return []
        prefix = new[0].rsplit("-", 1)[0] + "#"
        return [i["sk"]["S"] for i in found if i["sk"]["S"].startswith(prefix) and i["done"]["BOOL"]]

    wait_for(lambda: len(done_segments()) >= 1, timeout=120, what="a first segment done")
    iam.delete_role_policy(RoleName=ROLE, PolicyName="copy-back-job")
    try:
        output, _ = first.communicate(timeout=600)
        assert first.returncode != 0, "the first attempt must fail when its role may not invoke the monitor"
        assert "run the same command again to resume it" in output, output[-3000:]
        assert "segments done" in output, "the progress shows while the job runs"
    finally:
        iam.put_role_policy(RoleName=ROLE, PolicyName="copy-back-job", PolicyDocument=json.dumps(policy))
    done_before = done_segments()
    assert 1 <= len(done_before) < 8, done_before
    pages_before = {i["sk"]["S"]: i["pages"]["N"] for i in segment_records(local_aws) if i["sk"]["S"] in done_before}

    run, job = restore(local_aws, tmp_path, **variables)
    assert job["job"]["attempt"] == 2 and job["job"]["status"] == "SUCCEEDED"
    assert scan(local_aws, TABLE) == {
        **scan(local_aws, RESTORED),
        **{f"extra-{i}": scan(local_aws, TABLE)[f"extra-{i}"] for i in range(3)},
    }
    redone = {
        s: p
        for s, p in pages_before.items()
        if any(f"#{seg['side']}#{seg['segment']:07d}" in s and seg["pages"] != int(p) for seg in job["segments"])
    }
    assert not redone, f"segments finished by the first attempt were scanned again: {redone}"
    writes = _stream_writes(local_aws, since)
    assert set(writes) == hit and set(writes.values()) == {1}, writes


def test_a_job_whose_role_may_not_invoke_the_monitor_fails_as_on_aws(local_aws, tmp_path):
    iam, sfn = local_aws.client("iam"), local_aws.client("stepfunctions")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "states.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = iam.create_role(RoleName="cbjob-no-rights-copy-back", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    machine = sfn.describe_state_machine(
        stateMachineArn=f"arn:aws:states:us-east-1:000000000000:stateMachine:{MACHINE_NAME}"
    )
    # The same definition as the job's, with the role as its only difference.
    bare = sfn.create_state_machine(name="cbjob-no-rights", definition=machine["definition"], roleArn=role["Arn"])
    job = {"id": "no-rights", "source_table": RESTORED, "total_segments": 1, "key_names": ["pk"], "plan": True}
    arn = sfn.start_execution(
        stateMachineArn=bare["stateMachineArn"],
        input=json.dumps({"job": job, "segments": [{"side": "restored", "segment": 0}]}),
    )["executionArn"]
    wait_for(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", timeout=120, what="the execution")
    assert sfn.describe_execution(executionArn=arn)["status"] == "FAILED"
    assert "not authorized to perform: states:StartExecution" in sfn.describe_execution(executionArn=arn).get(
        "cause", ""
    )
    # With the right to run its children but not to invoke the monitor, each child fails so.
    iam.put_role_policy(
        RoleName=role["RoleName"],
        PolicyName="children-only",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "states:StartExecution", "Resource": bare["stateMachineArn"]}
                ],
            }
        ),
    )
    arn = sfn.start_execution(
        stateMachineArn=bare["stateMachineArn"],
        input=json.dumps({"job": job, "segments": [{"side": "restored", "segment": 0}]}),
    )["executionArn"]
    wait_for(lambda: sfn.describe_execution(executionArn=arn)["status"] != "RUNNING", timeout=120, what="the execution")
    assert sfn.describe_execution(executionArn=arn)["status"] == "FAILED"
    run = sfn.list_map_runs(executionArn=arn)["mapRuns"][0]
    child = sfn.list_executions(mapRunArn=run["mapRunArn"], statusFilter="FAILED")["executions"][0]
    cause = sfn.describe_execution(executionArn=child["executionArn"]).get("cause", "")
    assert "not authorized to perform: lambda:InvokeFunction" in cause, cause


def test_bad_input_is_refused_before_any_aws_call(local_aws, tmp_path):
    for variables, message in [
        ({"dr_restore_segments": 0}, "dr_restore_segments must be 1-1000"),
        ({"dr_restore_segments": 1001}, "dr_restore_segments must be 1-1000"),
        ({"dr_restore_from_table": "elsewhere"}, f"restored table named {TABLE}-restore-*"),
        ({"dr_restore_mode": "copy-keys", "dr_restore_keys": [{"pk": {"S": "x"}}]}, "dr_restore_distributed is for"),
        ({"dr_restore_table": "t" * 231, "dr_restore_from_table": ""}, "at most 230 characters"),
        ({"dr_restore_progress_seconds": 0}, "dr_restore_progress_seconds must be 1-3600"),
    ]:
        extra = {"dr_restore_table": TABLE, "dr_restore_from_table": RESTORED, "dr_restore_distributed": True}
        extra.update(variables, ddbguard_report_dir=str(tmp_path))
        run = local_aws.playbook("playbooks/restore.yml", "-e", json.dumps(extra), check=False)
        assert run.returncode != 0 and message in run.stdout, (variables, run.stdout[-2000:])

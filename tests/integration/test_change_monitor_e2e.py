"""The change monitor end to end, through the real stream trigger on the local AWS.

One emulator for the module, provisioned by site.yml for the table ``e2e-orders`` with
REMOVE and MODIFY protected (INSERT is added by the last test). Waits poll the table
until a state is reached, with a generous timeout. They check behaviour, never speed;
speed is measured in bench/.
"""

from __future__ import annotations

import datetime
import json
import time

import pytest

from localaws import launcher
from tests.integration.conftest import LocalAws, free_port, wait_for

pytestmark = pytest.mark.integration

TABLE = "e2e-orders"
FUNCTION = f"{TABLE}-change-monitor"
PARAMETER = f"/ddbguard/{TABLE}/maintenance-until"
MARKER = "_ddbguard_undo"


def site(aws: LocalAws, events: list[str], **settings) -> None:
    table = {"name": TABLE, "hash_key_name": "pk", "protected_events": events, "ttl_attribute_name": "expires_at"}
    table.update(settings)
    extra = {"ddbguard_tables": [table]}
    aws.playbook("site.yml", "-e", json.dumps(extra))


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    import os

    os.environ["LOCALAWS_TTL_SWEEP_SECONDS"] = "1"
    target = launcher.Target(port=free_port(), home=tmp_path_factory.mktemp("localaws"))
    launcher.start(target)
    try:
        local = LocalAws(target)
        site(local, ["REMOVE", "MODIFY"])
        yield local
    finally:
        launcher.stop(target)
        os.environ.pop("LOCALAWS_TTL_SWEEP_SECONDS", None)


def get(aws, pk):
    return aws.client("dynamodb").get_item(TableName=TABLE, Key={"pk": {"S": pk}}, ConsistentRead=True).get("Item")


def strip(item):
    return {k: v for k, v in (item or {}).items() if k != MARKER}


def trigger(aws, enabled: bool) -> None:
    lam = aws.client("lambda")
    uuid = lam.list_event_source_mappings(FunctionName=FUNCTION)["EventSourceMappings"][0]["UUID"]
    lam.update_event_source_mapping(UUID=uuid, Enabled=enabled)


def log_lines(aws) -> list[str]:
    logs = aws.client("logs")
    group = f"/aws/lambda/{FUNCTION}"
    lines = []
    streams = logs.get_paginator("describe_log_streams").paginate(logGroupName=group).build_full_result()
    for stream in streams["logStreams"]:
        events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True)
        lines.extend(e["message"] for e in events["events"])
    return lines


def decisions(aws, pk):
    out = []
    for line in log_lines(aws):
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and doc.get("key") == {"pk": {"S": pk}}:
            out.append(doc)
    return out


def alarm_state(aws, suffix: str) -> str:
    """The state of one of the monitor's alarms (evaluated by the local AWS every 10 s)."""
    alarms = aws.client("cloudwatch").describe_alarms(AlarmNames=[f"{FUNCTION}-{suffix}"])["MetricAlarms"]
    return alarms[0]["StateValue"] if alarms else "missing"


def invocations(aws) -> int:
    return sum(1 for line in log_lines(aws) if line.startswith("START RequestId"))


ITEM = {
    "amount": {"N": "12345678901234567890123456789012345678"},
    "tags": {"SS": ["a", "b"]},
    "blob": {"B": b"\x00\x01binary"},
    "nested": {"M": {"list": {"L": [{"NULL": True}, {"BOOL": True}, {"NS": ["1", "2.5"]}]}}},
}


def put(aws, pk, **extra):
    item = {"pk": {"S": pk}, **ITEM, **extra}
    aws.client("dynamodb").put_item(TableName=TABLE, Item=item)
    return item


def test_a_deleted_item_comes_back_exactly_and_is_audited(aws):
    item = put(aws, "delete-1")
    time.sleep(0.5)  # let the INSERT pass the monitor before the delete
    aws.client("dynamodb").delete_item(TableName=TABLE, Key={"pk": {"S": "delete-1"}})
    restored = wait_for(lambda: get(aws, "delete-1"), what="the deleted item to come back")
    assert strip(restored) == item
    audit = aws.client("dynamodb").query(
        TableName=f"{TABLE}-ddbguard-audit",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"{TABLE}#undo"}},
    )["Items"]
    assert any(json.loads(a["key"]["S"]) == {"pk": {"S": "delete-1"}} and a["outcome"]["S"] == "applied" for a in audit)


def test_a_modified_item_is_reverted(aws):
    item = put(aws, "modify-1")
    time.sleep(0.5)
    aws.client("dynamodb").update_item(
        TableName=TABLE,
        Key={"pk": {"S": "modify-1"}},
        UpdateExpression="SET amount = :a REMOVE tags",
        ExpressionAttributeValues={":a": {"N": "0"}},
    )
    wait_for(lambda: strip(get(aws, "modify-1")) == item, what="the modification to be reverted")


def _modify(aws, pk, item):
    aws.client("dynamodb").put_item(TableName=TABLE, Item=item)
    return item


def test_changes_carrying_a_forged_marker_are_undone(aws):
    """The scheme is public: the writer marks its bad images as the monitor would, with the
    old unkeyed digest and with guessed keys. Every change is reverted all the same."""
    import hashlib

    from change_monitor import marker

    good = _modify(aws, "forge-1", {"pk": {"S": "forge-1"}, "amount": {"N": "5"}, "tags": {"SS": ["a", "b"]}})
    time.sleep(0.5)
    bad = {**good, "amount": {"N": "0"}}
    body = json.dumps(marker._canonical(bad), sort_keys=True, separators=(",", ":"))
    attempts = [{"S": "ddbguard-undo:v1:1:" + hashlib.sha256(body.encode()).hexdigest()}]
    for guess in (b"", b"ddbguard", b"e2e-orders"):
        attempts.append(marker.Marker(MARKER, guess).value(bad, marker.UNDO, "1", replaced=good))
    for forged in attempts:
        _modify(aws, "forge-1", {**bad, MARKER: forged})
        wait_for(lambda: strip(get(aws, "forge-1")) == good, what=f"the change forged with {forged} to be reverted")


def test_a_genuine_restore_written_back_later_is_undone(aws):
    """A replay: the monitor's own restore (image and marker intact), written back later
    over another state, is a real change."""
    good = put(aws, "replay-1")
    time.sleep(0.5)
    aws.client("dynamodb").delete_item(TableName=TABLE, Key={"pk": {"S": "replay-1"}})
    genuine = wait_for(lambda: get(aws, "replay-1"), what="the deleted item to come back")
    assert strip(genuine) == good
    time.sleep(1)
    _modify(aws, "replay-1", {**good, "amount": {"N": "1"}})  # a bad change, reverted with a new marker
    wait_for(lambda: strip(get(aws, "replay-1")) == good and get(aws, "replay-1") != genuine, what="the revert")
    time.sleep(1)
    _modify(aws, "replay-1", genuine)  # the old restore, replayed over the revert
    # Taken for the monitor's own write, the replay would stay as written; undone, the item
    # holds the good image under a new marker (the answer to the replay's record).
    wait_for(lambda: get(aws, "replay-1") != genuine, what="the replay to be undone")
    assert strip(get(aws, "replay-1")) == good


def test_an_undo_costs_one_invocation_and_never_loops(aws):
    put(aws, "loop-1")
    time.sleep(0.5)
    wait_for(lambda: decisions(aws, "loop-1"), what="the insert to be seen")
    before = invocations(aws)
    aws.client("dynamodb").delete_item(TableName=TABLE, Key={"pk": {"S": "loop-1"}})
    wait_for(lambda: get(aws, "loop-1"), what="the item to come back")
    time.sleep(2)  # time for any echo to be delivered, were it not filtered out
    assert invocations(aws) - before <= 2
    assert invocations(aws) - before >= 1


def test_an_item_re_created_before_the_undo_returns_to_its_good_state(aws):
    """Under REMOVE and MODIFY, a delete then a re-creation is a modification of the
    protected item, even when the put lands before the monitor's restore (the restore is
    superseded; the re-creation's INSERT record is reverted). The outcome does not depend
    on who is faster: the writer's put is in the table before the trigger delivers either."""
    good = put(aws, "recreate-1")
    time.sleep(0.5)
    trigger(aws, False)
    try:
        aws.client("dynamodb").delete_item(TableName=TABLE, Key={"pk": {"S": "recreate-1"}})
        newer = {"pk": {"S": "recreate-1"}, "amount": {"N": "1"}}
        aws.client("dynamodb").put_item(TableName=TABLE, Item=newer)
    finally:
        trigger(aws, True)
    wait_for(lambda: strip(get(aws, "recreate-1")) == good, what="the re-created item to return to its good state")
    outcomes = [(d["event"], d["outcome"]) for d in decisions(aws, "recreate-1")]
    assert ("REMOVE", "superseded") in outcomes and ("INSERT", "applied") in outcomes


def test_poisoned_markers_are_undone_and_hold_up_nothing_behind_them(aws):
    """Markers that do not parse (a superscript two, more digits than Python converts, a MAC
    that is not ASCII) on modified items, then deletes of unrelated items, all in one
    delivery: every change is undone and no record fails (the failure queue stays empty)."""
    ddb = aws.client("dynamodb")
    poisons = [
        "ddbguard-undo:v2:\u00b2:absent:" + "a" * 64,
        "ddbguard-undo:v2:" + "9" * 4301 + ":absent:" + "a" * 64,
        "ddbguard-undo:v2:1:absent:" + "a" * 63 + "\u00e9",
    ]
    goods = {f"poisoned-{i}": put(aws, f"poisoned-{i}") for i in range(6)}
    goods.update({f"behind-{i}": put(aws, f"behind-{i}") for i in range(20)})
    time.sleep(1)
    trigger(aws, False)
    try:
        for i in range(6):
            _modify(
                aws, f"poisoned-{i}", {**goods[f"poisoned-{i}"], "amount": {"N": "0"}, MARKER: {"S": poisons[i % 3]}}
            )
        for i in range(20):
            ddb.delete_item(TableName=TABLE, Key={"pk": {"S": f"behind-{i}"}})
    finally:
        trigger(aws, True)
    for pk, good in goods.items():
        wait_for(lambda pk=pk, good=good: strip(get(aws, pk)) == good, what=f"{pk} to be undone")
    for i in range(6):
        assert not any(d["outcome"] == "failed" for d in decisions(aws, f"poisoned-{i}"))
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{FUNCTION}-failures")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_a_ttl_delete_passes(aws):
    expired = str(int(time.time()) - 10)
    put(aws, "ttl-1", expires_at={"N": expired})
    wait_for(lambda: any(d["reason"] == "ttl-delete" for d in decisions(aws, "ttl-1")), what="the TTL delete")
    time.sleep(1)
    assert get(aws, "ttl-1") is None


def test_changes_during_a_maintenance_window_are_only_audited(aws):
    ssm = aws.client("ssm")
    put(aws, "window-1")
    time.sleep(0.5)
    end = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=20)
    ssm.put_parameter(Name=PARAMETER, Value=end.isoformat(), Overwrite=True, Type="String")
    time.sleep(6)  # the monitor caches the window for 5 s
    try:
        aws.client("dynamodb").delete_item(TableName=TABLE, Key={"pk": {"S": "window-1"}})
        wait_for(lambda: any(d["reason"] == "maintenance-window" for d in decisions(aws, "window-1")), what="the audit")
        assert get(aws, "window-1") is None
    finally:
        ssm.put_parameter(Name=PARAMETER, Value="1970-01-01T00:00:00Z", Overwrite=True, Type="String")
    time.sleep(6)
    put(aws, "window-2")
    time.sleep(0.5)
    aws.client("dynamodb").delete_item(TableName=TABLE, Key={"pk": {"S": "window-2"}})
    wait_for(lambda: get(aws, "window-2"), what="protection to resume after the window")


def test_a_maintenance_window_set_by_a_typo_keeps_protection_on(aws):
    """An end decades ahead, or without a time zone: the delete is undone all the same."""
    ssm = aws.client("ssm")
    try:
        for n, value in enumerate(("2099-01-01T00:00:00Z", "2099-01-01")):
            ssm.put_parameter(Name=PARAMETER, Value=value, Overwrite=True, Type="String")
            time.sleep(6)  # the monitor caches the window for 5 s
            pk = f"typo-{n}"
            item = put(aws, pk)
            time.sleep(0.5)
            aws.client("dynamodb").delete_item(TableName=TABLE, Key={"pk": {"S": pk}})
            wait_for(lambda pk=pk: get(aws, pk), what=f"the delete to be undone with the window set to {value}")
            assert strip(get(aws, pk)) == item
        refused = [
            line for line in log_lines(aws) if '"kind": "maintenance"' in line and '"outcome": "refused"' in line
        ]
        assert any('"too-far-ahead"' in line for line in refused) and any('"no-time-zone"' in line for line in refused)
        # The MaintenanceRefused metric (EMF) reaches its alarm, as on AWS (docs/emulator.md).
        wait_for(lambda: alarm_state(aws, "maintenance-refused") == "ALARM", timeout=90, what="the alarm to fire")
    finally:
        ssm.put_parameter(Name=PARAMETER, Value="1970-01-01T00:00:00Z", Overwrite=True, Type="String")
        time.sleep(6)


def test_a_change_too_wide_to_undo_is_reported_never_skipped_in_silence(aws):
    """About 300 attributes: no condition fits DynamoDB's 4 KB, so the modification cannot be
    undone safely. It is logged not-undone and its images are kept in the audit table."""
    wide = {f"attribute_{i:03d}": {"N": str(i)} for i in range(300)}
    put(aws, "wide-1", **wide)
    time.sleep(0.5)
    aws.client("dynamodb").update_item(
        TableName=TABLE,
        Key={"pk": {"S": "wide-1"}},
        UpdateExpression="SET attribute_000 = :bad",
        ExpressionAttributeValues={":bad": {"N": "-1"}},
    )
    [decision] = wait_for(
        lambda: [d for d in decisions(aws, "wide-1") if d["event"] == "MODIFY"], what="the decision on the change"
    )
    assert (decision["reason"], decision["outcome"]) == ("too-many-attributes", "not-undone")
    kept = aws.client("dynamodb").query(
        TableName=f"{TABLE}-ddbguard-audit",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"{TABLE}#not-undone"}},
    )["Items"]
    [entry] = [k for k in kept if json.loads(k["key"]["S"]) == {"pk": {"S": "wide-1"}}]
    images = json.loads(entry["images"]["S"])
    assert images["old"]["attribute_000"] == {"N": "0"} and images["new"]["attribute_000"] == {"N": "-1"}
    wait_for(lambda: alarm_state(aws, "not-undone") == "ALARM", timeout=90, what="the NotUndone alarm to fire")


def test_a_poison_record_goes_to_the_failure_queue_while_the_rest_of_its_batch_is_undone(aws):
    ddb = aws.client("dynamodb")
    put(aws, "poison-1", category={"N": "7"})
    for i in range(4):
        put(aws, f"batch-{i}")
    time.sleep(1)
    # A GSI added later requires `category` to be a string: the old item cannot be written back.
    ddb.update_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "category", "AttributeType": "S"}],
        GlobalSecondaryIndexUpdates=[
            {
                "Create": {
                    "IndexName": "by-category",
                    "KeySchema": [{"AttributeName": "category", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            }
        ],
    )
    wait_for(lambda: ddb.describe_table(TableName=TABLE)["Table"]["TableStatus"] == "ACTIVE", what="the index")
    trigger(aws, False)
    try:
        ddb.delete_item(TableName=TABLE, Key={"pk": {"S": "batch-0"}})
        ddb.delete_item(TableName=TABLE, Key={"pk": {"S": "poison-1"}})
        for i in range(1, 4):
            ddb.delete_item(TableName=TABLE, Key={"pk": {"S": f"batch-{i}"}})
    finally:
        trigger(aws, True)
    for i in range(4):
        wait_for(lambda i=i: get(aws, f"batch-{i}"), what=f"batch-{i} to come back")
    # The failure queue's ApproximateNumberOfMessagesVisible (AWS/SQS) reaches its alarm.
    wait_for(
        lambda: alarm_state(aws, "failed-records") == "ALARM", timeout=120, what="the failed-records alarm to fire"
    )
    sqs = aws.client("sqs")
    url = sqs.get_queue_url(QueueName=f"{FUNCTION}-failures")["QueueUrl"]
    messages = wait_for(
        lambda: sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages"),
        timeout=60,
        what="the poison record's batch in the failure queue",
    )
    info = json.loads(messages[0]["Body"])["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1  # bisection isolated it
    assert get(aws, "poison-1") is None
    assert any(d["outcome"] == "failed" for d in decisions(aws, "poison-1"))

    # The failure queue holds sequence numbers only; the audit table kept the images and
    # the decision. Once the fault is gone (the index dropped), make replay redoes it, once.
    kept = ddb.query(
        TableName=f"{TABLE}-ddbguard-audit",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"{TABLE}#failed"}},
    )["Items"]
    assert [json.loads(k["entry"]["S"])["decision"]["action"] for k in kept] == ["restore-deleted"]
    ddb.update_table(TableName=TABLE, GlobalSecondaryIndexUpdates=[{"Delete": {"IndexName": "by-category"}}])
    wait_for(lambda: not ddb.describe_table(TableName=TABLE)["Table"].get("GlobalSecondaryIndexes"), what="no index")
    tables = json.dumps({"ddbguard_tables": [{"name": TABLE, "hash_key_name": "pk"}]})
    first = aws.playbook("playbooks/replay.yml", "-e", tables)
    assert "1 kept failure(s) replayed: applied" in first.stdout
    assert strip(get(aws, "poison-1"))["category"] == {"N": "7"}
    again = aws.playbook("playbooks/replay.yml", "-e", tables)
    assert "0 kept failure(s) replayed" in again.stdout


def _microburst(port: int, method: str, path: str, body=None):
    """microburst's control API on 127.0.0.1 (rules, fired faults, health)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        payload = None if body is None else json.dumps(body)
        connection.request(method, f"/_microburst/{path}", body=payload, headers={"Content-Type": "application/json"})
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read() or b"null")
    finally:
        connection.close()


def test_sustained_throttling_loses_nothing(aws, tmp_path):
    """microburst (a protocol-aware AWS fault proxy) sits between the function and the local
    AWS and throttles every PutItem on the table for 20 s, longer than an invocation and its
    botocore retries. Nothing is restored meanwhile; once it stops, every item comes back
    (Lambda's retries, or make replay for what reached the failure queue), and nothing stays kept."""
    import subprocess
    import sys
    from pathlib import Path

    from tests.integration.conftest import free_port

    port = free_port()
    proxy = f"http://127.0.0.1:{port}"
    log = (tmp_path / "microburst.log").open("w")
    # tools/fault_proxy.py: microburst, forwarding each request as its caller signed it.
    proxy_script = Path(__file__).resolve().parents[2] / "tools" / "fault_proxy.py"
    process = subprocess.Popen(
        [sys.executable, str(proxy_script), "--upstream", aws.endpoint, "--port", str(port), "--host", "127.0.0.1"],
        stdout=log,
        stderr=log,
    )
    lam, ddb = aws.client("lambda"), aws.client("dynamodb")
    env = lam.get_function_configuration(FunctionName=FUNCTION)["Environment"]["Variables"]
    try:
        wait_for(lambda: _alive(port), what="microburst to listen")
        # Only the function's DynamoDB calls go through the proxy (botocore's per-service endpoint).
        lam.update_function_configuration(
            FunctionName=FUNCTION, Environment={"Variables": {**env, "AWS_ENDPOINT_URL_DYNAMODB": proxy}}
        )
        keys = [f"throttled-{i}" for i in range(5)]
        items = {pk: put(aws, pk) for pk in keys}
        time.sleep(2)
        # Every write the monitor may undo with: a single put, or a transaction of puts.
        error = {"code": "ProvisionedThroughputExceededException"}
        rules = [
            {"service": "dynamodb", "operation": "PutItem", "body": f"TableName == '{TABLE}'", "error": error},
            {
                "service": "dynamodb",
                "operation": "TransactWriteItems",
                "body": f"TransactItems[0].Put.TableName == '{TABLE}'",
                "error": error,
            },
        ]
        _microburst(port, "POST", "rules", rules)
        for pk in keys:
            ddb.delete_item(TableName=TABLE, Key={"pk": {"S": pk}})
        time.sleep(20)
        assert [pk for pk in keys if get(aws, pk)] == [], "nothing can be restored while PutItem is throttled"
        _status, fired = _microburst(port, "GET", "fired")
        throttled = {(f["operation"], f["action"]) for f in fired}
        assert throttled and throttled <= {
            ("PutItem", "error:ProvisionedThroughputExceededException"),
            ("TransactWriteItems", "error:ProvisionedThroughputExceededException"),
        }
        _microburst(port, "POST", "rules", [])
        time.sleep(10)
        aws.playbook(
            "playbooks/replay.yml", "-e", json.dumps({"ddbguard_tables": [{"name": TABLE, "hash_key_name": "pk"}]})
        )
        for pk in keys:
            wait_for(lambda pk=pk: strip(get(aws, pk)) == items[pk], what=f"{pk} to come back")
        kept = ddb.query(
            TableName=f"{TABLE}-ddbguard-audit",
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"{TABLE}#failed"}},
        )["Items"]
        assert kept == []
    finally:
        lam.update_function_configuration(FunctionName=FUNCTION, Environment={"Variables": env})
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _alive(port: int) -> bool:
    try:
        return _microburst(port, "GET", "health")[0] == 200
    except OSError:
        return False


def test_an_item_of_almost_400_kb_comes_back_exactly(aws):
    filler = "z" * (400 * 1024 - 200)
    item = {"pk": {"S": "big-1"}, "payload": {"S": filler}}
    aws.client("dynamodb").put_item(TableName=TABLE, Item=item)
    time.sleep(0.5)
    aws.client("dynamodb").delete_item(TableName=TABLE, Key={"pk": {"S": "big-1"}})
    restored = wait_for(lambda: get(aws, "big-1"), what="the large item to come back")
    assert strip(restored) == item


ESCALATING = "e2e-escalate"


def test_a_burst_opens_one_incident_that_restores_the_last_backup_into_a_new_table(aws):
    """undo+escalate (the default) with the vault and the restore role that site.yml provisions."""
    backup, iam, ddb = aws.client("backup"), aws.client("iam"), aws.client("dynamodb")
    table = {"name": ESCALATING, "hash_key_name": "pk", "protected_events": ["REMOVE"], "escalation_threshold": 5}
    aws.playbook("site.yml", "-e", json.dumps({"ddbguard_tables": [table]}))
    role = iam.get_role(RoleName="ddbguard-backup")["Role"]["Arn"]
    for i in range(8):
        ddb.put_item(TableName=ESCALATING, Item={"pk": {"S": f"row-{i}"}, "v": {"N": str(i)}})
    arn = ddb.describe_table(TableName=ESCALATING)["Table"]["TableArn"]
    backup.start_backup_job(BackupVaultName="ddbguard-vault", ResourceArn=arn, IamRoleArn=role)
    time.sleep(1.5)
    for i in range(8):  # the burst: past the threshold of 5
        ddb.delete_item(TableName=ESCALATING, Key={"pk": {"S": f"row-{i}"}})
    audit = f"{ESCALATING}-ddbguard-audit"

    def incidents():
        return ddb.query(
            TableName=audit,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"{ESCALATING}#incident"}},
            ConsistentRead=True,
        )["Items"]

    wait_for(lambda: [i for i in incidents() if i.get("status", {}).get("S") == "restoring"], what="the incident")
    [incident] = incidents()
    target = incident["target_table"]["S"]
    job = backup.describe_restore_job(RestoreJobId=incident["restore_job_id"]["S"])
    assert job["CreatedResourceArn"].endswith(f":table/{target}")
    assert len(ddb.scan(TableName=target)["Items"]) == 8  # the backup taken before the burst
    for i in range(8):  # item undo went on as well
        wait_for(lambda i=i: ddb.get_item(TableName=ESCALATING, Key={"pk": {"S": f"row-{i}"}}).get("Item"), what="undo")


def test_concurrent_batches_per_shard_undo_a_burst_and_keep_each_keys_order(aws):
    """ParallelizationFactor 4 (a role variable): batches of the shard run in four workers at
    once; every key's records stay on one of them, in order, so chains of bad changes still
    end at the good state."""
    site(aws, ["REMOVE", "MODIFY"], parallelization_factor=4)
    lam, ddb = aws.client("lambda"), aws.client("dynamodb")
    [mapping] = lam.list_event_source_mappings(FunctionName=FUNCTION)["EventSourceMappings"]
    assert mapping["ParallelizationFactor"] == 4
    items = {f"lane-{i:03d}": put(aws, f"lane-{i:03d}") for i in range(120)}
    time.sleep(1.5)
    for pk in list(items)[:30]:  # chains: two bad modifications, then the delete below
        ddb.put_item(TableName=TABLE, Item={**items[pk], "amount": {"N": "1"}})
        ddb.put_item(TableName=TABLE, Item={**items[pk], "amount": {"N": "2"}})
    for pk in items:
        ddb.delete_item(TableName=TABLE, Key={"pk": {"S": pk}})
    for pk, item in items.items():
        wait_for(lambda pk=pk, item=item: strip(get(aws, pk)) == item, timeout=120, what=f"{pk} as it was")
    logs = aws.client("logs")
    streams = {
        s["logStreamName"]
        for s in logs.describe_log_streams(logGroupName=f"/aws/lambda/{FUNCTION}")["logStreams"]
        if any(
            '"lane-' in e["message"]
            for e in logs.get_log_events(
                logGroupName=f"/aws/lambda/{FUNCTION}", logStreamName=s["logStreamName"], startFromHead=True
            )["events"]
        )
    }
    assert len(streams) >= 2, "the batches ran in more than one worker at once"


def canary(aws, **extra) -> dict:
    """The scheduled canary's invocation, as its schedule sends it."""
    payload = {"ddbguard": "canary", "table": TABLE, "ttl_attribute": "expires_at", **extra}
    answer = aws.client("lambda", who="operator").invoke(FunctionName=FUNCTION, Payload=json.dumps(payload).encode())
    assert "FunctionError" not in answer, answer["Payload"].read()
    return json.loads(answer["Payload"].read())


def canary_metric(aws, name: str, stat: str) -> float | None:
    now = datetime.datetime.now(datetime.UTC)
    points = aws.client("cloudwatch").get_metric_statistics(
        Namespace="ddbguard",
        MetricName=name,
        Dimensions=[{"Name": "Table", "Value": TABLE}],
        StartTime=now - datetime.timedelta(minutes=10),
        EndTime=now + datetime.timedelta(minutes=1),
        Period=60,
        Statistics=[stat],
    )["Datapoints"]
    pick = min if stat == "Minimum" else max  # the lowest minute's minimum, the highest minute's maximum
    return pick((p[stat] for p in points), default=None)


def canary_items(aws) -> list:
    items = aws.client("dynamodb").scan(TableName=TABLE)["Items"]
    return [i for i in items if i["pk"]["S"].startswith("ddbguard-canary#scheduled#")]


def test_the_canary_sees_its_change_undone_and_publishes_it(aws):
    result = canary(aws)
    assert result["status"] == "pass" and result["event"] == "MODIFY", result
    assert isinstance(result["undo_ms"], int)
    assert canary_items(aws) == [], "the canary removes its item"
    wait_for(lambda: (canary_metric(aws, "ProtectionVerified", "Maximum") or 0) >= 1, what="ProtectionVerified")
    assert canary_metric(aws, "UndoLatency", "Maximum") is not None
    [line] = [d for d in decisions(aws, result["key"]["pk"]["S"]) if d.get("operation") == "canary"]
    assert line["status"] == "pass" and line["outcome"] == "applied"


def test_the_canary_fails_and_says_why_when_the_trigger_is_disabled(aws):
    trigger(aws, False)
    try:
        result = canary(aws, wait_seconds=5)
    finally:
        trigger(aws, True)
    assert result["status"] == "fail" and result["reason"] == "the MODIFY of the canary was not undone within 5 s"
    assert result["undo_ms"] is None and canary_items(aws) == []
    wait_for(lambda: canary_metric(aws, "ProtectionVerified", "Minimum") == 0, what="ProtectionVerified 0")


# Last: it changes the monitor of e2e-orders to protect inserts too.
def test_a_protected_insert_is_deleted_and_not_restored(aws):
    site(aws, ["REMOVE", "MODIFY", "INSERT"])
    time.sleep(6)  # a warm worker keeps the old configuration until it is replaced
    put(aws, "insert-1")
    wait_for(lambda: any(d["action"] == "delete-inserted" for d in decisions(aws, "insert-1")), what="the undo")
    wait_for(lambda: get(aws, "insert-1") is None, what="the inserted item to be deleted")
    time.sleep(2)
    assert get(aws, "insert-1") is None
    assert [d["reason"] for d in decisions(aws, "insert-1") if d["event"] == "REMOVE"] in ([], ["own-write"])


def test_replay_refuses_a_table_that_is_not_in_the_inventory(aws):
    """It used to do nothing and exit 0, as if the replay had been done."""
    tables = json.dumps({"ddbguard_tables": [{"name": TABLE, "hash_key_name": "pk"}], "replay_table": "orders"})
    run = aws.playbook("playbooks/replay.yml", "-e", tables, check=False)
    assert run.returncode != 0
    assert (
        f'replay_table must name a table of ddbguard_tables ({TABLE}); got "orders". Nothing was replayed.'
        in " ".join(run.stdout.split())
    )

"""Where the change monitor's CPU goes, per undone item: the handler in this process, profiled.

The real handler (``change_monitor.handler.process``), its writes and its audit trail run
here against a local AWS of their own, on a batch of BATCH REMOVE records (each restored),
then on the stream records those restores wrote (the echoes, each skipped). CPU time is
this process's (``time.process_time``); cProfile's top functions say where it goes.

    python bench/monitor_profile.py [--profile] [--single] [--validate]

``--single`` makes every undo a single conditional write (no transactions); ``--validate``
turns botocore's client-side parameter validation back on. With both, and against the
commit before them, the three measure what each change gave (docs/benchmarks.md).
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import sys
import time

import common

BATCH = 1000
TABLE = "profile-orders"


def item(i: int) -> dict:
    return {
        "pk": {"S": f"p-{i:05d}"},
        "amount": {"N": str(i * 7)},
        "note": {"S": f"item {i} " + "x" * 48},
        "tags": {"SS": ["a", "b", f"t{i % 7}"]},
    }


def records(stream_arn: str, start: int) -> list[dict]:
    return [
        {
            "eventID": f"e{i}",
            "eventName": "REMOVE",
            "eventSourceARN": stream_arn,
            "dynamodb": {
                "Keys": {"pk": item(i)["pk"]},
                "OldImage": item(i),
                "SequenceNumber": str(start + i),
                "ApproximateCreationDateTime": time.time(),
            },
        }
        for i in range(BATCH)
    ]


def echoes(target, stream_arn: str) -> list[dict]:
    streams = common.client(target, "dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    out: list[dict] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        out.extend(page["Records"])
        iterator = page.get("NextShardIterator") if page["Records"] else None
    for record in out:  # as Lambda hands them over: the event's JSON form
        record["eventSourceARN"] = stream_arn
        record["dynamodb"]["ApproximateCreationDateTime"] = time.time()
        record["dynamodb"] = json.loads(json.dumps(record["dynamodb"], default=_wire))
    return [r for r in out if r["eventName"] == "INSERT"]


def _wire(value):
    import base64
    import datetime

    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    raise TypeError(type(value))


def _variant(handler, single: bool, validate: bool) -> None:
    """The handler's clients, with single writes or client-side validation when asked."""
    if not (single or validate):
        return
    import boto3
    from botocore.config import Config

    from change_monitor.audit import AuditTrail
    from change_monitor.writes import DynamoDbActions

    config = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=20)
    ddb = boto3.client("dynamodb", config=config.merge(Config(parameter_validation=validate)))
    handler.CLIENTS["ddb"] = ddb
    handler.CLIENTS["actions"] = DynamoDbActions(ddb, handler.POLICY.marker, transaction_items=1 if single else 100)
    if "audit" in handler.CLIENTS:
        handler.CLIENTS["audit"] = AuditTrail(ddb, handler.POLICY.audit_table)


def main(profile: bool) -> dict:
    with common.local_aws() as target:
        ddb = common.client(target, "dynamodb")
        common.create_table(ddb, TABLE)
        common.create_table(ddb, f"{TABLE}-audit", stream=False, sort_key="sk")
        key = common.client(target, "kms").create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")
        os.environ.update(
            AWS_ENDPOINT_URL=target.endpoint,
            AWS_DEFAULT_REGION="us-east-1",
            AWS_ACCESS_KEY_ID=common.principals.ROOT_KEY,  # the handler in-process: its code, not IAM
            AWS_SECRET_ACCESS_KEY=common.principals.ROOT_KEY,
            DDBGUARD_TABLE=TABLE,
            DDBGUARD_MARKER_KEY=key["KeyMetadata"]["KeyId"],
            DDBGUARD_AUDIT_TABLE=f"{TABLE}-audit",
            DDBGUARD_MODE="undo",
        )
        from change_monitor import handler

        _variant(handler, single="--single" in sys.argv, validate="--validate" in sys.argv)
        stream_arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        results = {}
        for name, batch in (("restores", lambda: records(stream_arn, 10**6)), ("echoes", None)):
            event = {"Records": batch() if batch else echoes(target, stream_arn)}
            profiler = cProfile.Profile() if profile else None
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            out = sys.stdout
            sys.stdout = io.StringIO()  # the monitor's log lines, counted in the CPU, not shown
            try:
                answer = handler.lambda_handler(event, None)
            finally:
                sys.stdout = out
            if profiler:
                profiler.disable()
            results[name] = {
                "records": len(event["Records"]),
                "cpu_ms_per_record": (time.process_time() - cpu) * 1000 / len(event["Records"]),
                "wall_s": time.perf_counter() - wall,
                "failed": len(answer["batchItemFailures"]),
            }
            if profiler:
                text = io.StringIO()
                pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
                results[name]["profile"] = text.getvalue()
        return results


if __name__ == "__main__":
    for name, result in main("--profile" in sys.argv).items():
        print(name, json.dumps({k: v for k, v in result.items() if k != "profile"}))
        if "profile" in result:
            print(result["profile"])

#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dynamodb_window_rollback
version_added: 0.3.0
short_description: Put every item changed in a time window back into the live table as it was at the window's start
description:
  - Finds the items written in O(window_from) to O(window_to) (start inclusive, end exclusive)
    and their state at both ends, then puts each back to its state at O(window_from), in the
    live table, without a full restore and without scanning the live table. What it reads
    is proportional to what changed.
  - 'Where the changes come from (O(source=auto)): a window of 15 minutes or more is read from
    DynamoDB incremental exports (C(ExportTableToPointInTime), C(INCREMENTAL_EXPORT),
    C(NEW_AND_OLD_IMAGES)) written to O(export_bucket), chained in equal pieces of at most
    24 hours and applied newest piece first, so that no join across pieces is needed. A
    shorter window, which an export cannot cover (an export spans 15 minutes to 24 hours and
    gives each item''s state at its two ends only), is read from the table''s stream (the last
    24 hours), at the resolution of a second, as DynamoDB Streams timestamps its records.'
  - An item is put back only while the live item still is its state at O(window_to), read
    by key and made a condition of the write; a write made after O(window_to) always wins and
    is reported as V(superseded), with its key. An item created in the window is deleted only
    with O(delete_created). A live item already in its state at O(window_from) is left alone,
    so a re-run after an interruption writes nothing twice.
  - With O(monitor_function), the writes are asked of the table's change monitor
    (C(restore-items)), which makes them with its own marker, so it neither undoes them nor is
    bypassed by them. In check mode, every change is planned and counted, and nothing is written.
  - Fills a gap, since no amazon.aws or community.aws module reads DynamoDB exports or streams.
author:
  - ddbguard maintainers (@ddbguard)
options:
  table:
    description: The live table.
    type: str
    required: true
  window_from:
    description: Start of the window (ISO 8601; inclusive). Every item changed since is put back as it was then.
    type: str
    required: true
  window_to:
    description: End of the window (ISO 8601; exclusive). Writes from then on are kept.
    type: str
    required: true
  source:
    description: Where the window's changes are read; V(auto) chooses by the window's length (see above).
    type: str
    choices: [auto, stream, export]
    default: auto
  export_bucket:
    description: The S3 bucket that receives the incremental exports (needed when they are used).
    type: str
    default: ""
  export_prefix:
    description: Key prefix of the exports in O(export_bucket).
    type: str
    default: ddbguard-rollback
  export_kms_key:
    description: KMS key (ARN, id or alias) the exports are encrypted with. Empty uses the bucket's default.
    type: str
    default: ""
  delete_created:
    description: Delete the items created in the window (by default they are kept and reported as V(created)).
    type: bool
    default: false
  monitor_function:
    description: Name of the table's change monitor; the writes go through it. Empty writes directly.
    type: str
    default: ""
  key_prefixes:
    description:
      - Only the items whose partition key is a string starting with one of these are rolled
        back; the others are left alone and not counted. Empty rolls back every item. The
        drill rolls back its own canaries only, on a live table.
    type: list
    elements: str
    default: []
  exclude_key_prefixes:
    description: Items whose partition key is a string starting with one of these are never touched (V(excluded)).
    type: list
    elements: str
    default: ["ddbguard-canary#"]
  ignore_attributes:
    description: Attributes left out of every comparison and never written back (the monitor's marker).
    type: list
    elements: str
    default: [_ddbguard_undo]
  batch_size:
    description: >-
      Changes planned together (one BatchGetItem of the live items) and written per
      invocation of the monitor.
    type: int
    default: 50
  wait_timeout:
    description: Seconds to wait for each export.
    type: int
    default: 3600
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Dry run of rolling back 14:02-14:17, then the rollback
  ddbguard.dr.dynamodb_window_rollback:
    table: orders
    window_from: "2026-12-05T14:02:00Z"
    window_to: "2026-12-05T14:17:00Z"
    export_bucket: ddbguard-demo-exports-000000000000
    monitor_function: orders-change-monitor
  check_mode: true
"""

RETURN = r"""
source:
  description: Where the changes were read (V(stream), or V(export) with the export ARNs in RV(exports)).
  returned: always
  type: str
exports:
  description: The incremental exports read, newest piece first.
  returned: always
  type: list
  elements: str
counts:
  description: Items per outcome (rolled_back, deleted, unchanged, superseded, created, excluded, planned).
  returned: always
  type: dict
superseded:
  description: Every key (DynamoDB JSON) that a write after the window kept as it is.
  returned: always
  type: list
  elements: dict
sample:
  description: A bounded sample of the other keys, with their outcome.
  returned: always
  type: list
  elements: dict
live_reads:
  description: Items read from the live table (by key).
  returned: always
  type: int
wall_seconds:
  description: Seconds the rollback took, from the first read to the last write.
  returned: always
  type: float
export_seconds:
  description:
    - Of RV(wall_seconds), the seconds spent waiting for the incremental exports, from asking
      for each to its completion (0 for a window read from the stream). DynamoDB's own time,
      which does not depend on how much was damaged.
  returned: always
  type: float
"""

import datetime
import gzip
import hashlib
import json
import math
import time
from typing import Any, Optional

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.ddbguard.dr.plugins.module_utils import dynamodb as ddb
from ansible_collections.ddbguard.dr.plugins.module_utils import items as itm
from ansible_collections.ddbguard.dr.plugins.module_utils import lambda_api
from ansible_collections.ddbguard.dr.plugins.module_utils import rollback as rb
from ansible_collections.ddbguard.dr.plugins.module_utils.common import table_name_problem
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardAWSError, DdbguardErrorHandler
from ansible_collections.ddbguard.dr.plugins.module_utils.times import parse_time
from ansible_collections.ddbguard.dr.plugins.module_utils.waiters import wait

ARGUMENT_SPEC = dict(
    table=dict(type="str", required=True),
    window_from=dict(type="str", required=True),
    window_to=dict(type="str", required=True),
    source=dict(type="str", choices=["auto", "stream", "export"], default="auto"),
    export_bucket=dict(type="str", default=""),
    export_prefix=dict(type="str", default="ddbguard-rollback"),
    export_kms_key=dict(type="str", default="", no_log=False),
    delete_created=dict(type="bool", default=False),
    monitor_function=dict(type="str", default=""),
    key_prefixes=dict(type="list", elements="str", default=[], no_log=False),
    exclude_key_prefixes=dict(type="list", elements="str", default=["ddbguard-canary#"], no_log=False),
    ignore_attributes=dict(type="list", elements="str", default=["_ddbguard_undo"]),
    batch_size=dict(type="int", default=50),
    wait_timeout=dict(type="int", default=3600),
)
SUPPORTS_CHECK_MODE = True
MIN_EXPORT = 15 * 60
MAX_EXPORT = 24 * 3600
STREAM_RETENTION = 24 * 3600


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def source_for(params: dict[str, Any], start: datetime.datetime, end: datetime.datetime) -> str:
    if params["source"] != "auto":
        return params["source"]
    return "export" if (end - start).total_seconds() >= MIN_EXPORT else "stream"


def validate(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters, found without any AWS call (empty when valid)."""
    problems = table_name_problem("table", params["table"])
    try:
        start = parse_time(params["window_from"], "window_from")
        end = parse_time(params["window_to"], "window_to")
    except ValueError as err:
        return problems + [str(err)]
    now = _now()
    if end > now:
        problems.append(f"window_to must not be in the future, got {params['window_to']}")
    if end <= start:
        problems.append(f"window_to ({params['window_to']}) must be after window_from ({params['window_from']})")
    if not 1 <= params["batch_size"] <= 100:
        problems.append(f"batch_size must be 1-100 (BatchGetItem reads 100 keys at most), got {params['batch_size']}")
    if params["wait_timeout"] < 1:
        problems.append(f"wait_timeout must be positive, got {params['wait_timeout']}")
    if problems:
        return problems
    source = source_for(params, start, end)
    if source == "stream":
        if start.microsecond or end.microsecond:
            problems.append(
                "window_from and window_to must be whole seconds for the stream, which times records to the second"
            )
        if (now - start).total_seconds() > STREAM_RETENTION:
            problems.append(
                f"window_from ({params['window_from']}) is older than the stream's 24 hours: use source=export"
            )
    else:
        if (end - start).total_seconds() < MIN_EXPORT:
            problems.append("the window must last at least 15 minutes for an incremental export: use source=stream")
        if not params["export_bucket"]:
            problems.append("export_bucket is required when the window is read from incremental exports")
    return problems


@DdbguardErrorHandler.common_error_handler("read the live items")
@AWSRetry.jittered_backoff()
def _batch_get(client: Any, table: str, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    request = {table: {"Keys": keys, "ConsistentRead": True}}
    while request:
        answer = client.batch_get_item(RequestItems=request)
        found += answer.get("Responses", {}).get(table, [])
        request = answer.get("UnprocessedKeys") or {}
    return found


@DdbguardErrorHandler.common_error_handler("write an item back")
@AWSRetry.jittered_backoff()
def _write(client: Any, table: str, entry: rb.Entry, image: Optional[dict[str, Any]]) -> str:
    try:
        if image is None:
            client.delete_item(TableName=table, Key=entry.change.key, **rb.condition(entry))
        else:
            client.put_item(TableName=table, Item=image, **rb.condition(entry))
    except client.exceptions.ConditionalCheckFailedException:
        return rb.SUPERSEDED
    return "applied"


class Rollback:
    """Plans and applies the changes, a batch at a time; holds one batch."""

    def __init__(self, module: AnsibleAWSModule, client: Any, schema: list[dict[str, str]]):
        self.module, self.client, self.params = module, client, module.params
        self.hash_key = next(k["AttributeName"] for k in schema if k["KeyType"] == "HASH")
        self.tally = rb.Tally()
        self.live_reads = 0
        self.export_seconds = 0.0  # from asking for each export to its completion
        self.planned: dict[str, Optional[dict[str, Any]]] = {}  # check mode, chained pieces: what later pieces put
        # Chained pieces (newest first): the keys a later piece already counted, and those a
        # write after the window keeps, which no earlier piece may touch. Held only when
        # chained; proportional to the damage.
        self.chained = False
        self.seen: dict[str, str] = {}
        self.lam = module.client("lambda") if self.params["monitor_function"] else None

    def run(self, changes: Any) -> None:
        batch: list[rb.Change] = []
        only = [p for p in self.params["key_prefixes"] if p]
        for change in changes:
            if only and not rb.under_prefix(change.key, self.hash_key, only):
                continue  # outside the items asked for
            batch.append(change)
            if len(batch) == self.params["batch_size"]:
                self._batch(batch)
                batch = []
        if batch:
            self._batch(batch)

    def _batch(self, changes: list[rb.Change]) -> None:
        ignore, table = self.params["ignore_attributes"], self.params["table"]
        entries, todo = [], []
        for change in changes:
            if self.seen.get(rb.key_id(change.key)) == rb.SUPERSEDED:
                continue  # a write after the window keeps it: an earlier piece must not undo that
            if rb.under_prefix(change.key, self.hash_key, self.params["exclude_key_prefixes"]):
                entries.append(rb.Entry(change, rb.EXCLUDED, outcome=rb.EXCLUDED))
            else:
                todo.append(change)
        live = {}
        if todo:
            self.live_reads += len(todo)
            for item in _batch_get(self.client, table, [c.key for c in todo]):
                live[rb.key_id({k: item[k] for k in todo[0].key})] = item
        for change in todo:
            kid = rb.key_id(change.key)
            current = self.planned[kid] if kid in self.planned else live.get(kid)
            entries.append(rb.plan(change, current, self.params["delete_created"], ignore))
        writes = [e for e in entries if e.action in (rb.ROLLBACK, rb.DELETE)]
        if self.module.check_mode:
            for entry in writes:
                entry.outcome = "planned"
                self.planned[rb.key_id(entry.change.key)] = rb.image(entry, ignore)
        elif writes and self.lam is not None:
            payload = {
                "ddbguard": "restore-items",
                "table": table,
                "items": [
                    {
                        "key": itm.from_wire(e.change.key),
                        "image": itm.from_wire(rb.image(e, ignore)),
                        "expected": itm.from_wire(e.expected),
                    }
                    for e in writes
                ],
            }
            results = lambda_api.invoke(self.lam, self.params["monitor_function"], payload)["results"]
            for entry, result in zip(writes, results, strict=True):
                entry.outcome = result["outcome"]
        else:
            for entry in writes:
                entry.outcome = _write(self.client, table, entry, rb.image(entry, ignore))
        for entry in entries:
            kid = rb.key_id(entry.change.key) if self.chained else ""
            if kid in self.seen:
                continue  # counted by a later piece
            if self.chained:
                self.seen[kid] = entry.outcome
            self.tally.add(entry)


@DdbguardErrorHandler.common_error_handler("read the table's stream")
@AWSRetry.jittered_backoff()
def _shards(streams: Any, arn: str) -> list[dict[str, Any]]:
    shards, start = [], None
    while True:
        answer = streams.describe_stream(StreamArn=arn, **({"ExclusiveStartShardId": start} if start else {}))
        description = answer["StreamDescription"]
        shards += description.get("Shards", [])
        start = description.get("LastEvaluatedShardId")
        if not start:
            break
    ids = {s["ShardId"] for s in shards}
    ordered, done = [], set()
    while len(ordered) < len(shards):  # parents first: a child's records of an item follow its parent's
        for shard in shards:
            parent = shard.get("ParentShardId")
            if shard["ShardId"] not in done and (not parent or parent not in ids or parent in done):
                ordered.append(shard)
                done.add(shard["ShardId"])
    return ordered


@DdbguardErrorHandler.common_error_handler("read the table's stream")
@AWSRetry.jittered_backoff()
def _iterator(streams: Any, arn: str, shard_id: str) -> str:
    return streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]


@DdbguardErrorHandler.common_error_handler("read the table's stream")
@AWSRetry.jittered_backoff()
def _get_records(streams: Any, iterator: str) -> dict[str, Any]:
    return streams.get_records(ShardIterator=iterator, Limit=1000)


def _records(streams: Any, arn: str, shard: dict[str, Any], end: float):
    """A shard's records, page after page, up to the first one past the window."""
    iterator = _iterator(streams, arn, shard["ShardId"])
    open_shard = "EndingSequenceNumber" not in shard.get("SequenceNumberRange", {})
    while iterator:
        answer = _get_records(streams, iterator)
        records = answer.get("Records", [])
        yield from records
        if records and records[-1]["dynamodb"]["ApproximateCreationDateTime"].timestamp() >= end:
            return  # a shard's records are in order: nothing later is in the window
        if open_shard and not records:
            return
        iterator = answer.get("NextShardIterator")


def _from_stream(module: AnsibleAWSModule, description: dict[str, Any], start: float, end: float) -> dict:
    spec = description.get("StreamSpecification") or {}
    arn = description.get("LatestStreamArn")
    if not spec.get("StreamEnabled") or spec.get("StreamViewType") != "NEW_AND_OLD_IMAGES" or not arn:
        raise DdbguardAWSError(
            message=f"{description['TableName']} has no NEW_AND_OLD_IMAGES stream: use source=export"
        )
    label = parse_time(description["LatestStreamLabel"], "LatestStreamLabel").timestamp()
    if label > start:
        raise DdbguardAWSError(
            message=f"window_from is before the table's stream began ({description['LatestStreamLabel']}):"
            " use source=export"
        )
    streams = module.client("dynamodbstreams")
    records = (r for shard in _shards(streams, arn) for r in _records(streams, arn, shard, end))
    return rb.stream_changes(records, start, end)


def pieces(start: float, end: float) -> list[tuple[float, float]]:
    """Equal pieces of at most 24 hours (each at least 12, so never under the 15-minute minimum)."""
    count = max(1, math.ceil((end - start) / MAX_EXPORT))
    size = (end - start) / count
    return [(start + i * size, end if i == count - 1 else start + (i + 1) * size) for i in range(count)]


@DdbguardErrorHandler.common_error_handler("export the window")
@AWSRetry.jittered_backoff()
def _start_export(client: Any, request: dict[str, Any]) -> str:
    return client.export_table_to_point_in_time(**request)["ExportDescription"]["ExportArn"]


@DdbguardErrorHandler.common_error_handler("read the export")
@AWSRetry.jittered_backoff()
def _object(s3: Any, bucket: str, key: str) -> Any:
    return s3.get_object(Bucket=bucket, Key=key)["Body"]


def _export_lines(module: AnsibleAWSModule, s3: Any, bucket: str, arn: str):
    """The data lines of a completed export, file after file, streamed (one line held)."""
    client = module.client("dynamodb")
    summary_key = client.describe_export(ExportArn=arn)["ExportDescription"]["ExportManifest"]
    summary = json.loads(_object(s3, bucket, summary_key).read())
    for entry in _object(s3, bucket, summary["manifestFilesS3Key"]).iter_lines():
        if entry.strip():
            with gzip.GzipFile(fileobj=_object(s3, bucket, json.loads(entry)["dataFileS3Key"])) as data:
                for line in data:
                    yield line.decode()


def _from_exports(module: AnsibleAWSModule, rollback: Rollback, table_arn: str, start: float, end: float) -> list:
    params = module.params
    client, s3 = module.client("dynamodb"), module.client("s3")
    arns = []
    chain = pieces(start, end)
    rollback.chained = len(chain) > 1
    for piece_start, piece_end in reversed(chain):  # newest first: no join across pieces
        token = hashlib.sha256(f"{table_arn}|{piece_start}|{piece_end}".encode()).hexdigest()[:32]
        request = {
            "TableArn": table_arn,
            "S3Bucket": params["export_bucket"],
            "S3Prefix": params["export_prefix"],
            "ExportFormat": "DYNAMODB_JSON",
            "ExportType": "INCREMENTAL_EXPORT",
            "IncrementalExportSpecification": {
                "ExportFromTime": datetime.datetime.fromtimestamp(piece_start, datetime.UTC),
                "ExportToTime": datetime.datetime.fromtimestamp(piece_end, datetime.UTC),
                "ExportViewType": "NEW_AND_OLD_IMAGES",
            },
            "ClientToken": token,  # a re-run reuses the same export
        }
        if params["export_kms_key"]:
            request.update(S3SseAlgorithm="KMS", S3SseKmsKeyId=params["export_kms_key"])
        began = time.monotonic()
        arn = _start_export(client, request)
        arns.append(arn)
        wait(client, "export_completed", params["wait_timeout"], ExportArn=arn)
        rollback.export_seconds += time.monotonic() - began
        rollback.run(rb.export_changes(_export_lines(module, s3, params["export_bucket"], arn)))
    return arns


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    began = time.monotonic()
    start = parse_time(params["window_from"], "window_from")
    end = parse_time(params["window_to"], "window_to")
    client = module.client("dynamodb")
    description = ddb.describe_table(client, params["table"])
    source = source_for(params, start, end)
    rollback = Rollback(module, client, description["KeySchema"])
    arns: list[str] = []
    if source == "stream":
        changes = _from_stream(module, description, start.timestamp(), end.timestamp())
        rollback.run(changes.values())
    else:
        pitr = ddb.describe_continuous_backups(client, params["table"])["PointInTimeRecoveryDescription"]
        if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
            raise DdbguardAWSError(
                message=f"window_from: {params['table']} has no point-in-time recovery to export from"
            )
        earliest = pitr["EarliestRestorableDateTime"]
        if start < earliest:
            raise DdbguardAWSError(
                message=f"window_from ({params['window_from']}) is before the earliest restorable time"
                f" ({earliest.isoformat()})"
            )
        arns = _from_exports(module, rollback, description["TableArn"], start.timestamp(), end.timestamp())
    counts = rollback.tally.counts
    return dict(
        changed=bool(counts["rolled_back"] or counts["deleted"] or counts["planned"]),
        source=source,
        exports=arns,
        counts=counts,
        superseded=rollback.tally.superseded,
        sample=rollback.tally.sample,
        live_reads=rollback.live_reads,
        wall_seconds=round(time.monotonic() - began, 3),
        export_seconds=round(rollback.export_seconds, 3),
    )


def main() -> None:
    run_module(run, validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

"""DynamoDB stream triggers (event source mappings): AWS's failure handling.

ministack polls DynamoDB streams for Lambda triggers, but handles failures differently
from AWS, and the change monitor depends on AWS's behaviour:

- ``ReportBatchItemFailures``: AWS checkpoints before the lowest failed sequence number
  and retries from that record. ministack ignores the response: the whole batch counts
  as done, so failed records are skipped silently.
- Function errors: AWS bisects the batch (when ``BisectBatchOnFunctionError``), retries
  up to ``MaximumRetryAttempts``, then sends the batch's description to the on-failure
  destination and moves on. ministack retries the whole batch forever, and uses the
  destination only once ``MaximumRecordAgeInSeconds`` has passed. So one poison record
  blocks the shard.
- ``FilterCriteria`` ``{"exists": false}`` under a parent field that is absent (for
  example ``dynamodb.NewImage.x`` on a REMOVE record, which has no NewImage): AWS
  matches, ministack does not.

- Metrics: AWS publishes ``AWS/Lambda`` Invocations, Errors, Duration, Throttles and
  IteratorAge for every invocation a stream trigger makes; ministack's own poller
  publishes none, so the monitor's error and iterator-age alarms could never fire.
- ``ParallelizationFactor``: AWS hands up to 10 batches of one shard to the function at
  the same time, keeping the records of one partition key in order. ministack stores the
  setting and ignores it: one batch at a time.

This module replaces ministack's DynamoDB stream poller with one that follows AWS on all
five counts. It reuses ministack's stream storage, positions (persisted), filters,
function execution and failure-destination message. ``decide`` holds the policy and is
pure, so it is unit-tested without a server.
"""

from __future__ import annotations

import contextvars
import json
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

RETRY_BACKOFF_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 5.0


@dataclass
class MappingState:
    """Retry bookkeeping of one mapping (kept in memory, as AWS keeps it internally)."""

    limit: int | None = None  # batch size while bisecting; None = the mapping's BatchSize
    attempts: int = 0  # failed attempts of the batch at the head of the shard
    retry_at: float = 0.0


@dataclass
class Outcome:
    """What to do after one invocation."""

    advance_to: int  # new absolute stream position
    finished: list[tuple[int, dict]] = field(default_factory=list)  # entries sent to the failure destination
    condition: str | None = None  # RetryAttemptsExhausted / MaxRecordAgeExceeded
    retry: bool = False


def failed_from(result: dict[str, Any], entries: list[tuple[int, dict]], report_item_failures: bool) -> int | None:
    """Absolute position from which the batch must be retried, or None when it succeeded.

    A function error fails the whole batch. With ReportBatchItemFailures, the lowest
    reported sequence number is the checkpoint. An identifier that is missing, empty or
    not in the batch makes AWS treat the whole batch as failed.
    """
    first = entries[0][0]
    if result.get("error"):
        return first
    body = result.get("body")
    if not report_item_failures or not isinstance(body, dict):
        return None
    failures = body.get("batchItemFailures") or []
    if not failures:
        return None
    positions = {r["dynamodb"]["SequenceNumber"]: p for p, r in entries}
    ids = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
    if any(not i or i not in positions for i in ids):
        return first
    return positions[min(ids, key=int)]


def decide(
    state: MappingState,
    entries: list[tuple[int, dict]],
    failed_at: int | None,
    end_position: int,
    bisect: bool,
    max_retries: int,
) -> Outcome:
    """AWS's reaction to one invocation of ``entries`` (a batch, with absolute positions)."""
    if failed_at is None:
        state.limit, state.attempts = None, 0
        return Outcome(advance_to=end_position)
    remaining = [e for e in entries if e[0] >= failed_at]
    progressed = failed_at > entries[0][0]
    state.attempts = 1 if progressed else state.attempts + 1
    if bisect and len(remaining) > 1:
        state.limit = max(1, len(remaining) // 2)
        state.attempts = 0
        return Outcome(advance_to=failed_at, retry=True)
    if max_retries != -1 and state.attempts > max_retries:
        state.limit, state.attempts = None, 0
        return Outcome(advance_to=remaining[-1][0] + 1, finished=remaining, condition="RetryAttemptsExhausted")
    return Outcome(advance_to=failed_at, retry=True)


def match_filter(match, record: dict, pattern: dict) -> bool:
    """ministack's matcher, except that a nested pattern on an absent field is matched
    against an empty object, so ``{"exists": false}`` below it matches, as on AWS."""
    if not isinstance(pattern, dict):
        return False
    for key, pat in pattern.items():
        if isinstance(pat, dict):
            value = record.get(key)
            if not match_filter(match, value if isinstance(value, dict) else {}, pat):
                return False
        elif not match({key: record[key]} if key in record else {}, {key: pat}):
            return False
    return True


def lane_of(record: dict, partition_key: str, factor: int) -> int:
    """The concurrent batch (0 to ``factor - 1``) that carries ``record``: all records of one
    partition key go to the same one, as AWS keeps them in order. Stable across restarts."""
    if factor <= 1:
        return 0
    value = ((record.get("dynamodb") or {}).get("Keys") or {}).get(partition_key)
    return zlib.crc32(json.dumps(value, sort_keys=True).encode("utf-8")) % factor


def lane_batch(
    raw: list[dict], kept: set[int], pos: int, lane: int, factor: int, partition_key: str, limit: int
) -> tuple[list[tuple[int, dict]], int]:
    """The batch of ``lane`` in the records read from ``pos`` (``kept``: ids of those the
    filter keeps), and the position after it: past every record read when the batch took
    all of the lane's, else just after the batch's last record."""
    entries = [(pos + i, r) for i, r in enumerate(raw) if id(r) in kept and lane_of(r, partition_key, factor) == lane]
    batch = entries[:limit]
    end_position = pos + len(raw) if len(batch) == len(entries) else batch[-1][0] + 1
    return batch, end_position


def position_key(esm_id: str, lane: int) -> str:
    """Where a lane's position is kept: lane 0 under the mapping's own id (as ministack keeps it)."""
    return esm_id if lane == 0 else f"{esm_id}#{lane}"


_STATES: dict[tuple[str, int], MappingState] = {}
_IN_FLIGHT: set[tuple[str, int]] = set()
_IN_FLIGHT_LOCK = threading.Lock()
_POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="localaws-stream-lane")


def _poll_mapping(ms, ddb, esm: dict) -> bool:
    """One pass over one mapping; True when it consumed records.

    With ``ParallelizationFactor`` N > 1, the mapping reads N lanes of the shard, each with
    its own position, retry state and invocation, running concurrently (as AWS's
    concurrent batches per shard); a record's lane follows its partition key."""
    if not esm.get("Enabled", True):
        return False
    source_arn = esm.get("EventSourceArn", "")
    try:
        spec = ms.parse_arn(source_arn)
    except ms.ArnParseError:
        return False
    if spec.service != "dynamodb" or spec.account_id != ms.get_account_id() or spec.region != ms.get_region():
        return False
    table_stream = ms._dynamodb_stream_table_from_arn_spec(spec)
    if table_stream is None:
        return False
    table_name = table_stream[0]
    func_rec, _cfg = ms._get_func_record_for_qualifier(esm["FunctionName"], esm.get("Qualifier"))
    table = ddb._tables.get(table_name)
    if func_rec is None or not table or table.get("LatestStreamArn") != source_arn:
        return False
    factor = max(1, int(esm.get("ParallelizationFactor", 1) or 1))
    _align_lanes(ms, esm["UUID"], factor)
    if factor == 1:
        return _poll_lane(ms, ddb, esm, func_rec, table_name, table, 0, 1)
    consumed = False
    for lane in range(factor):
        flight = (esm["UUID"], lane)
        with _IN_FLIGHT_LOCK:
            if flight in _IN_FLIGHT:
                continue
            _IN_FLIGHT.add(flight)
        # The lane runs with this pass's account and region (context variables).
        _POOL.submit(contextvars.copy_context().run, _run_lane, ms, ddb, esm, func_rec, table_name, table, lane, factor)
        consumed = True
    return consumed


def _run_lane(ms, ddb, esm, func_rec, table_name, table, lane, factor) -> None:
    try:
        _poll_lane(ms, ddb, esm, func_rec, table_name, table, lane, factor)
    except Exception:  # noqa: BLE001 - one broken lane must not stop the others
        ms.logger.exception("localaws: DynamoDB stream lane %s of %s failed", lane, esm.get("UUID"))
    finally:
        with _IN_FLIGHT_LOCK:
            _IN_FLIGHT.discard((esm["UUID"], lane))
        ms._esm_wake.set()  # the poller looks again at once, as AWS polls a lane that finished


def _align_lanes(ms, esm_id: str, factor: int) -> None:
    """When the factor changes, no record is skipped: new lanes start where the first lane
    stands, and lanes that go away hand their records back (from the lowest position)."""
    with ms._dynamodb_stream_positions_lock:
        positions = ms._dynamodb_stream_positions
        if esm_id not in positions:
            return
        extra = [k for k in positions if k.startswith(f"{esm_id}#") and int(k.rsplit("#", 1)[1]) >= factor]
        if extra:
            positions[esm_id] = min([positions[esm_id], *(positions.pop(k) for k in extra)])
        for lane in range(1, factor):
            positions.setdefault(position_key(esm_id, lane), positions[esm_id])


def _poll_lane(ms, ddb, esm: dict, func_rec, table_name: str, table: dict, lane: int, factor: int) -> bool:
    esm_id = esm["UUID"]
    key = position_key(esm_id, lane)
    state = _STATES.setdefault((esm_id, lane), MappingState())
    if time.time() < state.retry_at:
        return False
    source_arn = esm.get("EventSourceArn", "")
    horizon = ddb.stream_start_position(table_name)
    end = ddb.stream_end_position(table_name)
    with ms._dynamodb_stream_positions_lock:
        if key not in ms._dynamodb_stream_positions:
            starting = esm.get("StartingPosition", "LATEST")
            ms._dynamodb_stream_positions[key] = horizon if starting == "TRIM_HORIZON" else end
        pos = max(ms._dynamodb_stream_positions[key], horizon)
    batch_size = int(esm.get("BatchSize", 100))
    raw = ddb.stream_records_since(table_name, pos, batch_size * factor)
    if not raw:
        return False
    kept = {id(r) for r in ms._apply_filter_criteria(raw, esm)}
    batch, end_position = lane_batch(
        raw, kept, pos, lane, factor, table.get("pk_name") or "", state.limit or batch_size
    )
    if not batch:
        _set_position(ms, key, pos + len(raw))
        return True

    max_age = int(esm.get("MaximumRecordAgeInSeconds", -1) or -1)
    oldest = min(float(r["dynamodb"].get("ApproximateCreationDateTime", time.time())) for _, r in batch)
    if max_age > 0 and time.time() - oldest > max_age:
        ms._send_ddb_stream_failure_record(esm, func_rec, [r for _, r in batch], source_arn, {}, "MaxRecordAgeExceeded")
        state.limit, state.attempts = None, 0
        _set_position(ms, key, end_position)
        return True

    started = time.time()
    result = ms._execute_function(func_rec, {"Records": [r for _, r in batch]})
    _publish_metrics(ms, func_rec, result, started, batch)
    report = "ReportBatchItemFailures" in (esm.get("FunctionResponseTypes") or [])
    outcome = decide(
        state,
        batch,
        failed_from(result, batch, report),
        end_position,
        bool(esm.get("BisectBatchOnFunctionError")),
        int(esm.get("MaximumRetryAttempts", -1)),
    )
    if outcome.finished:
        records = [r for _, r in outcome.finished]
        ms._send_ddb_stream_failure_record(esm, func_rec, records, source_arn, result, outcome.condition)
    _set_position(ms, key, outcome.advance_to)
    if outcome.retry:
        esm["LastProcessingResult"] = "PROBLEM: Function call failed"
        state.retry_at = time.time() + min(
            RETRY_BACKOFF_SECONDS * (2 ** max(state.attempts - 1, 0)), MAX_BACKOFF_SECONDS
        )
    else:
        esm["LastProcessingResult"] = f"OK - {len(batch)} records"
    return outcome.advance_to > pos


def iterator_age_ms(batch: list[tuple[int, dict]], now: float) -> float:
    """AWS's IteratorAge: how old the batch's last record was when it was handed over."""
    created = batch[-1][1].get("dynamodb", {}).get("ApproximateCreationDateTime", now)
    return max(0.0, (now - float(created)) * 1000)


def _publish_metrics(ms, func_rec: dict, result: dict, started: float, batch: list[tuple[int, dict]]) -> None:
    """The ``AWS/Lambda`` metrics AWS publishes for an invocation by a stream trigger:
    Invocations, Errors (a function error, start-up failures included), Duration,
    Throttles, and IteratorAge."""
    name = (func_rec.get("config") or func_rec).get("FunctionName", "")
    ms._emit_lambda_metrics(
        name,
        duration_ms=(time.time() - started) * 1000,
        error=bool(result.get("error")),
        throttle=bool(result.get("throttle")),
    )
    from ministack.services import cloudwatch

    cloudwatch.record_metric(
        "AWS/Lambda", "IteratorAge", iterator_age_ms(batch, started), "Milliseconds", {"FunctionName": name}
    )


def _set_position(ms, esm_id: str, position: int) -> None:
    with ms._dynamodb_stream_positions_lock:
        ms._dynamodb_stream_positions[esm_id] = position


def install() -> None:
    from ministack.core.responses import _request_account_id, _request_region
    from ministack.services import dynamodb as ddb
    from ministack.services import lambda_svc as ms

    if getattr(ms._poll_dynamodb_streams, "_localaws_patched", False):
        return
    original_match = ms._match_esm_filter

    def match(record: dict, pattern: dict) -> bool:
        return match_filter(original_match, record, pattern)

    def poll() -> bool:
        processed = False
        for account, region, esm in ms._iter_all_esms():
            account_token = _request_account_id.set(account)
            region_token = _request_region.set(region)
            try:
                processed = _poll_mapping(ms, ddb, esm) or processed
            except Exception:  # noqa: BLE001 - one broken mapping must not stop the others
                ms.logger.exception("localaws: DynamoDB stream poller error on %s", esm.get("UUID"))
            finally:
                _request_account_id.reset(account_token)
                _request_region.reset(region_token)
        return processed

    original_release = ms._release_esm_poll_state

    def release(esm_id: str) -> None:
        """A deleted mapping leaves none of its lanes' positions or states behind."""
        original_release(esm_id)
        with ms._dynamodb_stream_positions_lock:
            for key in [k for k in ms._dynamodb_stream_positions if str(k).startswith(f"{esm_id}#")]:
                ms._dynamodb_stream_positions.pop(key, None)
        for state in [k for k in _STATES if k[0] == esm_id]:
            _STATES.pop(state, None)

    poll._localaws_patched = True
    ms._match_esm_filter = match
    ms._poll_dynamodb_streams = poll
    ms._release_esm_poll_state = release

"""The DynamoDB stream poller of Lambda triggers (event source mappings), as AWS runs it.

ministack polls DynamoDB streams for Lambda triggers but handles their failures, metrics
and concurrency differently from AWS, and the change monitor depends on AWS's behaviour.
This module replaces ministack's poller with one that follows AWS; each behaviour is a
module of its own (a row of ``docs/emulator.md``):

- ``stream_item_failures``: ``ReportBatchItemFailures`` (row 6);
- ``stream_retries``: bisection, retries, the on-failure destination (row 7);
- ``stream_metrics``: the ``AWS/Lambda`` metrics of each invocation (row 16);
- ``stream_lanes``: ``ParallelizationFactor`` (row 18).

It reuses ministack's stream storage, positions (persisted), filters (``stream_filter``,
row 8), function execution and failure-destination message.
"""

from __future__ import annotations

import contextvars
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from localaws.compat import stream_lanes, stream_metrics
from localaws.compat.stream_item_failures import failed_from
from localaws.compat.stream_retries import MappingState, backoff_seconds, decide

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
    stream_lanes.align(ms, esm["UUID"], factor)
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


def _poll_lane(ms, ddb, esm: dict, func_rec, table_name: str, table: dict, lane: int, factor: int) -> bool:
    esm_id = esm["UUID"]
    key = stream_lanes.position_key(esm_id, lane)
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
    batch, end_position = stream_lanes.lane_batch(
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
    stream_metrics.publish(ms, func_rec, result, started, batch)
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
        state.retry_at = time.time() + backoff_seconds(state)
    else:
        esm["LastProcessingResult"] = f"OK - {len(batch)} records"
    return outcome.advance_to > pos


def _set_position(ms, esm_id: str, position: int) -> None:
    with ms._dynamodb_stream_positions_lock:
        ms._dynamodb_stream_positions[esm_id] = position


def install() -> None:
    from ministack.core.responses import _request_account_id, _request_region
    from ministack.services import dynamodb as ddb
    from ministack.services import lambda_svc as ms

    if getattr(ms._poll_dynamodb_streams, "_localaws_patched", False):
        return

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
        stream_lanes.release(ms, esm_id)
        for state in [k for k in _STATES if k[0] == esm_id]:
            _STATES.pop(state, None)

    poll._localaws_patched = True
    ms._poll_dynamodb_streams = poll
    ms._release_esm_poll_state = release

"""Lambda entry point: decide, act, audit, escalate, report partial failures.

- Records of one key are handled in stream order; the keys together, in waves
  (``waves``), whose restores go out in transactions. At most ``DDBGUARD_CONCURRENCY``
  writes (transactions, lone undos, audit requests) are in flight at once.
- When a record fails unexpectedly, its sequence number goes into ``batchItemFailures``,
  and the later records of the same key wait for the retry. Lambda restarts from the
  lowest failed sequence number. Every action is conditional, so a replayed record is
  harmless: it ends ``superseded`` or ``own-write``.
- One JSON log line per decision, one EMF metrics line per invocation, and one audit
  record per undo (when an audit table is configured).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections import Counter, OrderedDict
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

import boto3
from botocore.config import Config

from change_monitor import adapter, core, failures, incidents, log, marker, metrics, operations, waves
from change_monitor import maintenance as maintenance_state
from change_monitor.config import Policy, load_policy
from change_monitor.maintenance import MaintenanceWindow

FAILED = waves.FAILED
AUDITED = "audited"
NOT_UNDONE = "not-undone"  # a protected change the monitor saw and cannot undo (core.NOT_UNDONE)


def _clients(policy: Policy) -> dict[str, Any]:
    config = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=policy.concurrency + 4)
    # The monitor builds every DynamoDB request itself from stream images, which DynamoDB
    # wrote: botocore's client-side check of each value would only repeat the server's.
    ddb = boto3.client("dynamodb", config=config.merge(Config(parameter_validation=False)))
    out: dict[str, Any] = {"actions": adapter.DynamoDbActions(ddb, policy.marker), "ddb": ddb}
    if policy.audit_table:
        out["audit"] = adapter.AuditTrail(ddb, policy.audit_table)
    if policy.maintenance_parameter:
        out["window"] = MaintenanceWindow(
            boto3.client("ssm", config=config),
            policy.maintenance_parameter,
            policy.maintenance_max_seconds,
            policy.table,
        )
    if policy.escalates:
        out["escalation"] = adapter.Escalation(
            boto3.client("backup", config=config), policy.backup_vault, policy.restore_role_arn
        )
    return out


class Memory:
    """Bounded, thread-safe memory of bad images (see ``core``): oldest entries go first."""

    def __init__(self, size: int = 10_000) -> None:
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._items.get(key, default)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def marker_key(kms: Any, key_id: str, table: str) -> bytes:
    """The table's secret marker key: a MAC, by the KMS HMAC key, of the table's name.

    Only a principal allowed ``kms:GenerateMac`` on that key (the monitor's execution role)
    can derive it. Called once per container; any failure fails the cold start, loudly."""
    message = marker.DERIVATION.format(table=table).encode("utf-8")
    return kms.generate_mac(KeyId=key_id, MacAlgorithm="HMAC_SHA_256", Message=message)["Mac"]


def _policy() -> Policy:
    policy = load_policy()
    kms = boto3.client("kms", config=Config(retries={"mode": "standard", "max_attempts": 5}))
    return dataclasses.replace(policy, marker_key=marker_key(kms, policy.marker_key_id, policy.table))


POLICY = _policy()
CLIENTS = _clients(POLICY)
MEMORY = Memory()
FAILED_HERE: set[str] = set()  # sequence numbers whose failure this container kept


def _created(record: dict[str, Any]) -> float | None:
    value = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
    return float(value) if value is not None else None


def _lag_ms(record: dict[str, Any]) -> int | None:
    """Milliseconds from the record's creation to now (its ApproximateCreationDateTime)."""
    created = _created(record)
    return round((time.time() - created) * 1000) if created else None


def _log(record: dict[str, Any], decision: core.Decision | None, outcome: str, error: str | None = None) -> None:
    ddb = record.get("dynamodb") or {}
    fields = {
        "event_id": record.get("eventID"),
        "event": record.get("eventName"),
        "sequence": ddb.get("SequenceNumber"),
        "key": ddb.get("Keys"),
        "action": decision.action if decision else None,
        "reason": decision.reason if decision else None,
        "lag_ms": _lag_ms(record),
    }
    if error:
        fields["error"] = error
    table = decision.table if decision else core.table_name(record.get("eventSourceARN", ":table/?/"))
    log.emit(log.DECISION, table, outcome, **fields)


def _by_key(records: list[dict[str, Any]]) -> list[list[tuple[int, dict[str, Any]]]]:
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for index, record in enumerate(records):
        key = json.dumps((record.get("dynamodb") or {}).get("Keys"), sort_keys=True)
        groups.setdefault(key, []).append((index, record))
    return list(groups.values())


@dataclasses.dataclass
class Summary:
    """What one batch came to: the records to report failed, and what the audit keeps."""

    counts: Counter = dataclasses.field(default_factory=Counter)
    failed: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    kept_failed: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    undone: list[tuple[dict[str, Any], core.Decision, str]] = dataclasses.field(default_factory=list)
    not_undone: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    protected_at: list[float] = dataclasses.field(default_factory=list)


Result = tuple[core.Decision | None, str, str | None] | None


def process(
    event: dict[str, Any],
    actions: adapter.DynamoDbActions,
    policy: Policy = POLICY,
    window: MaintenanceWindow | None = None,
    audit: adapter.AuditTrail | None = None,
    escalation: adapter.Escalation | None = None,
    memory: Memory | None = None,
) -> dict[str, list]:
    """Decide and carry out a batch (``waves``), log each decision, keep the audit trail,
    escalate, and answer the records to retry. One pool of workers serves the writes."""
    records = event.get("Records", [])
    memory = MEMORY if memory is None else memory
    maintenance = window.state() if window else maintenance_state.CLOSED
    if audit and records:
        _recall(audit, policy, records, memory)
    groups = _by_key(records)
    workers = min(policy.concurrency, max(len(groups), 1))
    with ThreadPoolExecutor(max_workers=workers) if workers > 1 else nullcontext() as pool:
        results = _carry_out(records, groups, actions, policy, maintenance == maintenance_state.OPEN, memory, pool)
        summary = _summarise(records, results)
        if audit:
            _keep_all(audit.with_pool(pool), records, results, summary)
    if maintenance in maintenance_state.REFUSALS:
        summary.counts["MaintenanceRefused"] += 1
    # An open maintenance window means audit only: nothing escalates (``incidents``).
    if escalation and audit and summary.protected_at and records and maintenance != maintenance_state.OPEN:
        summary.counts["Escalated"] += incidents.escalate(
            policy, audit, escalation, records[0]["eventSourceARN"], summary.protected_at
        )
    if window:
        window.prefetch()  # after the writes: the next batch's undo does not wait for SSM
    table = core.table_name(records[0]["eventSourceARN"]) if records else "-"
    print(metrics.emf_line(table, summary.counts))
    ordered = sorted((r["dynamodb"]["SequenceNumber"] for r in summary.failed), key=int)
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in ordered]}


def _carry_out(
    records: list[dict[str, Any]],
    groups: list[list[tuple[int, dict[str, Any]]]],
    actions: adapter.DynamoDbActions,
    policy: Policy,
    maintenance_open: bool,
    memory: Memory,
    pool: ThreadPoolExecutor | None,
) -> list[Result]:
    """Each record's (decision, outcome, error), or None when it was not attempted."""

    def settle(decision: core.Decision) -> str:
        if decision.reason in core.NOT_UNDONE:
            return NOT_UNDONE
        return AUDITED if decision.action == core.AUDIT else adapter.NOTHING

    steps = waves.run(
        groups,
        lambda record: core.decide(record, policy, maintenance_open, memory),
        settle,
        lambda decisions: actions.execute_many(decisions, pool),
        memory,
    )
    results: list[Result] = [None] * len(records)
    for step in steps:
        if step.outcome is not None:
            results[step.index] = (step.decision, step.outcome, step.error)
    return results


def _summarise(records: list[dict[str, Any]], results: list[Result]) -> Summary:
    """One log line per attempted record, and the summary of the batch."""
    summary = Summary()
    for record, result in zip(records, results, strict=True):
        if result is None:
            continue  # not attempted: an earlier record of its key failed
        decision, outcome, error = result
        _log(record, decision, outcome, error)
        summary.counts[_metric(decision, outcome)] += 1
        if outcome == FAILED:
            summary.failed.append(record)
            summary.kept_failed.append(failures.entry(record, decision, error or ""))
        elif outcome == NOT_UNDONE:
            summary.not_undone.append(_not_undone_entry(record, decision))
        if outcome == FAILED or (decision and decision.counts_toward_incident):
            summary.protected_at.append(_created(record) or time.time())
        if decision and decision.action in core.UNDO_ACTIONS:
            summary.undone.append((record, decision, outcome))
    return summary


def _keep_all(audit: adapter.AuditTrail, records: list, results: list[Result], summary: Summary) -> None:
    """The audit trail of the batch: undos, the good states they leave, what could not be
    undone, and the failures (kept, or forgotten once carried out)."""
    if summary.undone:
        # A failed record comes back (retry or replay): the state it would leave is not yet the item's.
        states = [_state(record, decision) for record, decision, outcome in summary.undone if outcome != FAILED]
        _audit(audit, summary.undone, states)
    if summary.not_undone:
        _keep(audit.record_not_undone, summary.not_undone)
    _keep_failures(audit, records, results, summary.kept_failed)


def _metric(decision: core.Decision | None, outcome: str) -> str:
    if outcome == FAILED:
        return "Failed"
    if outcome == adapter.APPLIED:
        return "Undone"
    if outcome == adapter.SUPERSEDED:
        return "Superseded"
    if outcome == AUDITED:
        return "Audited"
    if outcome == NOT_UNDONE:
        return "NotUndone"
    return "Skipped"


def _recall(audit: adapter.AuditTrail, policy: Policy, records: list, memory: Memory) -> None:
    """Good states another container persisted (``AuditTrail.record_undos``), for the
    keys this container does not remember. A persisted state applies only when the key's
    first record here starts from the state that its last protected record left (its
    after-digest): a chain of bad changes across a cold start still returns to the good
    state. When it does not apply, the record's OldImage is the state to return to."""
    firsts: dict[str, dict[str, Any]] = {}
    for record in records:
        ident = core.item_id(
            core.table_name(record["eventSourceARN"]), (record.get("dynamodb") or {}).get("Keys") or {}
        )
        firsts.setdefault(ident, record)
    # An INSERT matters when modifications are protected: after a protected delete it is a
    # re-creation of the item, which ``core.decide`` treats as a modification.
    events = policy.protected_events | ({"INSERT"} if "MODIFY" in policy.protected_events else set())
    wanted = {
        ident: record for ident, record in firsts.items() if record.get("eventName") in events and ident not in memory
    }
    if not wanted:
        return
    table = core.table_name(records[0]["eventSourceARN"])
    try:
        found = audit.recall_states(table, [r["dynamodb"]["Keys"] for r in wanted.values()])
    except Exception as exc:  # noqa: BLE001 - undo from OldImages, as a fresh container would
        log.emit(log.AUDIT, table, "failed", audit="recall-states", error=repr(exc), keys=len(wanted))
        return
    for ident, (good, after) in found.items():
        record = wanted.get(ident)
        if record and after == marker.state_digest((record.get("dynamodb") or {}).get("OldImage")):
            memory.put(ident, good)


def _state(record: dict[str, Any], decision: core.Decision) -> dict[str, Any]:
    """What ``_recall`` needs of a protected record: the good state, and the state it left."""
    ddb = record.get("dynamodb") or {}
    after = None if record.get("eventName") == "REMOVE" else ddb.get("NewImage")
    return {
        "table": decision.table,
        "keys": decision.keys,
        "good": decision.remember[1],
        "after": marker.state_digest(after),
    }


def _keep_failures(audit: adapter.AuditTrail, records: list, results: list, kept: list[dict[str, Any]]) -> None:
    """Keep this batch's failures (``failures``); forget those this container kept before
    and has now carried out (a retry that succeeded). A kept entry that a later container
    carried out stays until the next replay, which finds it superseded."""
    if kept:
        _keep(audit.record_failed, kept)
        FAILED_HERE.update(e["sequence"] for e in kept)
    done = [
        (core.table_name(record["eventSourceARN"]), record["dynamodb"]["SequenceNumber"])
        for record, result in zip(records, results, strict=True)
        if result is not None and result[1] != FAILED and record["dynamodb"].get("SequenceNumber") in FAILED_HERE
    ]
    for table, sequence in done:
        _keep(lambda _entries, t=table, s=sequence: audit.forget_failed(t, s), [])
        FAILED_HERE.discard(sequence)


def _not_undone_entry(record: dict[str, Any], decision: core.Decision) -> dict[str, Any]:
    """What an operator needs to undo it by hand, kept after the stream's 24 h: its images."""
    ddb = record.get("dynamodb") or {}
    return {
        "table": decision.table,
        "event_id": record.get("eventID"),
        "at": time.time(),
        "key": ddb.get("Keys"),
        "event": record.get("eventName"),
        "reason": decision.reason,
        "sequence": ddb.get("SequenceNumber"),
        "old_image": ddb.get("OldImage"),
        "new_image": ddb.get("NewImage"),
    }


def _keep(write: Any, entries: list[dict[str, Any]]) -> None:
    """Write audit entries; a failure is logged loudly, never undoes what was done."""
    try:
        write(entries)
    except Exception as exc:  # noqa: BLE001 - the decision stands; the lost record is reported
        table = entries[0].get("table", "?") if entries else "?"
        log.emit(
            log.AUDIT, table, "failed", audit=getattr(write, "__name__", "write"), error=repr(exc), records=len(entries)
        )


def _audit(audit: adapter.AuditTrail, undone: list, states: list[dict[str, Any]]) -> None:
    """One record per undo and the good states they leave, in the same requests."""
    entries = [
        {
            "table": decision.table,
            "event_id": record.get("eventID"),
            "at": time.time(),
            "key": decision.keys,
            "event": record.get("eventName"),
            "action": decision.action,
            "outcome": outcome,
            "lag_ms": _lag_ms(record),
        }
        for record, decision, outcome in undone
    ]

    def record_undos(records: list[dict[str, Any]]) -> None:
        audit.record_undos(records, states)

    _keep(record_undos, entries)


def run_operation(
    event: dict[str, Any],
    client: Any,
    policy: Policy = POLICY,
    memory: Memory | None = None,
    audit: adapter.AuditTrail | None = None,
    actions: adapter.DynamoDbActions | None = None,
) -> dict:
    """A sanctioned write asked by an operator (see ``operations``): one log line per write."""
    memory = MEMORY if memory is None else memory
    try:
        name, writes = operations.parse(event, policy.table, policy.partition_key, policy.canary_prefix)
    except operations.OperationError as exc:
        log.emit(log.OPERATION, policy.table, operations.REFUSED, operation=event.get("ddbguard"), error=str(exc))
        return {"error": str(exc)}
    if name == operations.HEALTH:
        return {
            "operation": name,
            "table": policy.table,
            "mode": policy.mode,
            "protected_events": sorted(policy.protected_events),
            "scope": policy.scope,
            "marker_key": "derived" if policy.marker_key else "missing",
        }
    if name == operations.REPLAY_FAILED:
        return replay_failed(policy, audit, actions, memory)
    results = operations.execute(name, writes, client, policy.table, policy.marker)
    for write, result in zip(writes, results, strict=True):
        if result["outcome"] == operations.APPLIED:
            memory.put(core.item_id(policy.table, write.key), write.image)  # the new good state
        log.emit(log.OPERATION, policy.table, operation=name, **result)
    return {"operation": name, "results": results}


def replay_failed(
    policy: Policy, audit: adapter.AuditTrail | None, actions: adapter.DynamoDbActions | None, memory: Memory
) -> dict:
    """Redo the kept failures of the table, in stream order (``failures``)."""
    if audit is None or actions is None:
        return {"error": "this monitor has no audit table: nothing is kept to replay"}
    results = []
    for kept in audit.failed(policy.table):
        decision = failures.decision_of(kept)
        try:
            if decision is None:  # the failure came before deciding: decide now
                decision = core.decide(kept["record"], policy, False, memory)
            outcome = actions.execute(decision) if decision.action in core.UNDO_ACTIONS else adapter.NOTHING
        except Exception as exc:  # noqa: BLE001 - kept for the next replay, reported
            outcome, error = FAILED, repr(exc)
        else:
            error = None
            audit.forget_failed(policy.table, kept["sequence"])
        line = {"operation": operations.REPLAY_FAILED, "table": policy.table, "sequence": kept["sequence"]}
        line.update(key=kept["record"].get("dynamodb", {}).get("Keys"), outcome=outcome)
        if error:
            line["error"] = error
        log.emit(log.OPERATION, **line)
        results.append(line)
    return {"operation": operations.REPLAY_FAILED, "results": results}


def lambda_handler(event: dict[str, Any], context: Any) -> dict:
    if operations.is_operation(event):
        return run_operation(event, CLIENTS["ddb"], audit=CLIENTS.get("audit"), actions=CLIENTS["actions"])
    return process(
        event,
        CLIENTS["actions"],
        POLICY,
        window=CLIENTS.get("window"),
        audit=CLIENTS.get("audit"),
        escalation=CLIENTS.get("escalation"),
    )

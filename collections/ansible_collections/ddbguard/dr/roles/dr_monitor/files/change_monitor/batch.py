"""One batch of stream records: decide, act, audit, escalate, report partial failures.

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
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

from change_monitor import audit, core, failures, incidents, log, maintenance, metrics, waves
from change_monitor.config import Policy
from change_monitor.memory import Memory, recall
from change_monitor.outcomes import Outcome
from change_monitor.writes import DynamoDbActions

Result = tuple[core.Decision | None, str, str | None] | None


@dataclasses.dataclass
class Summary:
    """What one batch came to: the records to report failed, and what the audit keeps."""

    counts: Counter = dataclasses.field(default_factory=Counter)
    failed: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    kept_failed: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    undone: list[audit.Attempt] = dataclasses.field(default_factory=list)
    not_undone: list[audit.Attempt] = dataclasses.field(default_factory=list)
    carried_out: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    protected_at: list[float] = dataclasses.field(default_factory=list)


def process(
    event: dict[str, Any],
    actions: DynamoDbActions,
    policy: Policy,
    memory: Memory,
    window: maintenance.MaintenanceWindow | None = None,
    trail: audit.AuditTrail | None = None,
    escalation: incidents.Escalation | None = None,
) -> dict[str, list]:
    """Decide and carry out a batch (``waves``), log each decision, keep the audit trail,
    escalate, and answer the records to retry. One pool of workers serves the writes."""
    records = event.get("Records", [])
    state = window.state() if window else maintenance.CLOSED
    if trail and records:
        recall(trail, policy, records, memory)
    groups = _by_key(records)
    workers = min(policy.concurrency, max(len(groups), 1))
    with ThreadPoolExecutor(max_workers=workers) if workers > 1 else nullcontext() as pool:
        results = _carry_out(records, groups, actions, policy, state == maintenance.OPEN, memory, pool)
        summary = _summarise(records, results, policy)
        if trail:
            audit.keep_batch(
                trail.with_pool(pool), summary.undone, summary.not_undone, summary.kept_failed, summary.carried_out
            )
    if state in maintenance.REFUSALS:
        summary.counts[metrics.MAINTENANCE_REFUSED] += 1
    # An open maintenance window means audit only: nothing escalates (``incidents``).
    if escalation and trail and summary.protected_at and records and state != maintenance.OPEN:
        summary.counts[metrics.ESCALATED] += incidents.escalate(
            policy, trail, escalation, records[0]["eventSourceARN"], summary.protected_at
        )
    if window:
        window.prefetch()  # after the writes: the next batch's undo does not wait for SSM
    table = core.table_name(records[0]["eventSourceARN"]) if records else "-"
    print(metrics.emf_line(table, summary.counts))
    ordered = sorted((r["dynamodb"]["SequenceNumber"] for r in summary.failed), key=int)
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in ordered]}


def _by_key(records: list[dict[str, Any]]) -> list[list[tuple[int, dict[str, Any]]]]:
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for index, record in enumerate(records):
        key = json.dumps((record.get("dynamodb") or {}).get("Keys"), sort_keys=True)
        groups.setdefault(key, []).append((index, record))
    return list(groups.values())


def _settle(decision: core.Decision) -> str:
    """The outcome of a decision that needs no write."""
    if decision.reason in core.CANNOT_UNDO:
        return Outcome.NOT_UNDONE
    return Outcome.AUDITED if decision.action == core.AUDIT else Outcome.NOTHING


def _carry_out(
    records: list[dict[str, Any]],
    groups: list[list[tuple[int, dict[str, Any]]]],
    actions: DynamoDbActions,
    policy: Policy,
    maintenance_open: bool,
    memory: Memory,
    pool: ThreadPoolExecutor | None,
) -> list[Result]:
    """Each record's (decision, outcome, error), or None when it was not attempted."""
    steps = waves.run(
        groups,
        lambda record: core.decide(record, policy, maintenance_open, memory),
        _settle,
        lambda decisions: actions.execute_many(decisions, pool),
        memory,
    )
    results: list[Result] = [None] * len(records)
    for step in steps:
        if step.outcome is not None:
            results[step.index] = (step.decision, step.outcome, step.error)
    return results


def _summarise(records: list[dict[str, Any]], results: list[Result], policy: Policy) -> Summary:
    """One log line per attempted record, and the summary of the batch."""
    summary = Summary()
    for record, result in zip(records, results, strict=True):
        if result is None:
            continue  # not attempted: an earlier record of its key failed
        decision, outcome, error = result
        _log(record, decision, outcome, error)
        summary.counts[Outcome(outcome).metric] += 1
        if outcome == Outcome.FAILED:
            summary.failed.append(record)
            summary.kept_failed.append(failures.entry(record, decision, error or ""))
        else:
            summary.carried_out.append(record)
        if outcome == Outcome.NOT_UNDONE and decision:
            summary.not_undone.append((record, decision, outcome))
        # The canary's own changes (the reserved prefix) never count toward an incident: its
        # hourly check must not become "the first change" a whole-table restore goes back to.
        canary = decision is not None and core.is_canary(decision.keys, policy)
        if outcome == Outcome.FAILED or (decision and decision.counts_toward_incident and not canary):
            summary.protected_at.append(log.created(record) or time.time())
        if decision and decision.action in core.UNDO_ACTIONS:
            summary.undone.append((record, decision, outcome))
    return summary


def _log(record: dict[str, Any], decision: core.Decision | None, outcome: str, error: str | None = None) -> None:
    ddb = record.get("dynamodb") or {}
    fields = {
        "event_id": record.get("eventID"),
        "event": record.get("eventName"),
        "sequence": ddb.get("SequenceNumber"),
        "key": ddb.get("Keys"),
        "action": decision.action if decision else None,
        "reason": decision.reason if decision else None,
        "lag_ms": log.lag_ms(record),
    }
    if error:
        fields["error"] = error
    table = decision.table if decision else core.table_name(record.get("eventSourceARN", ":table/?/"))
    log.emit(log.DECISION, table, outcome, **fields)

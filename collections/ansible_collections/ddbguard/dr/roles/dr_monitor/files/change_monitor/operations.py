"""Sanctioned writes: the operations an operator asks of the monitor by invoking it.

A write that an application makes to a protected item is undone. Two writes must not be:

- ``restore-items``: the copy-back of ``playbooks/restore.yml``. Restored images are
  written back into the live table. Written by anyone else, a modification of a
  protected item would be reverted by the monitor, to the damaged image.
- ``retire-canaries``: the drill removes the canary items it wrote. Deleted by anyone
  else, a canary would be restored.

Both come as a direct invocation of the function (not a stream record), so only a
principal allowed ``lambda:InvokeFunction`` on the monitor can ask for them; a writer
with access to the table only has no such channel. The monitor writes them with its own
marker, so their stream echoes are skipped, and the restored image becomes the item's
good state. Every write is conditional:

- a restored image goes in only while the live item still equals the image the operator
  saw when planning (``expected``; none means "still absent"), so a write made since wins;
- a canary is deleted only under the reserved canary key prefix, and only while unchanged.

``copy-back-segment`` (``segments``) is the worker of the distributed copy-back: it compares
one Scan segment of a restored table with the live table and writes the differences back
with ``restore-items``' writes, page by page, keeping its progress in the audit table.

A further operation, ``health``, writes nothing: it answers with the policy the function
runs, which it can only do once its cold start succeeded (policy valid, marker key
derived). The drill's preflight asks it, so a monitor that cannot start fails the drill.

``canary`` (``canary``) is the scheduled proof: it makes a protected change to a canary
item of its own, under the reserved prefix, waits for it to be undone, measures it and
removes its canary.

Planning is pure (``parse``, ``Write``); ``execute`` writes through the monitor's one
own-write protocol (``writes``); ``run`` answers an invocation, one log line per write.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from change_monitor import canary, conditions, core, failures, images, log, marker, segments
from change_monitor.config import Policy
from change_monitor.memory import Memory
from change_monitor.outcomes import Outcome
from change_monitor.writes import DynamoDbActions, delete_marked, put_if

RESTORE_ITEMS = "restore-items"
RETIRE_CANARIES = "retire-canaries"
HEALTH = "health"  # writes nothing: answers only when the function started (policy read, marker key derived)
REPLAY_FAILED = "replay-failed"  # redo the failures kept in the audit table (``failures``)
COPY_BACK_SEGMENT = segments.OPERATION
CANARY = canary.OPERATION
OPERATIONS = (RESTORE_ITEMS, RETIRE_CANARIES, HEALTH, REPLAY_FAILED, COPY_BACK_SEGMENT, CANARY)
SEGMENT_SECONDS = 20.0  # a segment's invocation stops taking pages after this, without a Lambda context


class OperationError(ValueError):
    """The invocation is not a valid operation; nothing was written."""


@dataclass(frozen=True)
class Write:
    """One conditional write: put ``image`` (or delete when None) while the item equals ``expected``."""

    key: dict[str, Any]
    image: dict[str, Any] | None
    expected: dict[str, Any] | None

    def condition(self) -> conditions.Condition:
        if self.expected is None:
            return conditions.absent(self.key)
        return conditions.still_equals(self.expected)


def is_operation(event: dict[str, Any]) -> bool:
    return isinstance(event, dict) and "ddbguard" in event and "Records" not in event


def parse(event: dict[str, Any], table: str, partition_key: str, canary_prefix: str) -> tuple[str, list[Write]]:
    """The operation and its writes, or OperationError naming what is wrong."""
    name = event.get("ddbguard")
    if name not in OPERATIONS:
        raise OperationError(f"ddbguard must be one of {', '.join(OPERATIONS)}; got {name!r}")
    if event.get("table") != table:
        raise OperationError(f"this monitor protects {table!r}, not {event.get('table')!r}")
    if name in (HEALTH, REPLAY_FAILED, COPY_BACK_SEGMENT, CANARY):
        return name, []
    if name == RESTORE_ITEMS:
        writes = [Write(key=w["key"], image=w.get("image"), expected=w.get("expected")) for w in event.get("items", [])]
    else:
        writes = []
        for key in event.get("keys", []):
            value = (key.get(partition_key) or {}).get("S", "")
            if not canary_prefix or not value.startswith(canary_prefix):
                raise OperationError(f"{json.dumps(key)} is not under the canary prefix {canary_prefix!r}")
            writes.append(Write(key=key, image=None, expected=None))
    for write in writes:
        if not isinstance(write.key, dict) or not write.key:
            raise OperationError(f"each write needs its key, got {write.key!r}")
    return name, writes


def execute(name: str, writes: list[Write], client: Any, table: str, signer: marker.Marker) -> list[dict[str, Any]]:
    """Carry out the writes in order; one result per write (key, outcome)."""
    results = []
    for write in writes:
        outcome = Outcome.APPLIED
        try:
            if name == RETIRE_CANARIES:
                current = client.get_item(TableName=table, Key=images.to_wire(write.key), ConsistentRead=True).get(
                    "Item"
                )
                if current is None:
                    outcome = Outcome.SUPERSEDED
                else:
                    current = images.from_wire(current)
                    delete_marked(client, signer, table, write.key, current, "0", conditions.still_equals(current))
            elif write.image is None:
                if write.expected is None:
                    outcome = Outcome.SUPERSEDED  # nothing to delete
                else:
                    delete_marked(client, signer, table, write.key, write.expected, "0", write.condition())
            else:
                item = signer.mark(write.image, marker.UNDO, "0", replaced=write.expected)
                if not put_if(client, table, item, write.condition()):
                    outcome = Outcome.SUPERSEDED
        except client.exceptions.ConditionalCheckFailedException:
            outcome = Outcome.SUPERSEDED
        results.append({"key": write.key, "outcome": outcome})
    return results


def run(
    event: dict[str, Any],
    client: Any,
    policy: Policy,
    memory: Memory,
    trail: Any = None,
    actions: DynamoDbActions | None = None,
    deadline: float | None = None,
) -> dict:
    """A sanctioned write asked by an operator: one log line per write. ``deadline``
    (``time.monotonic``) bounds a copy-back segment's invocation."""
    try:
        name, writes = parse(event, policy.table, policy.partition_key, policy.canary_prefix)
    except OperationError as exc:
        log.emit(log.OPERATION, policy.table, Outcome.REFUSED, operation=event.get("ddbguard"), error=str(exc))
        return {"error": str(exc)}
    if name == HEALTH:
        return {
            "operation": name,
            "table": policy.table,
            "mode": policy.mode,
            "protected_events": sorted(policy.protected_events),
            "scope": policy.scope,
            "marker_key": "derived" if policy.marker_key else "missing",
        }
    if name == REPLAY_FAILED:
        return replay_failed(policy, trail, actions, memory)
    if name == COPY_BACK_SEGMENT:
        return copy_back_segment(event, client, policy, memory, deadline)
    if name == CANARY:
        return canary.run(event, client, policy, deadline)
    return {"operation": name, "results": _carry_out(name, writes, client, policy, memory)}


def _carry_out(name: str, writes: list[Write], client: Any, policy: Policy, memory: Memory) -> list[dict[str, Any]]:
    """``execute``, then the good states the writes leave, one log line per write."""
    results = execute(name, writes, client, policy.table, policy.marker)
    for write, result in zip(writes, results, strict=True):
        if result["outcome"] == Outcome.APPLIED:
            memory.put(core.item_id(policy.table, write.key), write.image)  # the new good state
        log.emit(log.OPERATION, policy.table, operation=name, **result)
    return results


def copy_back_segment(
    event: dict[str, Any], client: Any, policy: Policy, memory: Memory, deadline: float | None
) -> dict[str, Any]:
    """One invocation of a copy-back segment (``segments``), writing as ``restore-items`` does."""

    def write(page: list[dict[str, Any]]) -> list[str]:
        planned = [Write(key=w["key"], image=w["image"], expected=w["expected"]) for w in page]
        return [r["outcome"] for r in _carry_out(RESTORE_ITEMS, planned, client, policy, memory)]

    until = time.monotonic() + SEGMENT_SECONDS if deadline is None else deadline
    try:
        return segments.run(event, client, policy.table, policy.audit_table, write, until)
    except segments.SegmentError as exc:
        log.emit(log.OPERATION, policy.table, Outcome.REFUSED, operation=COPY_BACK_SEGMENT, error=str(exc))
        return {"error": str(exc)}


def replay_failed(policy: Policy, trail: Any, actions: DynamoDbActions | None, memory: Memory) -> dict:
    """Redo the kept failures of the table (an ``audit.AuditTrail``), in stream order (``failures``)."""
    if trail is None or actions is None:
        return {"error": "this monitor has no audit table: nothing is kept to replay"}
    results = []
    for kept in trail.failed(policy.table):
        decision = failures.decision_of(kept)
        try:
            if decision is None:  # the failure came before deciding: decide now
                decision = core.decide(kept["record"], policy, False, memory)
            outcome = actions.execute(decision) if decision.action in core.UNDO_ACTIONS else Outcome.NOTHING
        except Exception as exc:  # noqa: BLE001 - kept for the next replay, reported
            outcome, error = Outcome.FAILED, repr(exc)
        else:
            error = None
            trail.forget_failed(policy.table, kept["sequence"])
        line = {"operation": REPLAY_FAILED, "table": policy.table, "sequence": kept["sequence"]}
        line.update(key=kept["record"].get("dynamodb", {}).get("Keys"), outcome=outcome)
        if error:
            line["error"] = error
        log.emit(log.OPERATION, **line)
        results.append(line)
    return {"operation": REPLAY_FAILED, "results": results}

"""The monitor's writes: one path for its own-write protocol, and the undo of decisions.

The own-write protocol, used by every write the monitor makes (undos and sanctioned
operations alike):

- a put carries the marker (``marker``) and goes in only under its condition
  (``put_if``): a failed condition means a newer write wins (``superseded``);
- a delete first marks the item while it still equals what was decided on, then deletes
  it while it still carries that mark (``delete_marked``): its REMOVE echo shows the
  delete marker and is skipped.

``DynamoDbActions`` carries out ``core.Decision``s with those writes. Throttling and 5xx
answers are retried by botocore's ``standard`` retry mode (clients are built by the
handler). A wave of undos on distinct items (``waves``) goes out in transactions of up
to 100 conditional puts (``execute_many``): one request, one signature and one round
trip instead of a hundred. The conditions are those of the single writes, so a
transaction never clobbers a newer write either; it is only all-or-nothing, which
``execute_many`` undoes by reading the cancellation reasons. A transactional write
consumes twice the write capacity of a single one (docs/benchmarks.md weighs it).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from change_monitor import conditions, core, images, marker
from change_monitor.outcomes import Outcome

TRANSACTION_MAX_ITEMS = 100  # DynamoDB's limit of actions in one TransactWriteItems
TRANSACTION_MAX_BYTES = 3_500_000  # under its 4 MB per transaction, with room for the request's own text
PUT_ACTIONS = (core.RESTORE_DELETED, core.REVERT_MODIFIED)
NO_CANCELLATION = "None"  # the reason DynamoDB gives the items that did not cancel a transaction


def wire(condition: conditions.Condition) -> dict[str, Any]:
    """A condition's keyword arguments for the low-level client (values in DynamoDB JSON)."""
    kwargs = condition.kwargs()
    if "ExpressionAttributeValues" in kwargs:
        kwargs["ExpressionAttributeValues"] = images.to_wire(kwargs["ExpressionAttributeValues"])
    return kwargs


def put_if(
    client: Any,
    table: str,
    item: dict[str, Any],
    condition: conditions.Condition,
    signer: marker.Marker | None = None,
) -> bool:
    """Put a marked image while ``condition`` holds; False when it does not (superseded).

    With ``signer``, an image within the marker's size of DynamoDB's 400 KB limit is
    written as it was, unmarked. Its echo is still harmless: the good state the handler
    remembers turns the "undo" of the echo into an unchanged write, which makes no
    stream record."""
    try:
        try:
            client.put_item(TableName=table, Item=images.to_wire(item), **wire(condition))
        except client.exceptions.ClientError as err:
            if signer is None or not _too_large(err):
                raise
            client.put_item(TableName=table, Item=images.to_wire(signer.strip(item)), **wire(condition))
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def delete_marked(
    client: Any,
    signer: marker.Marker,
    table: str,
    keys: dict[str, Any],
    current: dict[str, Any],
    sequence: str,
    guard: conditions.Condition,
) -> None:
    """Delete an item the way the monitor deletes: mark it (the delete marker over
    ``current``, for record ``sequence``) while ``guard`` holds, then delete it while it
    carries that mark. Raises ConditionalCheckFailedException when either step finds a
    newer write."""
    value = signer.value(current, marker.DELETE, sequence, replaced=current)
    key = images.to_wire(keys)
    marking = conditions.Condition(
        guard.expression, {**guard.names, "#m": signer.attribute}, {**guard.values, ":m": value}
    )
    client.update_item(TableName=table, Key=key, UpdateExpression="SET #m = :m", **wire(marking))
    client.delete_item(TableName=table, Key=key, **wire(conditions.holds_marker(signer.attribute, value)))


class DynamoDbActions:
    """Executes one ``core.Decision`` with conditional DynamoDB writes."""

    def __init__(self, client: Any, signer: marker.Marker, transaction_items: int = TRANSACTION_MAX_ITEMS) -> None:
        self._client = client
        self._marker = signer
        self._transaction_items = transaction_items

    def execute_many(self, decisions: list[core.Decision], pool: Executor | None = None) -> list[str | BaseException]:
        """Carry out decisions on distinct items: an outcome, or the exception, for each, in order.

        Restores (``PUT_ACTIONS``) go in transactions of up to ``transaction_items``
        conditional puts, each within DynamoDB's 4 MB; a lone restore and the two-step
        delete of an insert go alone. Transactions and lone writes run on ``pool``."""
        puts = [i for i, d in enumerate(decisions) if d.action in PUT_ACTIONS]
        chunks = _chunks([(i, decisions[i]) for i in puts], self._transaction_items)
        alone = [i for i, d in enumerate(decisions) if d.action not in PUT_ACTIONS]
        tasks: list[Callable[[], list[tuple[int, str | BaseException]]]] = [
            (lambda chunk=chunk: self._transact(chunk)) for chunk in chunks if len(chunk) > 1
        ]
        alone += [chunk[0][0] for chunk in chunks if len(chunk) == 1]
        tasks += [(lambda i=i: [(i, self._attempt(decisions[i]))]) for i in alone]
        outcomes: list[str | BaseException] = [RuntimeError("not carried out")] * len(decisions)
        done = pool.map(lambda task: task(), tasks) if pool and len(tasks) > 1 else map(lambda task: task(), tasks)
        for results in done:
            for i, outcome in results:
                outcomes[i] = outcome
        return outcomes

    def _attempt(self, decision: core.Decision) -> str | BaseException:
        try:
            return self.execute(decision)
        except Exception as exc:  # noqa: BLE001 - the handler reports it for Lambda's retry
            return exc

    def _transact(self, chunk: list[tuple[int, core.Decision]]) -> list[tuple[int, str | BaseException]]:
        """One chunk of restores in transactions. When DynamoDB cancels one, the items its
        reasons name (a failed condition, a conflict, throttling) take the single-write
        path, where a failed condition is told apart from an older restore to replace;
        the items that did not cancel it go again together. Anything else (an item over
        400 KB, a fault past botocore's retries) sends the rest down the single path."""
        out: list[tuple[int, str | BaseException]] = []
        pending = chunk
        while len(pending) > 1:
            try:
                self._client.transact_write_items(TransactItems=[_transact_put(d) for _i, d in pending])
            except Exception as exc:  # noqa: BLE001 - whatever it was, the single path settles each item
                reasons = _cancellation_reasons(exc, len(pending))
                if reasons is None:
                    break
                again = [p for p, r in zip(pending, reasons, strict=True) if r.get("Code") == NO_CANCELLATION]
                if len(again) == len(pending):
                    break
                named = [p for p, r in zip(pending, reasons, strict=True) if r.get("Code") != NO_CANCELLATION]
                out += [(i, self._attempt(d)) for i, d in named]
                pending = again
                continue
            out += [(i, Outcome.APPLIED) for i, _d in pending]
            pending = []
        out += [(i, self._attempt(d)) for i, d in pending]
        return out

    def execute(self, decision: core.Decision) -> str:
        if decision.action in (core.RESTORE_DELETED, core.REVERT_MODIFIED):
            if self._put(decision, decision.condition):
                return Outcome.APPLIED
            return Outcome.APPLIED if self._replace_older_restore(decision) else Outcome.SUPERSEDED
        if decision.action == core.DELETE_INSERTED:
            try:
                return self._delete_inserted(decision)
            except self._client.exceptions.ConditionalCheckFailedException:
                return Outcome.SUPERSEDED
        return Outcome.NOTHING

    def _put(self, decision: core.Decision, condition: conditions.Condition) -> bool:
        return put_if(self._client, decision.table, decision.item, condition, self._marker)

    def _replace_older_restore(self, decision: core.Decision) -> bool:
        """When the refused write finds the monitor's own unchanged restore, made for an
        older record, the newer record's good image replaces it. That restore came from
        stale information: a legitimate write happened between that record and this one.
        No application write has touched the item since (the digest still matches), so
        nothing legitimate is overwritten. The replacement is conditional on that exact
        image, like every other write."""
        current = self._client.get_item(
            TableName=decision.table, Key=images.to_wire(decision.keys), ConsistentRead=True
        ).get("Item")
        if current is None:
            return False
        current = images.from_wire(current)
        older = self._marker.undone_sequence(current)
        if older is None or older >= int(decision.sequence):
            return False
        # Marked anew: this write replaces ``current``, and its echo shows that as OldImage.
        item = self._marker.mark(decision.item, marker.UNDO, decision.sequence, replaced=current)
        return self._put(dataclasses.replace(decision, item=item), conditions.still_equals(current))

    def _delete_inserted(self, decision: core.Decision) -> str:
        """Delete the inserted item while it still equals what was inserted."""
        delete_marked(
            self._client,
            self._marker,
            decision.table,
            decision.keys,
            decision.item,
            decision.sequence,
            decision.condition,
        )
        return Outcome.APPLIED


def _cancellation_reasons(exc: Exception, count: int) -> list[dict[str, Any]] | None:
    """The per-item reasons of a cancelled transaction of ``count`` items, else None."""
    response = getattr(exc, "response", None) or {}
    reasons = response.get("CancellationReasons") or []
    if response.get("Error", {}).get("Code") != "TransactionCanceledException" or len(reasons) != count:
        return None
    return reasons


def _transact_put(decision: core.Decision) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": decision.table,
            "Item": images.to_wire(decision.item),
            **wire(decision.condition),
        }
    }


def _chunks(decisions: list[tuple[int, core.Decision]], most: int) -> list[list[tuple[int, core.Decision]]]:
    """Consecutive chunks of at most ``most`` restores and ``TRANSACTION_MAX_BYTES``
    (the items' size estimated from their JSON text)."""
    chunks: list[list[tuple[int, core.Decision]]] = []
    size = 0
    for entry in decisions:
        weight = len(json.dumps(entry[1].item)) if most > 1 else 0
        if not chunks or len(chunks[-1]) >= most or size + weight > TRANSACTION_MAX_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(entry)
        size += weight
    return chunks


def _too_large(err: Exception) -> bool:
    """Whether DynamoDB refused a write because the item exceeds 400 KB."""
    error = getattr(err, "response", {}).get("Error", {})
    return error.get("Code") == "ValidationException" and "Item size has exceeded" in error.get("Message", "")

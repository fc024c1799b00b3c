"""Carries out decisions against DynamoDB, writes the audit trail, escalates incidents.

Every undo write is conditional, so a newer write always wins. A failed condition is the
outcome ``superseded``: logged, never retried. Throttling and 5xx answers are retried by
botocore's ``standard`` retry mode (clients are built by the handler).

A wave of undos on distinct items (``waves``) goes out in transactions of up to 100
conditional puts (``execute_many``): one request, one signature and one round trip
instead of a hundred. The conditions are those of the single writes, so a transaction
never clobbers a newer write either; it is only all-or-nothing, which ``execute_many``
undoes by reading the cancellation reasons. A transactional write consumes twice the
write capacity of a single one (docs/benchmarks.md weighs it).
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from change_monitor import conditions, core, failures, images, marker

APPLIED = "applied"
SUPERSEDED = "superseded"
NOTHING = "nothing-to-do"
AUDIT_RETENTION_DAYS = 90
FAILED_RETENTION_DAYS = 14  # as long as the failure queue keeps its messages
STATE_RETENTION_DAYS = 2  # longer than any record stays in the stream (24 h)
MAX_IMAGES_BYTES = 350_000  # an audit record holds both images within DynamoDB's 400 KB
TRANSACTION_MAX_ITEMS = 100  # DynamoDB's limit of actions in one TransactWriteItems
TRANSACTION_MAX_BYTES = 3_500_000  # under its 4 MB per transaction, with room for the request's own text
PUT_ACTIONS = (core.RESTORE_DELETED, core.REVERT_MODIFIED)
NO_CANCELLATION = "None"  # the reason DynamoDB gives the items that did not cancel a transaction
BATCH_WRITE_ITEMS = 25  # DynamoDB's limit of puts in one BatchWriteItem
BATCH_WRITE_ATTEMPTS = 8
DRILL_TAG = "ddbguard:drill"  # on the recovery points the drill makes (ddbguard.dr.dr_drill)
_SERIALIZE = TypeSerializer().serialize


def _wire_values(kwargs: dict[str, Any]) -> dict[str, Any]:
    if "ExpressionAttributeValues" in kwargs:
        kwargs = dict(kwargs, ExpressionAttributeValues=images.to_wire(kwargs["ExpressionAttributeValues"]))
    return kwargs


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
            out += [(i, APPLIED) for i, _d in pending]
            pending = []
        out += [(i, self._attempt(d)) for i, d in pending]
        return out

    def execute(self, decision: core.Decision) -> str:
        if decision.action in (core.RESTORE_DELETED, core.REVERT_MODIFIED):
            if self._put(decision, decision.condition):
                return APPLIED
            return APPLIED if self._replace_older_restore(decision) else SUPERSEDED
        if decision.action == core.DELETE_INSERTED:
            try:
                return self._delete_inserted(decision)
            except self._client.exceptions.ConditionalCheckFailedException:
                return SUPERSEDED
        return NOTHING

    def _put(self, decision: core.Decision, condition: conditions.Condition) -> bool:
        item = decision.item
        try:
            try:
                self._client.put_item(
                    TableName=decision.table, Item=images.to_wire(item), **_wire_values(condition.kwargs())
                )
            except self._client.exceptions.ClientError as err:
                if not _too_large(err):
                    raise
                # The item is within the marker's size of DynamoDB's 400 KB limit: write it
                # as it was, unmarked. Its echo is still harmless: the good state the
                # handler remembers turns the "undo" of the echo into an unchanged write,
                # which makes no stream record.
                item = self._marker.strip(item)
                self._client.put_item(
                    TableName=decision.table, Item=images.to_wire(item), **_wire_values(condition.kwargs())
                )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

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
        """Mark the inserted item (while it still equals what was inserted), then delete it
        while it still carries that mark. The REMOVE echo then shows the delete marker."""
        value = self._marker.value(decision.item, marker.DELETE, decision.sequence, replaced=decision.item)
        key = images.to_wire(decision.keys)
        self._client.update_item(
            TableName=decision.table,
            Key=key,
            UpdateExpression="SET #m = :m",
            **_wire_values(
                conditions.Condition(
                    decision.condition.expression,
                    {**decision.condition.names, "#m": self._marker.attribute},
                    {**decision.condition.values, ":m": value},
                ).kwargs()
            ),
        )
        self._client.delete_item(
            TableName=decision.table,
            Key=key,
            **_wire_values(conditions.holds_marker(self._marker.attribute, value).kwargs()),
        )
        return APPLIED


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
            **_wire_values(decision.condition.kwargs()),
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


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).isoformat(timespec="milliseconds")


def _state_items(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The good state of each item the monitor has just protected, with the digest of the
    state its record left, so that another container can tell whether the memory still
    applies (``AuditTrail.recall_states``). Images too large for one item are not kept."""
    expires = int(time.time()) + STATE_RETENTION_DAYS * 86400
    items = []
    for e in entries:
        good = json.dumps(e["good"], sort_keys=True)
        if len(good) <= MAX_IMAGES_BYTES:
            items.append(
                {
                    "pk": f"{e['table']}#state",
                    "sk": json.dumps(e["keys"], sort_keys=True),
                    "good": good,
                    "after": e["after"],
                    "expires_at": expires,
                }
            )
    return items


class AuditTrail:
    """Audit records in a DynamoDB table: one per undo, one per incident, and counters.

    Keys: ``pk`` = ``<table>#undo`` / ``<table>#incident`` / ``<table>#counter``, ``sk`` = time
    and id. Records expire through the ``expires_at`` TTL attribute after 90 days.

    Records go out in BatchWriteItem requests of 25 (``_put_items``), sent together on the
    handler's pool when it gives one, through the low-level client: the values are
    serialized once, by boto3's ``TypeSerializer``.
    """

    def __init__(self, client: Any, table: str, pool: Executor | None = None) -> None:
        self._client = client
        self._table = table
        self._pool = pool

    def with_pool(self, pool: Executor | None) -> AuditTrail:
        """The same trail, writing its requests on ``pool`` (one invocation's workers)."""
        return AuditTrail(self._client, self._table, pool)

    def record_undos(self, entries: list[dict[str, Any]], states: Iterable[dict[str, Any]] = ()) -> None:
        """One audit record per undo, and the good states those undos leave
        (``_state_items``), in the same requests."""
        expires = int(time.time()) + AUDIT_RETENTION_DAYS * 86400
        undos = (
            {
                "pk": f"{e['table']}#undo",
                "sk": f"{_iso(e['at'])}#{e['event_id']}",
                "key": json.dumps(e["key"], sort_keys=True),
                "event": e["event"],
                "action": e["action"],
                "outcome": e["outcome"],
                "lag_ms": e["lag_ms"] if e["lag_ms"] is not None else -1,
                "expires_at": expires,
            }
            for e in entries
        )
        self._put_items(itertools.chain(undos, _state_items(states)))

    def record_not_undone(self, entries: list[dict[str, Any]]) -> None:
        """One record per protected change the monitor could not undo, with both images
        (as the stream gave them), so that an operator can undo it by hand after the
        stream's 24 h. Images that would pass DynamoDB's 400 KB item limit are left out,
        and the record says so."""
        expires = int(time.time()) + AUDIT_RETENTION_DAYS * 86400
        items = []
        for e in entries:
            images_json = json.dumps({"old": e["old_image"], "new": e["new_image"]}, sort_keys=True)
            items.append(
                {
                    "pk": f"{e['table']}#not-undone",
                    "sk": f"{_iso(e['at'])}#{e['event_id']}",
                    "key": json.dumps(e["key"], sort_keys=True),
                    "event": e["event"],
                    "reason": e["reason"],
                    "sequence": e["sequence"] or "",
                    "images": images_json if len(images_json) <= MAX_IMAGES_BYTES else "too large to keep",
                    "expires_at": expires,
                }
            )
        self._put_items(items)

    def record_failed(self, entries: list[dict[str, Any]]) -> None:
        """Keep failed records with their decisions (``failures``), one per sequence number."""
        expires = int(time.time()) + FAILED_RETENTION_DAYS * 86400
        self._put_items(
            {
                "pk": f"{e['table']}#failed",
                "sk": failures.sort_key(e["sequence"]),
                "entry": failures.dumps(e),
                "error": e["error"][:1000],
                "expires_at": expires,
            }
            for e in entries
        )

    def _put_items(self, items: Iterable[dict[str, Any]]) -> None:
        """Put items (plain values) in BatchWriteItem requests of 25; the last of two items
        with the same key wins, as in one request DynamoDB refuses duplicates."""
        unique = {(item["pk"], item["sk"]): item for item in items}
        wire = [{"PutRequest": {"Item": {k: _SERIALIZE(v) for k, v in item.items()}}} for item in unique.values()]
        chunks = [wire[i : i + BATCH_WRITE_ITEMS] for i in range(0, len(wire), BATCH_WRITE_ITEMS)]
        if self._pool and len(chunks) > 1:
            list(self._pool.map(self._batch_write, chunks))
        else:
            for chunk in chunks:
                self._batch_write(chunk)

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        """One BatchWriteItem; what DynamoDB leaves unprocessed goes again, backing off."""
        pending: dict[str, Any] = {self._table: requests}
        for attempt in range(BATCH_WRITE_ATTEMPTS):
            pending = self._client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if not pending:
                return
            time.sleep(min(0.05 * 2**attempt, 1.0))
        raise RuntimeError(f"{len(pending.get(self._table, []))} audit records left unprocessed")

    def failed(self, table: str) -> list[dict[str, Any]]:
        """The kept failed records of ``table``, in stream order."""
        kept, start = [], None
        while True:
            page = self._client.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"{table}#failed"}},
                ConsistentRead=True,
                **({"ExclusiveStartKey": start} if start else {}),
            )
            kept.extend(json.loads(item["entry"]["S"]) for item in page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                return kept

    def forget_failed(self, table: str, sequence: str) -> None:
        self._client.delete_item(
            TableName=self._table,
            Key={"pk": {"S": f"{table}#failed"}, "sk": {"S": failures.sort_key(sequence)}},
        )

    def recall_states(self, table: str, keys: list[dict[str, Any]]) -> dict[str, tuple[Any, str]]:
        """The persisted (good state, after-digest) of these keys, by ``core.item_id``."""
        found: dict[str, tuple[Any, str]] = {}
        sks = sorted({json.dumps(k, sort_keys=True) for k in keys})
        for start in range(0, len(sks), 100):
            request = {
                self._table: {
                    "Keys": [{"pk": {"S": f"{table}#state"}, "sk": {"S": sk}} for sk in sks[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            while request:
                answer = self._client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self._table, []):
                    ident = core.item_id(table, json.loads(item["sk"]["S"]))
                    found[ident] = (json.loads(item["good"]["S"]), item["after"]["S"])
                request = answer.get("UnprocessedKeys") or None
        return found

    def count(self, table: str, window_start: int, protected: int, first_change_at: float) -> tuple[int, float]:
        """Add ``protected`` to the window's counter; return its total and its first change time."""
        answer = self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"{table}#counter"}, "sk": {"S": str(window_start)}},
            UpdateExpression="ADD #n :n SET #f = if_not_exists(#f, :f), #e = :e",
            ExpressionAttributeNames={"#n": "changes", "#f": "first_change_at", "#e": "expires_at"},
            ExpressionAttributeValues={
                ":n": {"N": str(protected)},
                ":f": {"N": repr(first_change_at)},
                ":e": {"N": str(int(time.time()) + AUDIT_RETENTION_DAYS * 86400)},
            },
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return int(answer["changes"]["N"]), float(answer["first_change_at"]["N"])

    def open_incident(self, table: str, window_start: int, window_seconds: int, detail: dict[str, Any]) -> bool:
        """Record the incident of this window unless this or the previous window has one."""
        previous = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND sk >= :since",
            ExpressionAttributeValues={
                ":pk": {"S": f"{table}#incident"},
                ":since": {"S": str(window_start - window_seconds)},
            },
            ConsistentRead=True,
        )
        if previous.get("Items"):
            return False
        item = {"pk": {"S": f"{table}#incident"}, "sk": {"S": str(window_start)}}
        item.update({k: {"S": str(v)} for k, v in detail.items()})
        try:
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def update_incident(self, table: str, window_start: int, detail: dict[str, Any]) -> None:
        names = {f"#f{i}": k for i, k in enumerate(detail)}
        values = {f":f{i}": {"S": str(v)} for i, v in enumerate(detail.values())}
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"{table}#incident"}, "sk": {"S": str(window_start)}},
            UpdateExpression="SET " + ", ".join(f"{n} = {v}" for n, v in zip(names, values, strict=True)),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )


class Escalation:
    """Tier 2: restore the latest recovery point from before the first bad change into a new table."""

    def __init__(self, backup_client: Any, vault: str, role_arn: str) -> None:
        self._backup = backup_client
        self._vault = vault
        self._role = role_arn

    def latest_point_before(self, resource_arn: str, before: float) -> dict[str, Any] | None:
        """The newest COMPLETED recovery point created before ``before``, never one the drill
        made (tag ``ddbguard:drill``): those hold canary items, not the table's last good state."""
        paginator = self._backup.get_paginator("list_recovery_points_by_backup_vault")
        points = []
        for page in paginator.paginate(
            BackupVaultName=self._vault,
            ByResourceArn=resource_arn,
            ByCreatedBefore=datetime.datetime.fromtimestamp(before, tz=datetime.UTC),
        ):
            points.extend(p for p in page.get("RecoveryPoints", []) if p.get("Status") == "COMPLETED")
        for point in sorted(points, key=lambda p: p["CreationDate"], reverse=True):
            if DRILL_TAG not in self._tags(point["RecoveryPointArn"]):
                return point
        return None

    def _tags(self, arn: str) -> dict[str, str]:
        tags: dict[str, str] = {}
        kwargs: dict[str, Any] = {"ResourceArn": arn}
        while True:  # botocore has no paginator for ListTags
            page = self._backup.list_tags(**kwargs)
            tags.update(page.get("Tags") or {})
            if not page.get("NextToken"):
                return tags
            kwargs["NextToken"] = page["NextToken"]

    def restore(self, point_arn: str, target_table: str) -> str:
        return self._backup.start_restore_job(
            RecoveryPointArn=point_arn,
            Metadata={"targetTableName": target_table},
            IamRoleArn=self._role,
            ResourceType="DynamoDB",
        )["RestoreJobId"]


def _too_large(err: Exception) -> bool:
    """Whether DynamoDB refused a write because the item exceeds 400 KB."""
    error = getattr(err, "response", {}).get("Error", {})
    return error.get("Code") == "ValidationException" and "Item size has exceeded" in error.get("Message", "")

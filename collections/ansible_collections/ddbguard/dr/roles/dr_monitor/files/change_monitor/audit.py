"""The audit trail: the shape of every entry the monitor keeps, and their storage.

Entries live in the audit table (``DDBGUARD_AUDIT_TABLE``), keyed ``pk`` =
``<table>#<kind>``, ``sk`` = time and id (or the item's key, or a sequence number):

- ``#undo``: one per undo (``Undo``), kept 90 days;
- ``#state``: the good state an undo leaves (``GoodState``), kept 2 days, so that a cold
  container carries on (``memory.recall``);
- ``#not-undone``: a protected change the monitor could not undo, with both images
  (``NotUndone``), so that an operator can undo it by hand after the stream's 24 h;
- ``#failed``: a record to redo (``failures``), kept 14 days;
- ``#incident`` and ``#counter``: the escalation's bookkeeping (``incidents``).

Records go out in BatchWriteItem requests of 25, sent together on the batch's pool when
it gives one, through the low-level client: values are serialized once, by boto3's
``TypeSerializer``. Writing the trail never undoes what was done: a failure to write is
logged loudly (``keep``).
"""

from __future__ import annotations

import datetime
import itertools
import json
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from typing import Any, TypedDict

from boto3.dynamodb.types import TypeSerializer

from change_monitor import core, failures, log, marker
from change_monitor.outcomes import Outcome

AUDIT_RETENTION_DAYS = 90
STATE_RETENTION_DAYS = 2  # longer than any record stays in the stream (24 h)
MAX_IMAGES_BYTES = 350_000  # an audit record holds both images within DynamoDB's 400 KB
BATCH_WRITE_ITEMS = 25  # DynamoDB's limit of puts in one BatchWriteItem
BATCH_WRITE_ATTEMPTS = 8
_SERIALIZE = TypeSerializer().serialize
FAILED_HERE: set[str] = set()  # sequence numbers whose failure this container kept


class Undo(TypedDict):
    """One undo: what was undone, how, and how late."""

    table: str
    event_id: str | None
    at: float
    key: dict[str, Any]
    event: str | None
    action: str
    outcome: str
    lag_ms: int | None


class GoodState(TypedDict):
    """The good state an undo leaves, and the digest of the state its record left."""

    table: str
    keys: dict[str, Any]
    good: dict[str, Any] | None
    after: str


class NotUndone(TypedDict):
    """A protected change the monitor saw and cannot undo, with what an operator needs."""

    table: str
    event_id: str | None
    at: float
    key: dict[str, Any] | None
    event: str | None
    reason: str
    sequence: str | None
    old_image: dict[str, Any] | None
    new_image: dict[str, Any] | None


def undo(record: dict[str, Any], decision: core.Decision, outcome: str) -> Undo:
    return Undo(
        table=decision.table,
        event_id=record.get("eventID"),
        at=time.time(),
        key=decision.keys,
        event=record.get("eventName"),
        action=decision.action,
        outcome=outcome,
        lag_ms=log.lag_ms(record),
    )


def good_state(record: dict[str, Any], decision: core.Decision) -> GoodState:
    """What ``memory.recall`` needs of a protected record: the good state, and the state it left."""
    ddb = record.get("dynamodb") or {}
    after = None if record.get("eventName") == "REMOVE" else ddb.get("NewImage")
    assert decision.remember is not None  # an undo always remembers its good state
    return GoodState(
        table=decision.table, keys=decision.keys, good=decision.remember[1], after=marker.state_digest(after)
    )


def not_undone(record: dict[str, Any], decision: core.Decision) -> NotUndone:
    ddb = record.get("dynamodb") or {}
    return NotUndone(
        table=decision.table,
        event_id=record.get("eventID"),
        at=time.time(),
        key=ddb.get("Keys"),
        event=record.get("eventName"),
        reason=decision.reason,
        sequence=ddb.get("SequenceNumber"),
        old_image=ddb.get("OldImage"),
        new_image=ddb.get("NewImage"),
    )


Attempt = tuple[dict[str, Any], core.Decision, str]  # a record, its decision, its outcome


def keep_batch(
    trail: AuditTrail,
    undone: Sequence[Attempt],
    cannot_undo: Sequence[Attempt],
    kept_failed: list[dict[str, Any]],
    carried_out: Iterable[dict[str, Any]],
) -> None:
    """The audit trail of a batch: undos and the good states they leave, what could not
    be undone, the failures (``failures.entry``, kept), and the records this container
    kept as failed before and has now carried out (forgotten). A kept entry that a later
    container carried out stays until the next replay, which finds it superseded."""
    if undone:
        # A failed record comes back (retry or replay): the state it would leave is not yet the item's.
        states = [good_state(r, d) for r, d, outcome in undone if outcome != Outcome.FAILED]
        entries = [undo(r, d, outcome) for r, d, outcome in undone]
        keep(lambda _e: trail.record_undos(entries, states), entries, "record_undos")
    if cannot_undo:
        keep(trail.record_not_undone, [not_undone(r, d) for r, d, _o in cannot_undo])
    if kept_failed:
        keep(trail.record_failed, kept_failed)
        FAILED_HERE.update(e["sequence"] for e in kept_failed)
    for record in carried_out:
        sequence = record["dynamodb"].get("SequenceNumber")
        if sequence in FAILED_HERE:
            table = core.table_name(record["eventSourceARN"])
            keep(lambda _e, t=table, s=sequence: trail.forget_failed(t, s), [], "forget_failed")
            FAILED_HERE.discard(sequence)


def keep(write: Callable[[list[Any]], None], entries: list[Any], name: str | None = None) -> None:
    """Write audit entries; a failure is logged loudly, never undoes what was done."""
    try:
        write(entries)
    except Exception as exc:  # noqa: BLE001 - the decision stands; the lost record is reported
        table = entries[0].get("table", "?") if entries else "?"
        log.emit(
            log.AUDIT,
            table,
            Outcome.FAILED,
            audit=name or getattr(write, "__name__", "write"),
            error=repr(exc),
            records=len(entries),
        )


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).isoformat(timespec="milliseconds")


def _state_items(entries: Iterable[GoodState]) -> list[dict[str, Any]]:
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
    """The entries of the module's docstring in a DynamoDB table; they expire through the
    ``expires_at`` TTL attribute."""

    def __init__(self, client: Any, table: str, pool: Executor | None = None) -> None:
        self._client = client
        self._table = table
        self._pool = pool

    def with_pool(self, pool: Executor | None) -> AuditTrail:
        """The same trail, writing its requests on ``pool`` (one invocation's workers)."""
        return AuditTrail(self._client, self._table, pool)

    def record_undos(self, entries: list[Undo], states: Iterable[GoodState] = ()) -> None:
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

    def record_not_undone(self, entries: list[NotUndone]) -> None:
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
        self._put_items(failures.item(e) for e in entries)

    def put_records(self, items: Iterable[dict[str, Any]]) -> None:
        """Other kept records (plain values, ``pk`` and ``sk`` included), in batches of 25:
        a copy-back segment's superseded keys (``segments``)."""
        self._put_items(items)

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
                ExpressionAttributeValues={":pk": {"S": failures.partition(table)}},
                ConsistentRead=True,
                **({"ExclusiveStartKey": start} if start else {}),
            )
            kept.extend(failures.from_item(item) for item in page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                return kept

    def forget_failed(self, table: str, sequence: str) -> None:
        self._client.delete_item(
            TableName=self._table,
            Key={"pk": {"S": failures.partition(table)}, "sk": {"S": failures.sort_key(sequence)}},
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

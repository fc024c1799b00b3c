"""In-memory stand-ins for AWS clients, for tests of the change monitor's writes and audit trail.

``FakeDynamoDb`` keeps one table in boto3's wire form and evaluates the condition
expressions the monitor writes (``attribute_not_exists(#x)``, ``#x = :y``, joined by
``AND``). Any other expression raises, so a test cannot pass on a condition the fake
silently ignores. Values compare as DynamoDB compares them: sets as sets, numbers exactly.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

_DESERIALIZE = TypeDeserializer().deserialize


class ConditionalCheckFailedException(ClientError):
    """Raised like botocore's modelled exception of the same name (a ClientError)."""

    def __init__(self, message: str = "The conditional request failed") -> None:
        super().__init__({"Error": {"Code": "ConditionalCheckFailedException", "Message": message}}, "PutItem")


class TransactionCanceledException(ClientError):
    """Raised like botocore's: the per-item ``CancellationReasons`` in the response."""

    def __init__(self, reasons: list[dict[str, str]]) -> None:
        error = {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}
        super().__init__({"Error": error, "CancellationReasons": reasons}, "TransactWriteItems")


class _Exceptions:
    ConditionalCheckFailedException = ConditionalCheckFailedException
    TransactionCanceledException = TransactionCanceledException
    ClientError = ClientError


def _value(v: dict[str, Any]) -> Any:
    return _DESERIALIZE(v)


def _size(item: dict[str, Any]) -> int:
    """Rough DynamoDB item size: names plus the text of the values (enough for the tests)."""
    return sum(len(name.encode()) + len(repr(value).encode()) for name, value in item.items())


class FakeDynamoDb:
    """One DynamoDB table keyed on ``key_names``, thread-safe like the real client."""

    exceptions = _Exceptions()

    def __init__(
        self, key_names: tuple[str, ...] = ("pk",), fail_on: set[str] | None = None, max_item_bytes: int = 400 * 1024
    ) -> None:
        self.key_names = key_names
        self.max_item_bytes = max_item_bytes
        self.items: dict[tuple, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_on = fail_on or set()
        self.unprocessed = 0  # items the next BatchWriteItem calls leave unprocessed
        self._lock = threading.Lock()

    def key_of(self, item: dict[str, Any]) -> tuple:
        return tuple(repr(item[k]) for k in self.key_names)

    def _check(self, current: dict[str, Any] | None, kwargs: dict[str, Any]) -> None:
        expression = kwargs.get("ConditionExpression")
        if expression is None:
            return
        names = kwargs.get("ExpressionAttributeNames", {})
        values = kwargs.get("ExpressionAttributeValues", {})
        for part in expression.split(" AND "):
            part = part.strip()
            if part.startswith("attribute_not_exists(") and part.endswith(")"):
                name = names[part[len("attribute_not_exists(") : -1]]
                ok = current is None or name not in current
            elif " = " in part:
                left, right = (x.strip() for x in part.split(" = "))
                name, expected = names[left], values[right]
                ok = current is not None and name in current and _value(current[name]) == _value(expected)
            else:
                raise NotImplementedError(part)
            if not ok:
                raise ConditionalCheckFailedException(part)

    def _maybe_fail(self, key: tuple) -> None:
        if any(k in self.fail_on for k in key):
            raise RuntimeError("injected failure")

    def put_item(self, **kwargs: Any) -> dict:
        with self._lock:
            self.calls.append(("put_item", copy.deepcopy(kwargs)))
            key = self.key_of(kwargs["Item"])
            self._maybe_fail(key)
            if _size(kwargs["Item"]) > self.max_item_bytes:
                error = {"Code": "ValidationException", "Message": "Item size has exceeded the maximum allowed size"}
                raise ClientError({"Error": error}, "PutItem")
            self._check(self.items.get(key), kwargs)
            self.items[key] = copy.deepcopy(kwargs["Item"])
            return {}

    def transact_write_items(self, **kwargs: Any) -> dict:
        """``Put`` actions only (the monitor's restores), all or nothing, as DynamoDB does:
        one reason per item when a condition fails or an item is throttled
        (``fail_on``); a ValidationException for the whole request on two actions on
        one item or an item over the size limit."""
        with self._lock:
            self.calls.append(("transact_write_items", copy.deepcopy(kwargs)))
            puts = [action["Put"] for action in kwargs["TransactItems"]]
            keys = [self.key_of(put["Item"]) for put in puts]
            if len(set(keys)) != len(keys) or any(_size(put["Item"]) > self.max_item_bytes for put in puts):
                error = {"Code": "ValidationException", "Message": "Transaction request cannot be carried out"}
                raise ClientError({"Error": error}, "TransactWriteItems")
            reasons = [self._reason(key, put) for key, put in zip(keys, puts, strict=True)]
            if any(r["Code"] != "None" for r in reasons):
                raise TransactionCanceledException(reasons)
            for key, put in zip(keys, puts, strict=True):
                self._store(key, copy.deepcopy(put["Item"]))
            return {}

    def batch_write_item(self, **kwargs: Any) -> dict:
        """Puts only; the first ``unprocessed`` items of each call are left for the caller to
        resend, as DynamoDB does under load. Duplicate keys in one request are refused."""
        with self._lock:
            self.calls.append(("batch_write_item", copy.deepcopy(kwargs)))
            [(table, requests)] = kwargs["RequestItems"].items()
            if len(requests) > 25 or len({self.key_of(r["PutRequest"]["Item"]) for r in requests}) != len(requests):
                error = {"Code": "ValidationException", "Message": "Provided list of item keys contains duplicates"}
                raise ClientError({"Error": error}, "BatchWriteItem")
            left, self.unprocessed = requests[: self.unprocessed], max(0, self.unprocessed - len(requests))
            for request in requests[len(left) :]:
                item = request["PutRequest"]["Item"]
                self.items[self.key_of(item)] = copy.deepcopy(item)
            return {"UnprocessedItems": {table: left} if left else {}}

    def _reason(self, key: tuple, put: dict[str, Any]) -> dict[str, str]:
        if any(k in self.fail_on for k in key):
            return {"Code": "ThrottlingError", "Message": "Throughput exceeds the current capacity"}
        try:
            self._check(self.items.get(key), put)
        except ConditionalCheckFailedException:
            return {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
        return {"Code": "None"}

    def _store(self, key: tuple, item: dict[str, Any]) -> None:
        self.items[key] = item

    def get_item(self, **kwargs: Any) -> dict:
        with self._lock:
            self.calls.append(("get_item", copy.deepcopy(kwargs)))
            item = self.items.get(self.key_of(kwargs["Key"]))
            return {"Item": copy.deepcopy(item)} if item is not None else {}

    def update_item(self, **kwargs: Any) -> dict:
        """Supports ``SET #x = :x``, one attribute, only (the monitor's pre-delete mark; the
        canary's change)."""
        with self._lock:
            self.calls.append(("update_item", copy.deepcopy(kwargs)))
            key = self.key_of(kwargs["Key"])
            self._maybe_fail(key)
            match = re.fullmatch(r"SET (#\w+) = (:\w+)", kwargs["UpdateExpression"])
            if not match:
                raise NotImplementedError(kwargs["UpdateExpression"])
            current = self.items.get(key)
            self._check(current, kwargs)
            item = copy.deepcopy(current or kwargs["Key"])
            name, value = match.groups()
            item[kwargs["ExpressionAttributeNames"][name]] = kwargs["ExpressionAttributeValues"][value]
            self.items[key] = item
            return {}

    def delete_item(self, **kwargs: Any) -> dict:
        with self._lock:
            self.calls.append(("delete_item", copy.deepcopy(kwargs)))
            key = self.key_of(kwargs["Key"])
            self._maybe_fail(key)
            self._check(self.items.get(key), kwargs)
            self.items.pop(key, None)
            return {}


class FakeAudit:
    """The audit table (``audit.AuditTrail``) in memory: it outlives any container."""

    def __init__(self):
        self.undos, self.counters, self.incidents, self.not_undone, self.kept_failed = [], {}, {}, [], {}
        self.states: dict[str, tuple] = {}

    def with_pool(self, _pool):
        return self

    def recall_states(self, table, keys):
        found = {}
        for key in keys:
            kept = self.states.get(json.dumps([table, key], sort_keys=True))
            if kept:
                found[f"{table}|{json.dumps(key, sort_keys=True)}"] = copy.deepcopy(kept)
        return found

    def record_undos(self, entries, states=()):
        self.undos.extend(entries)
        for e in states:
            self.states[json.dumps([e["table"], e["keys"]], sort_keys=True)] = (copy.deepcopy(e["good"]), e["after"])

    def record_not_undone(self, entries):
        self.not_undone.extend(entries)

    def record_failed(self, entries):
        self.kept_failed.update({(e["table"], e["sequence"]): e for e in entries})

    def failed(self, table):
        return [e for (t, _), e in sorted(self.kept_failed.items(), key=lambda x: int(x[0][1])) if t == table]

    def forget_failed(self, table, sequence):
        del self.kept_failed[(table, sequence)]

    def count(self, table, window_start, protected, first_change_at):
        total, first = self.counters.get((table, window_start), (0, first_change_at))
        self.counters[(table, window_start)] = (total + protected, min(first, first_change_at))
        return self.counters[(table, window_start)]

    def open_incident(self, table, window_start, window_seconds, detail):
        if any(t == table and w >= window_start - window_seconds for t, w in self.incidents):
            return False
        self.incidents[(table, window_start)] = dict(detail)
        return True

    def update_incident(self, table, window_start, detail):
        self.incidents[(table, window_start)].update(detail)


STREAM_ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2026-01-01T00:00:00.000"


class StreamTable(FakeDynamoDb):
    """A fake table that appends a stream record for each change (none when nothing changes)."""

    def __init__(self):
        super().__init__()
        self.stream: list[dict] = []
        self._seq = 0

    def _emit(self, key, old, new):
        if old == new:
            return
        self._seq += 1
        event = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        ddb = {"Keys": {"pk": (new or old)["pk"]}, "SequenceNumber": str(self._seq), "ApproximateCreationDateTime": 1}
        if old is not None:
            ddb["OldImage"] = copy.deepcopy(old)
        if new is not None:
            ddb["NewImage"] = copy.deepcopy(new)
        self.stream.append(
            {"eventID": f"e{self._seq}", "eventName": event, "dynamodb": ddb, "eventSourceARN": STREAM_ARN}
        )

    def _write(self, method, kwargs, key):
        before = copy.deepcopy(self.items.get(key))
        getattr(FakeDynamoDb, method)(self, **kwargs)
        self._emit(key, before, copy.deepcopy(self.items.get(key)))

    def put_item(self, **kwargs):
        self._write("put_item", kwargs, self.key_of(kwargs["Item"]))
        return {}

    def _store(self, key, item):
        """A transaction's put: one stream record per item, as DynamoDB writes them."""
        before = copy.deepcopy(self.items.get(key))
        super()._store(key, item)
        self._emit(key, before, copy.deepcopy(item))

    def update_item(self, **kwargs):
        self._write("update_item", kwargs, self.key_of(kwargs["Key"]))
        return {}

    def delete_item(self, **kwargs):
        self._write("delete_item", kwargs, self.key_of(kwargs["Key"]))
        return {}

    def app_update(self, pk: str, value: str) -> None:
        """An application UpdateItem of one attribute: the other attributes, marker included, stay."""
        key = (repr({"S": pk}),)
        before = copy.deepcopy(self.items[key])
        self.items[key] = {**before, "v": {"S": value}}
        self._emit(key, before, copy.deepcopy(self.items[key]))

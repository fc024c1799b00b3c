"""In-memory stand-ins for AWS clients, for tests of the change monitor's adapter.

``FakeDynamoDb`` keeps one table in boto3's wire form and evaluates the condition
expressions the monitor writes (``attribute_not_exists(#x)``, ``#x = :y``, joined by
``AND``). Any other expression raises, so a test cannot pass on a condition the fake
silently ignores. Values compare as DynamoDB compares them: sets as sets, numbers exactly.
"""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

_DESERIALIZE = TypeDeserializer().deserialize


class ConditionalCheckFailedException(ClientError):
    """Raised like botocore's modelled exception of the same name (a ClientError)."""

    def __init__(self, message: str = "The conditional request failed") -> None:
        super().__init__({"Error": {"Code": "ConditionalCheckFailedException", "Message": message}}, "PutItem")


class _Exceptions:
    ConditionalCheckFailedException = ConditionalCheckFailedException
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

    def get_item(self, **kwargs: Any) -> dict:
        with self._lock:
            self.calls.append(("get_item", copy.deepcopy(kwargs)))
            item = self.items.get(self.key_of(kwargs["Key"]))
            return {"Item": copy.deepcopy(item)} if item is not None else {}

    def update_item(self, **kwargs: Any) -> dict:
        """Supports ``SET #m = :m`` only (the monitor's pre-delete mark)."""
        with self._lock:
            self.calls.append(("update_item", copy.deepcopy(kwargs)))
            key = self.key_of(kwargs["Key"])
            self._maybe_fail(key)
            if kwargs["UpdateExpression"] != "SET #m = :m":
                raise NotImplementedError(kwargs["UpdateExpression"])
            current = self.items.get(key)
            self._check(current, kwargs)
            item = copy.deepcopy(current or kwargs["Key"])
            item[kwargs["ExpressionAttributeNames"]["#m"]] = kwargs["ExpressionAttributeValues"][":m"]
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
    """The audit table (``adapter.AuditTrail``) in memory: it outlives any container."""

    def __init__(self):
        self.undos, self.counters, self.incidents, self.not_undone, self.kept_failed = [], {}, {}, [], {}
        self.states: dict[str, tuple] = {}

    def remember_states(self, entries):
        for e in entries:
            self.states[json.dumps([e["table"], e["keys"]], sort_keys=True)] = (copy.deepcopy(e["good"]), e["after"])

    def recall_states(self, table, keys):
        found = {}
        for key in keys:
            kept = self.states.get(json.dumps([table, key], sort_keys=True))
            if kept:
                found[f"{table}|{json.dumps(key, sort_keys=True)}"] = copy.deepcopy(kept)
        return found

    def record_undos(self, entries):
        self.undos.extend(entries)

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

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Items in DynamoDB JSON: validation, comparison and item waiters. No AWS calls.

Items stay in DynamoDB JSON (``{"N": "..."}``) end to end, so 38-digit numbers and
binary values pass through Ansible untouched. Comparison deserializes with boto3's
``TypeDeserializer``: sets compare as sets, numbers as exact Decimals.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable
from typing import Any

try:
    from boto3.dynamodb.types import TypeDeserializer
except ImportError:  # pragma: no cover - AnsibleAWSModule reports the missing boto3
    TypeDeserializer = None

TYPE_KEYS = {"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"}


def _convert(value: dict[str, Any], blob: Callable[[Any], Any]) -> dict[str, Any]:
    """Apply ``blob`` to every binary inside one AttributeValue, recursively."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": blob(inner)}
    if kind == "BS":
        return {"BS": [blob(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _convert(v, blob) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_convert(v, blob) for v in inner]}
    return value


def _decode(text: str | bytes) -> bytes:
    if isinstance(text, (bytes, bytearray)):
        return bytes(text)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise ValueError(f"binary values must be base64 text, got {text!r}") from err


def _encode(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def to_wire(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """Item from Ansible (binary as base64 text) to boto3's form (binary as bytes)."""
    return None if item is None else {k: _convert(v, _decode) for k, v in item.items()}


def from_wire(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """Item from boto3 (binary as bytes) to Ansible's form (binary as base64 text)."""
    return None if item is None else {k: _convert(v, _encode) for k, v in item.items()}


def _value_has_binary(value: dict[str, Any]) -> bool:
    ((kind, inner),) = value.items()
    if kind in ("B", "BS"):
        return True
    if kind == "M":
        return any(_value_has_binary(v) for v in inner.values())
    if kind == "L":
        return any(_value_has_binary(v) for v in inner)
    return False


def has_binary(item: dict[str, Any] | None) -> bool:
    """Whether any value in the item is binary (B or BS, at any depth)."""
    return any(_value_has_binary(v) for v in (item or {}).values())


def invalid_attributes(item: dict[str, Any] | None) -> list[str]:
    """Names of attributes that are not single-type DynamoDB JSON values."""
    bad = []
    for name, value in (item or {}).items():
        if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in TYPE_KEYS:
            bad.append(name)
    return sorted(bad)


def deserialize(item: dict[str, Any] | None) -> dict[str, Any]:
    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in (item or {}).items()}


def same_item(left: dict[str, Any] | None, right: dict[str, Any] | None, ignore: Iterable[str] = ()) -> bool:
    """Whether two DynamoDB JSON items hold the same values, ignoring some attributes."""
    if left is None or right is None:
        return left is right
    strip = set(ignore)
    return deserialize({k: v for k, v in left.items() if k not in strip}) == deserialize(
        {k: v for k, v in right.items() if k not in strip}
    )


def key_of(item: dict[str, Any], key_schema: list[dict[str, str]]) -> dict[str, Any]:
    """The primary key of ``item`` for a table's KeySchema."""
    return {k["AttributeName"]: item[k["AttributeName"]] for k in key_schema}


def _quoted(name: str) -> str:
    return json.dumps(name)


def item_present_waiter(delay: float, max_attempts: int) -> dict[str, Any]:
    """Waiter model data: GetItem until the item exists."""
    return {
        "operation": "GetItem",
        "delay": delay,
        "maxAttempts": max_attempts,
        "acceptors": [
            {"state": "success", "matcher": "path", "argument": "Item != null", "expected": True},
            {"state": "retry", "matcher": "path", "argument": "Item != null", "expected": False},
        ],
    }


def item_absent_waiter(delay: float, max_attempts: int) -> dict[str, Any]:
    """Waiter model data: GetItem until the item no longer exists."""
    return {
        "operation": "GetItem",
        "delay": delay,
        "maxAttempts": max_attempts,
        "acceptors": [
            {"state": "success", "matcher": "path", "argument": "Item == null", "expected": True},
            {"state": "retry", "matcher": "path", "argument": "Item == null", "expected": False},
        ],
    }


def attributes_reverted_waiter(tampered: dict[str, Any], delay: float, max_attempts: int) -> dict[str, Any]:
    """Waiter model data: GetItem until no attribute still holds its tampered value."""
    still = " || ".join(
        f"Item.{_quoted(name)} == `{json.dumps(value, sort_keys=True)}`" for name, value in sorted(tampered.items())
    )
    return {
        "operation": "GetItem",
        "delay": delay,
        "maxAttempts": max_attempts,
        "acceptors": [
            {"state": "success", "matcher": "path", "argument": f"({still})", "expected": False},
            {"state": "retry", "matcher": "path", "argument": f"({still})", "expected": True},
        ],
    }

"""A content digest of a set of DynamoDB items that does not depend on their order.

Each item is written in one canonical form (DynamoDB JSON, map keys sorted, set members
sorted, numbers in their shortest decimal form) and hashed with SHA-256; the digest is
the item count and the sum of the hashes modulo 2**256. A sum of hashes is a multiset
hash: the order of a Scan, the split into segments and the split of an export into files
change nothing, and two partial digests add up. One item more, less or changed changes the
sum unless two SHA-256 values collide. Memory: one page of items at a time, whatever the
table's size.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

MODULUS = 2**256


def _number(text: str) -> str:
    value = Decimal(text)
    if value == 0:
        return "0"
    return format(value.normalize(), "f")


def _binary(value: bytes | bytearray | str) -> str:
    """A binary value as an export writes it (base64); a Scan through boto3 gives bytes."""
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode()
    return value


def _canonical_value(value: dict[str, Any]) -> Any:
    (kind, inner), *rest = value.items()
    if rest:
        raise ValueError(f"not one DynamoDB attribute value: {sorted(value)}")
    if kind == "N":
        return {"N": _number(inner)}
    if kind == "NS":
        return {"NS": sorted(_number(v) for v in inner)}
    if kind == "B":
        return {"B": _binary(inner)}
    if kind == "BS":
        return {"BS": sorted(_binary(v) for v in inner)}
    if kind == "SS":
        return {"SS": sorted(inner)}
    if kind == "M":
        return {"M": {k: _canonical_value(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_canonical_value(v) for v in inner]}
    return {kind: inner}


def canonical(item: dict[str, Any]) -> bytes:
    """The one byte form of an item given in DynamoDB JSON (a Scan's or an export's)."""
    doc = {name: _canonical_value(value) for name, value in item.items()}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Digest:
    """Count and sum of item hashes; adds items, and other digests."""

    __slots__ = ("count", "total")

    def __init__(self, count: int = 0, total: int = 0):
        self.count = count
        self.total = total

    def add(self, item: dict[str, Any]) -> None:
        self.count += 1
        self.total = (self.total + int.from_bytes(hashlib.sha256(canonical(item)).digest(), "big")) % MODULUS

    def add_all(self, items: Iterable[dict[str, Any]]) -> None:
        for item in items:
            self.add(item)

    def merge(self, other: Digest) -> None:
        self.count += other.count
        self.total = (self.total + other.total) % MODULUS

    def hex(self) -> str:
        return f"{self.total:064x}"

    def state(self) -> dict[str, Any]:
        return {"count": self.count, "total": self.hex()}

    @classmethod
    def of(cls, state: dict[str, Any] | None) -> Digest:
        if not state:
            return cls()
        return cls(int(state["count"]), int(state["total"], 16))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Digest) and (self.count, self.total) == (other.count, other.total)

    def __repr__(self) -> str:
        return f"Digest(count={self.count}, total={self.hex()[:16]}...)"


def export_items(lines: Iterable[bytes | str]) -> Iterator[dict[str, Any]]:
    """The items of an export data file in DYNAMODB_JSON format: one ``{"Item": {...}}`` per line."""
    for line in lines:
        line = line.strip()
        if line:
            yield json.loads(line)["Item"]


def gzip_lines(stream: Any) -> Iterator[bytes]:
    """The lines of a gzip stream (an S3 object's body), read as they come."""
    with gzip.GzipFile(fileobj=stream) as unzipped:
        yield from unzipped


def to_json_key(key: dict[str, Any] | None) -> dict[str, Any] | None:
    """A Scan's LastEvaluatedKey in a form JSON can carry to the next invocation."""
    if key is None:
        return None
    return {name: ({"B64": _binary(v["B"])} if "B" in v else v) for name, v in key.items()}


def from_json_key(key: dict[str, Any] | None) -> dict[str, Any] | None:
    """The key back in boto3's form (binary values as bytes)."""
    if key is None:
        return None
    return {name: ({"B": base64.b64decode(v["B64"])} if "B64" in v else v) for name, v in key.items()}

"""The marker: how the monitor recognises its own writes.

When the monitor writes, it adds one attribute whose value is a digest of the image it
wrote. The stream record of that write carries the attribute, and the digest matches the
rest of the image, so the record is skipped.

The marker is bound to that one write, not a sticky flag. Any later change to the item,
such as an UpdateItem that keeps the attribute but changes another value, no longer
matches the digest and is treated as a real change. A PutItem that replaces the item
drops the attribute altogether.

Two kinds, so that one never stands for the other:

- ``undo``: on an image the monitor put back (restore of a delete or a modification).
  Its INSERT or MODIFY echo is skipped. If the application later deletes that item,
  the REMOVE is a real change and is undone again.
- ``delete``: set on an inserted item just before the monitor deletes it. The REMOVE
  echo of that delete carries it in its OldImage and is skipped.

The marker also names the stream record it answered (its sequence number), so that a
restore made from an older record can give way to one made from a newer record (see
``adapter``).

Images are DynamoDB JSON (``{"S": "..."}``, ``{"N": "..."}``, ...). The digest uses a
canonical form in which set members are sorted, since DynamoDB does not keep their order.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

UNDO = "undo"
DELETE = "delete"
_PREFIXES = {UNDO: "ddbguard-undo:v1:", DELETE: "ddbguard-delete:v1:"}
PREFIX = _PREFIXES[UNDO]
_SET_TYPES = ("SS", "NS", "BS")


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            ((kind, inner),) = value.items()
            if kind in _SET_TYPES:
                return {kind: sorted(inner)}
            if kind == "M":
                return {"M": {k: _canonical(v) for k, v in inner.items()}}
            if kind == "L":
                return {"L": [_canonical(v) for v in inner]}
        return {k: _canonical(v) for k, v in value.items()}
    return value


def digest(image: dict[str, Any], marker_attribute: str) -> str:
    """Digest of an image, ignoring the marker attribute itself."""
    body = {k: _canonical(v) for k, v in image.items() if k != marker_attribute}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def marker_value(image: dict[str, Any], marker_attribute: str, kind: str = UNDO, sequence: str = "0") -> dict[str, str]:
    """The marker attribute's value for ``image`` (DynamoDB JSON), answering record ``sequence``."""
    return {"S": f"{_PREFIXES[kind]}{int(sequence)}:{digest(image, marker_attribute)}"}


def mark(image: dict[str, Any], marker_attribute: str, kind: str = UNDO, sequence: str = "0") -> dict[str, Any]:
    """``image`` with a marker of ``kind`` bound to its content and to record ``sequence``."""
    marked = {k: v for k, v in image.items() if k != marker_attribute}
    marked[marker_attribute] = marker_value(marked, marker_attribute, kind, sequence)
    return marked


def _parse(image: dict[str, Any] | None, marker_attribute: str, kind: str) -> int | None:
    """The sequence number in a valid marker of ``kind``, or None."""
    if not image:
        return None
    prefix = _PREFIXES[kind]
    value = (image.get(marker_attribute) or {}).get("S", "")
    if not value.startswith(prefix):
        return None
    sequence, _sep, mark_digest = value[len(prefix) :].partition(":")
    if not sequence.isdigit() or mark_digest != digest(image, marker_attribute):
        return None
    return int(sequence)


def is_marked(image: dict[str, Any] | None, marker_attribute: str, kind: str) -> bool:
    """True when ``image`` is exactly an image the monitor marked with ``kind``."""
    return _parse(image, marker_attribute, kind) is not None


def undone_sequence(image: dict[str, Any] | None, marker_attribute: str) -> int | None:
    """For an unchanged restore of the monitor: the sequence number of the record it answered."""
    return _parse(image, marker_attribute, UNDO)


def is_own_write(image: dict[str, Any] | None, marker_attribute: str) -> bool:
    """True when ``image`` is exactly an image the monitor wrote (either kind)."""
    return is_marked(image, marker_attribute, UNDO) or is_marked(image, marker_attribute, DELETE)


def strip(image: dict[str, Any], marker_attribute: str) -> dict[str, Any]:
    """The image without the marker: what the application wrote."""
    return {k: v for k, v in image.items() if k != marker_attribute}

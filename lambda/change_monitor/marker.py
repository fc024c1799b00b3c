"""The restore marker: how the monitor recognises its own writes.

When the monitor puts an image back, it adds one attribute whose value is a digest of
the image it wrote. The stream record of that write carries the attribute in its
NewImage, and the digest matches the rest of the NewImage, so the record is skipped.

The marker is bound to that one write, not a sticky flag. Any later change to the item,
such as an UpdateItem that keeps the attribute but changes another value, no longer
matches the digest and is treated as a real change. A PutItem that replaces the item
drops the attribute altogether.

Images are DynamoDB JSON (``{"S": "..."}``, ``{"N": "..."}``, ...). The digest uses a
canonical form in which set members are sorted, since DynamoDB does not keep their order.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

PREFIX = "ddbguard-undo:v1:"
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


def mark(image: dict[str, Any], marker_attribute: str) -> dict[str, Any]:
    """The image to write back: ``image`` with a marker bound to its content."""
    marked = {k: v for k, v in image.items() if k != marker_attribute}
    marked[marker_attribute] = {"S": PREFIX + digest(marked, marker_attribute)}
    return marked


def is_own_write(new_image: dict[str, Any] | None, marker_attribute: str) -> bool:
    """True when ``new_image`` is exactly an image the monitor wrote."""
    if not new_image:
        return False
    value = new_image.get(marker_attribute, {}).get("S", "")
    return value.startswith(PREFIX) and value[len(PREFIX) :] == digest(new_image, marker_attribute)


def strip(image: dict[str, Any], marker_attribute: str) -> dict[str, Any]:
    """The image without the marker: what the application wrote."""
    return {k: v for k, v in image.items() if k != marker_attribute}

"""Stream images between the Lambda event's form and boto3's wire form.

A Lambda event carries binary values (``B``, ``BS``) as base64 text. boto3's low-level
client expects bytes and base64-encodes them itself, so writing an event image back
unchanged would store the base64 text as the binary value. ``to_wire`` decodes binary
values at any depth and leaves every other type as DynamoDB wrote it: numbers stay
strings with all 38 digits, and sets keep their members.
"""

from __future__ import annotations

import base64
from typing import Any


def _value_to_wire(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _value_to_wire(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_value_to_wire(v) for v in inner]}
    return value


def to_wire(image: dict[str, Any]) -> dict[str, Any]:
    """An image from a stream event, ready for ``put_item``."""
    return {name: _value_to_wire(value) for name, value in image.items()}


def _value_from_wire(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(bytes(inner)).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(bytes(v)).decode("ascii") for v in inner]}
    if kind == "M":
        return {"M": {k: _value_from_wire(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_value_from_wire(v) for v in inner]}
    return value


def from_wire(item: dict[str, Any]) -> dict[str, Any]:
    """An item read with boto3 (binary as bytes), in the event's form (binary as base64 text)."""
    return {name: _value_from_wire(value) for name, value in item.items()}

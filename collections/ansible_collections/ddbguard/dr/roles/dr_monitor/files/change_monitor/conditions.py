"""Condition expressions that keep every undo from clobbering a newer write. Pure.

- A delete is undone only while the item is still absent.
- A modification or an insert is undone only while the item still equals the image the
  change wrote: every attribute of that image, compared with ``=``. When the table has
  a version attribute, comparing that one attribute is enough (and catches a later
  write that only added attributes, which whole-image equality cannot see).

DynamoDB limits a condition expression to 4 KB, which whole-image equality exceeds for
items with about 250 top-level attributes or more. ``TooLargeForCondition`` says so;
the monitor then skips the record with that reason, and the fix is a version attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_EXPRESSION_BYTES = 4096


class TooLargeForCondition(ValueError):
    """The image has too many attributes for a whole-image equality condition."""


@dataclass(frozen=True)
class Condition:
    expression: str
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for a boto3 DynamoDB write (values still in event form)."""
        out: dict[str, Any] = {"ConditionExpression": self.expression}
        if self.names:
            out["ExpressionAttributeNames"] = self.names
        if self.values:
            out["ExpressionAttributeValues"] = self.values
        return out


def absent(keys: dict[str, Any]) -> Condition:
    """The item with these key attributes does not exist."""
    names = {f"#k{i}": name for i, name in enumerate(sorted(keys))}
    return Condition(" AND ".join(f"attribute_not_exists({n})" for n in names), names)


def still_equals(image: dict[str, Any], version_attribute: str = "") -> Condition:
    """The stored item still holds ``image`` (or its version, when one is configured)."""
    if version_attribute and version_attribute in image:
        return Condition("#v = :v", {"#v": version_attribute}, {":v": image[version_attribute]})
    names, values, parts = {}, {}, []
    for i, (name, value) in enumerate(sorted(image.items())):
        names[f"#a{i}"] = name
        values[f":a{i}"] = value
        parts.append(f"#a{i} = :a{i}")
    expression = " AND ".join(parts)
    if len(expression.encode()) > MAX_EXPRESSION_BYTES:
        raise TooLargeForCondition(
            f"{len(image)} attributes exceed DynamoDB's 4 KB condition limit; configure a version attribute"
        )
    return Condition(expression, names, values)


def holds_marker(marker_attribute: str, value: dict[str, str]) -> Condition:
    """The stored item still carries the marker the monitor just set."""
    return Condition("#m = :m", {"#m": marker_attribute}, {":m": value})

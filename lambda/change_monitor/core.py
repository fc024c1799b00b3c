"""Pure decision core: what to do with one stream record under a policy.

No AWS calls and no I/O here. ``decide`` is a total function of the record and the
policy, so every branch is unit-tested with plain JSON records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from change_monitor import marker
from change_monitor.config import Policy

# Actions
SKIP = "skip"
AUDIT = "audit"
RESTORE_DELETED = "restore-deleted"

TTL_PRINCIPAL = "dynamodb.amazonaws.com"


@dataclass(frozen=True)
class Decision:
    """What the adapter must do for one record, and why."""

    action: str
    reason: str
    table: str
    keys: dict[str, Any]
    item: dict[str, Any] | None = None
    condition_attribute: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def table_name(event_source_arn: str) -> str:
    """``arn:aws:dynamodb:r:a:table/NAME/stream/LABEL`` -> ``NAME``."""
    return event_source_arn.split(":table/", 1)[1].split("/", 1)[0]


def is_ttl_delete(record: dict[str, Any]) -> bool:
    identity = record.get("userIdentity") or {}
    return identity.get("type") == "Service" and identity.get("principalId") == TTL_PRINCIPAL


def decide(record: dict[str, Any], policy: Policy) -> Decision:
    """Decide the action for one DynamoDB stream record."""
    ddb = record.get("dynamodb") or {}
    event = record.get("eventName")
    base = dict(table=table_name(record["eventSourceARN"]), keys=ddb.get("Keys") or {})

    if marker.is_own_write(ddb.get("NewImage"), policy.marker_attribute):
        return Decision(SKIP, "own-write", **base)
    if event not in policy.protected_events:
        return Decision(SKIP, "not-protected", **base)
    if event == "REMOVE" and is_ttl_delete(record):
        return Decision(SKIP, "ttl-delete", **base)
    if event != "REMOVE":
        return Decision(SKIP, "unsupported-event", **base)
    old = ddb.get("OldImage")
    if not old:
        return Decision(SKIP, "no-old-image", **base)
    if policy.mode == "audit":
        return Decision(AUDIT, "protected-change", **base)
    return Decision(
        RESTORE_DELETED,
        "protected-change",
        item=marker.mark(old, policy.marker_attribute),
        condition_attribute=next(iter(base["keys"])),
        **base,
    )

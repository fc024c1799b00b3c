"""Pure decision core: what to do with one stream record under a policy.

No AWS calls and no I/O. ``decide`` is a function of the record, the policy, whether a
maintenance window is open, and what earlier decisions remembered. So every branch is
unit-tested with plain JSON records. Images stay in the event's DynamoDB JSON; the
writes convert them for boto3.

**The latest good state of each item.** An undo returns the item to its latest good
state, which is not always the record's OldImage. Take two quick bad modifications,
v0 -> b1 -> b2: the second record's OldImage b1 is bad too. Or take a bad delete, a
legitimate re-creation, and a bad delete: the first record's OldImage is older than the
re-created item. So, reading a key's records in stream order:

- a legitimate change moves the good state to the item's new state. That is an
  unprotected event, an item out of scope, a TTL delete, a maintenance window or audit
  mode;
- a protected change leaves it as it was;
- the monitor's own writes leave it as it was.

The first record of a key starts from the state before it (its OldImage, or "absent" for
an insert). The good state of ``None`` means "must not exist". The batch keeps this
memory per container (``remember`` tells it what to store) and passes it back in, and
persists it for protected items, so that a cold container carries on (``memory.recall``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from change_monitor import conditions, marker
from change_monitor.config import Policy

# Actions
SKIP = "skip"
AUDIT = "audit"
RESTORE_DELETED = "restore-deleted"
REVERT_MODIFIED = "revert-modified"
DELETE_INSERTED = "delete-inserted"
UNDO_ACTIONS = (RESTORE_DELETED, REVERT_MODIFIED, DELETE_INSERTED)

TTL_PRINCIPAL = "dynamodb.amazonaws.com"

# Reasons
OWN_WRITE = "own-write"
NOT_PROTECTED = "not-protected"
TTL_DELETE = "ttl-delete"
OUT_OF_SCOPE = "out-of-scope"
IMAGE_MISSING = "image-missing"
MAINTENANCE_WINDOW = "maintenance-window"
PROTECTED_CHANGE = "protected-change"
ABSENT_AS_INTENDED = "absent-as-intended"
TOO_MANY_ATTRIBUTES = "too-many-attributes"
# Protected changes the monitor sees but cannot undo: never a quiet skip (``Outcome.NOT_UNDONE``).
CANNOT_UNDO = (IMAGE_MISSING, TOO_MANY_ATTRIBUTES)


@dataclass(frozen=True)
class Decision:
    """What ``writes`` must do for one record, and why."""

    action: str
    reason: str
    table: str
    keys: dict[str, Any]
    item: dict[str, Any] | None = None  # image to put back (event form), marker included
    condition: conditions.Condition | None = None
    remember: tuple[str, dict[str, Any] | None] | None = None  # (item id, its good state) to remember
    sequence: str = "0"  # the record's sequence number

    @property
    def counts_toward_incident(self) -> bool:
        """Protected changes count toward an incident, except those a maintenance window
        let through: a window means audit only, escalation included (a planned migration
        must not start a restore of the whole table)."""
        return self.protected and self.reason != MAINTENANCE_WINDOW

    @property
    def protected(self) -> bool:
        """Whether the record was a protected change (undone, only audited, or not undoable)."""
        return self.action in UNDO_ACTIONS or self.reason in (PROTECTED_CHANGE, MAINTENANCE_WINDOW, *CANNOT_UNDO)


def table_name(event_source_arn: str) -> str:
    """``arn:aws:dynamodb:r:a:table/NAME/stream/LABEL`` -> ``NAME``."""
    return event_source_arn.split(":table/", 1)[1].split("/", 1)[0]


def table_arn(event_source_arn: str) -> str:
    """The table's ARN from its stream's ARN."""
    return event_source_arn.split("/stream/", 1)[0]


def is_ttl_delete(record: dict[str, Any]) -> bool:
    identity = record.get("userIdentity") or {}
    return identity.get("type") == "Service" and identity.get("principalId") == TTL_PRINCIPAL


def in_scope(record: dict[str, Any], policy: Policy, before: dict[str, Any] | None = None) -> bool:
    """Whether the item is protected: all items, a partition key prefix, or a flag attribute.

    The flag is read on the item as it was before the change (``before`` when given: the
    good state a re-creation replaces; else the new image for an insert), so a bad write
    cannot unprotect an item by removing its flag, nor by deleting and re-creating it.
    """
    if policy.scope == "all":
        return True
    ddb = record.get("dynamodb") or {}
    if policy.scope == "key-prefix":
        value = (ddb.get("Keys") or {}).get(policy.partition_key, {}).get("S")
        return isinstance(value, str) and value.startswith(policy.key_prefix)
    if before is not None:
        image = before
    else:
        image = ddb.get("NewImage") if record.get("eventName") == "INSERT" else ddb.get("OldImage")
    flag = (image or {}).get(policy.flag_attribute)
    return flag is not None and flag not in ({"BOOL": False}, {"NULL": True})


def is_canary(keys: dict[str, Any], policy: Policy) -> bool:
    """Whether the item's partition key is under the reserved canary prefix."""
    value = (keys.get(policy.partition_key) or {}).get("S")
    return bool(policy.canary_prefix) and isinstance(value, str) and value.startswith(policy.canary_prefix)


def retired_canary(keys: dict[str, Any], old: dict[str, Any], good: Any, policy: Policy) -> bool:
    """A genuine delete-marked canary whose content is its remembered good state."""
    signer = policy.marker
    return is_canary(keys, policy) and isinstance(good, dict) and signer.strip(old) == signer.strip(good)


def item_id(table: str, keys: dict[str, Any]) -> str:
    """Identity of one item, for the memory of good states."""
    return f"{table}|{json.dumps(keys, sort_keys=True)}"


_UNKNOWN = object()


def decide(
    record: dict[str, Any],
    policy: Policy,
    maintenance_open: bool = False,
    remembered: Mapping[str, dict[str, Any] | None] | None = None,
) -> Decision:
    """Decide the action for one DynamoDB stream record (records of a key come in stream order)."""
    ddb = record.get("dynamodb") or {}
    event = record.get("eventName")
    old, new = ddb.get("OldImage"), ddb.get("NewImage")
    base = dict(
        table=table_name(record["eventSourceARN"]), keys=ddb.get("Keys") or {}, sequence=ddb.get("SequenceNumber", "0")
    )
    signer = policy.marker
    ident = item_id(base["table"], base["keys"])
    after = None if event == "REMOVE" else new  # the item's state after this change
    good = (remembered or {}).get(ident, _UNKNOWN)

    if event in ("INSERT", "MODIFY") and (
        signer.is_echo(new, old, marker.UNDO) or signer.is_echo(new, old, marker.DELETE)
    ):
        return Decision(SKIP, OWN_WRITE, **base)
    # The monitor deletes an item only when its good state is "absent"; a delete-marked
    # image written back by someone else over a good item is deleted by a real change.
    # One exception: a canary (the reserved prefix) that the monitor retired, marked over
    # the good state this container remembers (the retire may run in another container,
    # whose memory said "absent"). A replayed marker can then only delete a canary.
    if (
        event == "REMOVE"
        and signer.parse(old, marker.DELETE)
        and (good is None or good is _UNKNOWN or retired_canary(base["keys"], old, good, policy))
    ):
        return Decision(SKIP, OWN_WRITE, **base)
    # A re-creation of an item whose good state is an item (a protected delete came first,
    # in stream order) is a modification of that item, whoever was faster: the writer's put
    # or the monitor's restore of the delete. Had the restore landed first, the put would
    # have been a MODIFY of the restored item; the decision must not depend on which did.
    recreated = event == "INSERT" and good is not _UNKNOWN and good is not None
    kind = "MODIFY" if recreated else event
    if kind not in policy.protected_events:
        return Decision(SKIP, NOT_PROTECTED, remember=(ident, after), **base)
    if event == "REMOVE" and is_ttl_delete(record):
        return Decision(SKIP, TTL_DELETE, remember=(ident, None), **base)
    if not in_scope(record, policy, before=good if recreated else None):
        return Decision(SKIP, OUT_OF_SCOPE, remember=(ident, after), **base)
    if not {"REMOVE": old, "MODIFY": old and new, "INSERT": new}[event]:
        return Decision(SKIP, IMAGE_MISSING, **base)  # the stream is not NEW_AND_OLD_IMAGES
    if maintenance_open:
        return Decision(AUDIT, MAINTENANCE_WINDOW, remember=(ident, after), **base)
    if policy.mode == "audit":
        return Decision(AUDIT, PROTECTED_CHANGE, remember=(ident, after), **base)

    # The state to return to: the latest good state of the item, when earlier records told
    # it; else the state before this change.
    if good is _UNKNOWN:
        good = None if event == "INSERT" else old
    keep = (ident, good)
    if event == "REMOVE":
        if good is None:
            return Decision(SKIP, ABSENT_AS_INTENDED, remember=keep, **base)
        return Decision(
            RESTORE_DELETED,
            PROTECTED_CHANGE,
            item=signer.mark(good, marker.UNDO, base["sequence"], replaced=None),
            condition=conditions.absent(base["keys"]),
            remember=keep,
            **base,
        )
    try:
        guard = conditions.still_equals(new, policy.version_attribute)
    except conditions.TooLargeForCondition:
        return Decision(SKIP, TOO_MANY_ATTRIBUTES, remember=keep, **base)
    if good is None:
        return Decision(DELETE_INSERTED, PROTECTED_CHANGE, item=new, condition=guard, remember=keep, **base)
    return Decision(
        REVERT_MODIFIED,
        PROTECTED_CHANGE,
        item=signer.mark(good, marker.UNDO, base["sequence"], replaced=new),
        condition=guard,
        remember=keep,
        **base,
    )

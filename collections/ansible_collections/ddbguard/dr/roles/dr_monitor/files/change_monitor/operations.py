"""Sanctioned writes: the operations an operator asks of the monitor by invoking it.

A write that an application makes to a protected item is undone. Two writes must not be:

- ``restore-items``: the copy-back of ``playbooks/restore.yml``. Restored images are
  written back into the live table. Written by anyone else, a modification of a
  protected item would be reverted by the monitor, to the damaged image.
- ``retire-canaries``: the drill removes the canary items it wrote. Deleted by anyone
  else, a canary would be restored.

Both come as a direct invocation of the function (not a stream record), so only a
principal allowed ``lambda:InvokeFunction`` on the monitor can ask for them; a writer
with access to the table only has no such channel. The monitor writes them with its own
marker, so their stream echoes are skipped, and the restored image becomes the item's
good state. Every write is conditional:

- a restored image goes in only while the live item still equals the image the operator
  saw when planning (``expected``; none means "still absent"), so a write made since wins;
- a canary is deleted only under the reserved canary key prefix, and only while unchanged.

A third operation, ``health``, writes nothing: it answers with the policy the function
runs, which it can only do once its cold start succeeded (policy valid, marker key
derived). The drill's preflight asks it, so a monitor that cannot start fails the drill.

Pure planning here (``parse``, ``Write``); ``execute`` takes the DynamoDB actions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from change_monitor import conditions, images, marker

RESTORE_ITEMS = "restore-items"
RETIRE_CANARIES = "retire-canaries"
HEALTH = "health"  # writes nothing: answers only when the function started (policy read, marker key derived)
REPLAY_FAILED = "replay-failed"  # redo the failures kept in the audit table (``failures``)
OPERATIONS = (RESTORE_ITEMS, RETIRE_CANARIES, HEALTH, REPLAY_FAILED)
APPLIED = "applied"
SUPERSEDED = "superseded"
REFUSED = "refused"


class OperationError(ValueError):
    """The invocation is not a valid operation; nothing was written."""


@dataclass(frozen=True)
class Write:
    """One conditional write: put ``image`` (or delete when None) while the item equals ``expected``."""

    key: dict[str, Any]
    image: dict[str, Any] | None
    expected: dict[str, Any] | None

    def condition(self) -> conditions.Condition:
        if self.expected is None:
            return conditions.absent(self.key)
        return conditions.still_equals(self.expected)


def is_operation(event: dict[str, Any]) -> bool:
    return isinstance(event, dict) and "ddbguard" in event and "Records" not in event


def parse(event: dict[str, Any], table: str, partition_key: str, canary_prefix: str) -> tuple[str, list[Write]]:
    """The operation and its writes, or OperationError naming what is wrong."""
    name = event.get("ddbguard")
    if name not in OPERATIONS:
        raise OperationError(f"ddbguard must be one of {', '.join(OPERATIONS)}; got {name!r}")
    if event.get("table") != table:
        raise OperationError(f"this monitor protects {table!r}, not {event.get('table')!r}")
    if name in (HEALTH, REPLAY_FAILED):
        return name, []
    if name == RESTORE_ITEMS:
        writes = [Write(key=w["key"], image=w.get("image"), expected=w.get("expected")) for w in event.get("items", [])]
    else:
        writes = []
        for key in event.get("keys", []):
            value = (key.get(partition_key) or {}).get("S", "")
            if not canary_prefix or not value.startswith(canary_prefix):
                raise OperationError(f"{json.dumps(key)} is not under the canary prefix {canary_prefix!r}")
            writes.append(Write(key=key, image=None, expected=None))
    for write in writes:
        if not isinstance(write.key, dict) or not write.key:
            raise OperationError(f"each write needs its key, got {write.key!r}")
    return name, writes


def execute(name: str, writes: list[Write], client: Any, table: str, signer: marker.Marker) -> list[dict[str, Any]]:
    """Carry out the writes in order; one result per write (key, outcome)."""
    results = []
    for write in writes:
        key = images.to_wire(write.key)
        try:
            if name == RETIRE_CANARIES:
                current = client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
                if current is None:
                    results.append({"key": write.key, "outcome": SUPERSEDED})
                    continue
                _delete_marked(client, table, key, images.from_wire(current), signer)
            elif write.image is None:
                if write.expected is None:
                    results.append({"key": write.key, "outcome": SUPERSEDED})  # nothing to delete
                    continue
                _delete_marked(client, table, key, write.expected, signer)
            else:
                item = signer.mark(write.image, marker.UNDO, "0", replaced=write.expected)
                client.put_item(TableName=table, Item=images.to_wire(item), **_wire(write.condition()))
            results.append({"key": write.key, "outcome": APPLIED})
        except client.exceptions.ConditionalCheckFailedException:
            results.append({"key": write.key, "outcome": SUPERSEDED})
    return results


def _delete_marked(
    client: Any, table: str, key: dict[str, Any], current: dict[str, Any], signer: marker.Marker
) -> None:
    """Delete an item the way the monitor deletes: mark it while it still equals ``current``,
    then delete it while it carries that mark. Its REMOVE echo then shows the delete marker
    and is skipped; a deletion without it would be a protected delete, and undone."""
    value = signer.value(current, marker.DELETE, "0", replaced=current)
    guard = conditions.still_equals(current)
    names, values = {**guard.names, "#m": signer.attribute}, {**guard.values, ":m": value}
    client.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET #m = :m",
        **_wire(conditions.Condition(guard.expression, names, values)),
    )
    client.delete_item(TableName=table, Key=key, **_wire(conditions.holds_marker(signer.attribute, value)))


def _wire(condition: conditions.Condition) -> dict[str, Any]:
    kwargs = condition.kwargs()
    if "ExpressionAttributeValues" in kwargs:
        kwargs["ExpressionAttributeValues"] = images.to_wire(kwargs["ExpressionAttributeValues"])
    return kwargs

"""The canary: proves on the live table, on a schedule, that a protected change is undone.

``canary`` is a sanctioned operation (``operations``), invoked by its schedule (EventBridge
Scheduler, ``dr_monitor``'s ``canary.yml``) or by hand:

1. ``plan``: the protected event it will make, or why this policy leaves it nothing to
   test (audit mode; no protected event; a key prefix the reserved canary prefix is
   outside of). Then it says so, and reports the check as not verified: never a pass.
2. For a MODIFY or REMOVE test it first writes a canary item under the reserved prefix
   through the monitor's own-write protocol (a marked put: the item's good state, whose
   echo is skipped). For an INSERT test it writes nothing first.
3. It makes the change an application would make, without the marker: an UpdateItem
   (MODIFY), a DeleteItem (REMOVE) or a PutItem of a new canary (INSERT). The stream
   sees it as anyone's change; a monitor instance reading the stream undoes it, or not.
4. It reads the item (consistent GetItem, every ``POLL_SECONDS``) until the change is
   undone (the canary is back as written, or the inserted one is gone) or its time is up.
5. It removes its canary as ``retire-canaries`` does (a marked delete, skipped in the
   stream); a modified canary nobody undid is first put back as written, so that a stream
   read later (a trigger enabled again) ends in a retire over its good state and leaves it
   deleted. (A deleted canary nobody restored may be restored once such a stream is read:
   its TTL attribute makes it expire.) It prints its decision line and one EMF line: ``ProtectionVerified`` (1 when the
   change was undone, else 0) and, when it was, ``UndoLatency`` (milliseconds from the
   change to the first read that saw it undone).

It writes only under the canary prefix; ``plan`` and ``canary_item`` are pure.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from change_monitor import conditions, images, log, marker
from change_monitor.config import Policy
from change_monitor.outcomes import Outcome
from change_monitor.writes import delete_marked, put_if

OPERATION = "canary"
POLL_SECONDS = 0.05
DEFAULT_WAIT_SECONDS = 60.0
TTL_SECONDS = 86400  # a canary that could not be removed expires through the table's TTL
PREFERENCE = ("MODIFY", "REMOVE", "INSERT")  # the change it makes, of those the policy protects
SORT_KEY_VALUES = {"S": {"S": "canary"}, "N": {"N": "0"}, "B": {"B": "Y2FuYXJ5"}}
PASS, FAIL, UNTESTABLE = "pass", "fail", "untestable"


@dataclass(frozen=True)
class Plan:
    event: str | None  # the protected event the canary makes, or None
    reason: str  # why it makes that one, or why it makes none


def plan(policy: Policy) -> Plan:
    """The change the canary makes under this policy, or why it can test nothing."""
    if policy.mode == "audit":
        return Plan(None, "the monitor only audits (mode audit): it undoes nothing the canary could see undone")
    if not policy.canary_prefix:
        return Plan(None, "no canary prefix (dr_monitor_canary_prefix): the canary has no key of its own")
    if policy.scope == "key-prefix" and not policy.canary_prefix.startswith(policy.key_prefix):
        return Plan(
            None,
            f"the canary prefix {policy.canary_prefix!r} is outside the protected key prefix {policy.key_prefix!r}",
        )
    for event in PREFERENCE:
        if event in policy.protected_events:
            return Plan(event, f"{event} is protected")
    return Plan(None, "no event is protected")


def canary_item(policy: Policy, key: dict[str, Any], now: float, ttl_attribute: str | None) -> dict[str, Any]:
    """The canary as an application would have written it (in scope under a flag scope)."""
    item = {**key, "ddbguard_canary": {"S": "scheduled"}, "checked_at": {"N": str(int(now))}}
    if policy.scope == "attribute-flag" and policy.flag_attribute:
        item[policy.flag_attribute] = {"BOOL": True}
    if ttl_attribute:
        item[ttl_attribute] = {"N": str(int(now) + TTL_SECONDS)}
    return item


def canary_key(policy: Policy, event: dict[str, Any], now: float) -> dict[str, Any]:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now * 1000) % 1000:03d}Z"
    key = {policy.partition_key: {"S": f"{policy.canary_prefix}scheduled#{stamp}"}}
    sort = event.get("sort_key") or {}
    if sort.get("name"):
        kind = sort.get("type", "S")
        if kind not in SORT_KEY_VALUES:
            raise ValueError(f"sort_key.type must be one of S, N, B; got {kind!r}")
        key[sort["name"]] = SORT_KEY_VALUES[kind]
    return key


def _read(client: Any, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    found = client.get_item(TableName=table, Key=images.to_wire(key), ConsistentRead=True).get("Item")
    return images.from_wire(found) if found else None


def _same(left: dict[str, Any] | None, right: dict[str, Any] | None, ignore: str) -> bool:
    if left is None or right is None:
        return left is right
    return {k: v for k, v in left.items() if k != ignore} == {k: v for k, v in right.items() if k != ignore}


def _change(client: Any, table: str, test: str, key: dict[str, Any], item: dict[str, Any]) -> None:
    """The change an application would make: no marker, no condition."""
    if test == "MODIFY":
        client.update_item(
            TableName=table,
            Key=images.to_wire(key),
            UpdateExpression="SET #c = :c",
            ExpressionAttributeNames={"#c": "ddbguard_canary"},
            ExpressionAttributeValues={":c": {"S": "changed by the canary"}},
        )
    elif test == "REMOVE":
        client.delete_item(TableName=table, Key=images.to_wire(key))
    else:
        client.put_item(TableName=table, Item=images.to_wire(item))


def _put_back(client: Any, table: str, signer: marker.Marker, key: dict[str, Any], item: dict[str, Any]) -> None:
    """A change nobody undid: the canary as written again, through the monitor's own path,
    before it is retired. The stream may still be read later (a trigger enabled again
    resumes where it stopped); its records then end in a retire over the canary's good
    state, which the monitor leaves deleted."""
    current = _read(client, table, key)
    if current is not None and not _same(current, item, signer.attribute):
        put_if(client, table, signer.mark(item, marker.UNDO, "0", replaced=current), conditions.still_equals(current))


def _retire(client: Any, table: str, signer: marker.Marker, key: dict[str, Any]) -> None:
    current = _read(client, table, key)
    if current is not None:
        delete_marked(client, signer, table, key, current, "0", conditions.still_equals(current))


def emf(table: str, verified: bool, latency_ms: int | None) -> str:
    metrics = [{"Name": "ProtectionVerified", "Unit": "Count"}]
    values: dict[str, Any] = {"ProtectionVerified": 1 if verified else 0}
    if latency_ms is not None:
        metrics.append({"Name": "UndoLatency", "Unit": "Milliseconds"})
        values["UndoLatency"] = latency_ms
    doc = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [{"Namespace": "ddbguard", "Dimensions": [["Table"]], "Metrics": metrics}],
        },
        "Table": table,
        **values,
    }
    return json.dumps(doc, sort_keys=True)


def _untestable(result: dict[str, Any], table: str, reason: str) -> dict[str, Any]:
    """Nothing the canary could test: said, and published as not verified."""
    result.update(status=UNTESTABLE, reason=reason)
    log.emit(log.OPERATION, table, Outcome.NOTHING, operation=OPERATION, status=UNTESTABLE, reason=reason)
    print(emf(table, False, None))
    return result


def run(event: dict[str, Any], client: Any, policy: Policy, deadline: float | None = None) -> dict[str, Any]:
    """One canary check; its result, its decision line and its EMF line."""
    table, chosen = policy.table, plan(policy)
    result: dict[str, Any] = {"operation": OPERATION, "table": table, "event": chosen.event, "reason": chosen.reason}
    if chosen.event is None:
        return _untestable(result, table, chosen.reason)
    now = time.time()
    try:
        key = canary_key(policy, event, now)
    except ValueError as exc:
        return _untestable(result, table, str(exc))
    item = canary_item(policy, key, now, event.get("ttl_attribute") or None)
    signer = policy.marker
    wait = float(event.get("wait_seconds") or DEFAULT_WAIT_SECONDS)
    until = time.monotonic() + wait if deadline is None else min(deadline, time.monotonic() + wait)
    latency_ms = None
    try:
        if chosen.event != "INSERT":
            put_if(client, table, signer.mark(item, marker.UNDO, "0", replaced=None), conditions.absent(key))
    except ClientError as exc:  # a key the table's schema refuses (a partition key that is not a string)
        if exc.response.get("Error", {}).get("Code") != "ValidationException":
            raise
        return _untestable(result, table, f"the table refuses the canary's key {json.dumps(key)}: {exc}")
    try:
        _change(client, table, chosen.event, key, item)
        changed = time.monotonic()  # from the moment the change returned, as the drill's probe
        while time.monotonic() < until:
            current = _read(client, table, key)
            undone = current is None if chosen.event == "INSERT" else _same(current, item, signer.attribute)
            if undone:
                latency_ms = round((time.monotonic() - changed) * 1000)
                break
            time.sleep(POLL_SECONDS)
    finally:
        if chosen.event == "MODIFY" and latency_ms is None:
            _put_back(client, table, signer, key, item)
        _retire(client, table, signer, key)
    verified = latency_ms is not None
    result.update(status=PASS if verified else FAIL, key=key, undo_ms=latency_ms, wait_seconds=wait)
    if not verified:
        result["reason"] = f"the {chosen.event} of the canary was not undone within {wait:g} s"
    log.emit(
        log.OPERATION,
        table,
        Outcome.APPLIED if verified else Outcome.NOT_UNDONE,
        operation=OPERATION,
        key=key,
        event=chosen.event,
        status=result["status"],
        undo_ms=latency_ms,
    )
    print(emf(table, verified, latency_ms))
    return result

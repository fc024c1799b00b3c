"""The memory of good states: the latest good state of each item this container has seen.

``core.decide`` reads it and says what to remember; a bounded, thread-safe map keeps it
(``Memory``). Undos persist the good state they leave in the audit trail
(``audit.GoodState``), so that a cold container carries on: ``recall`` reads them back
for the keys it does not remember.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from change_monitor import audit, core, log, marker
from change_monitor.config import Policy
from change_monitor.outcomes import Outcome


class Memory:
    """Bounded, thread-safe memory of good states (see ``core``): oldest entries go first."""

    def __init__(self, size: int = 10_000) -> None:
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._items.get(key, default)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def recall(trail: audit.AuditTrail, policy: Policy, records: list[dict[str, Any]], memory: Memory) -> None:
    """Good states another container persisted (``AuditTrail.record_undos``), for the
    keys this container does not remember. A persisted state applies only when the key's
    first record here starts from the state that its last protected record left (its
    after-digest): a chain of bad changes across a cold start still returns to the good
    state. When it does not apply, the record's OldImage is the state to return to."""
    firsts: dict[str, dict[str, Any]] = {}
    for record in records:
        ident = core.item_id(
            core.table_name(record["eventSourceARN"]), (record.get("dynamodb") or {}).get("Keys") or {}
        )
        firsts.setdefault(ident, record)
    # An INSERT matters when modifications are protected: after a protected delete it is a
    # re-creation of the item, which ``core.decide`` treats as a modification.
    events = policy.protected_events | ({"INSERT"} if "MODIFY" in policy.protected_events else set())
    wanted = {
        ident: record for ident, record in firsts.items() if record.get("eventName") in events and ident not in memory
    }
    if not wanted:
        return
    table = core.table_name(records[0]["eventSourceARN"])
    try:
        found = trail.recall_states(table, [r["dynamodb"]["Keys"] for r in wanted.values()])
    except Exception as exc:  # noqa: BLE001 - undo from OldImages, as a fresh container would
        log.emit(log.AUDIT, table, Outcome.FAILED, audit="recall-states", error=repr(exc), keys=len(wanted))
        return
    for ident, (good, after) in found.items():
        record = wanted.get(ident)
        if record and after == marker.state_digest((record.get("dynamodb") or {}).get("OldImage")):
            memory.put(ident, good)

"""Failed records outlive the stream: what the monitor could not do, kept to be redone.

When an undo fails (throttling past botocore's retries, a 5xx, a write the table refuses),
the record's sequence number goes back to Lambda, which retries, bisects, and finally
sends a description of the batch to the failure queue. That description holds sequence
numbers only, and the stream forgets the records after 24 hours. So, before a failure is
reported, the monitor keeps the record's images and its decision (the image to write and
the condition to write it under) in the audit table (``pk = <table>#failed``, one entry
per record, keyed by its sequence number, so a retried failure overwrites its entry).

``playbooks/replay.yml`` (``make replay``) asks the monitor to redo them (operation
``replay-failed``): each kept decision is carried out again exactly as it would have
been, conditionally, so a newer write still wins (``superseded``) and a decision carried
out already is not carried out twice. An entry leaves the table once it is applied or
superseded; one that fails again stays for the next replay.

Pure here: the entry's shape, its item in the audit table, and the decision back from it.
"""

from __future__ import annotations

import json
import time
from typing import Any

from change_monitor import conditions, core

RETENTION_DAYS = 14  # as long as the failure queue keeps its messages


def entry(record: dict[str, Any], decision: core.Decision | None, error: str) -> dict[str, Any]:
    """The kept form of a failed record (JSON-serialisable)."""
    ddb = record.get("dynamodb") or {}
    kept: dict[str, Any] = {
        "table": core.table_name(record["eventSourceARN"]),
        "sequence": ddb.get("SequenceNumber", "0"),
        "event_id": record.get("eventID"),
        "record": record,
        "error": error,
        "decision": None,
    }
    if decision is not None:
        kept["decision"] = {
            "action": decision.action,
            "reason": decision.reason,
            "keys": decision.keys,
            "item": decision.item,
            "condition": None
            if decision.condition is None
            else {
                "expression": decision.condition.expression,
                "names": decision.condition.names,
                "values": decision.condition.values,
            },
            "sequence": decision.sequence,
        }
    return kept


def decision_of(kept: dict[str, Any]) -> core.Decision | None:
    """The decision a kept entry holds, or None when the failure came before deciding."""
    doc = kept.get("decision")
    if not doc:
        return None
    condition = doc.get("condition")
    return core.Decision(
        action=doc["action"],
        reason=doc["reason"],
        table=kept["table"],
        keys=doc["keys"],
        item=doc.get("item"),
        condition=None if condition is None else conditions.Condition(**condition),
        sequence=doc.get("sequence", "0"),
    )


def sort_key(sequence: str) -> str:
    """Sequence numbers as sort keys that sort in stream order (zero-padded to 40 digits)."""
    return str(int(sequence)).zfill(40)


def dumps(kept: dict[str, Any]) -> str:
    return json.dumps(kept, sort_keys=True)


def partition(table: str) -> str:
    """The audit table's partition of the table's kept failures."""
    return f"{table}#failed"


def item(kept: dict[str, Any]) -> dict[str, Any]:
    """The audit-table item (plain values) that keeps an entry, one per sequence number."""
    return {
        "pk": partition(kept["table"]),
        "sk": sort_key(kept["sequence"]),
        "entry": dumps(kept),
        "error": kept["error"][:1000],
        "expires_at": int(time.time()) + RETENTION_DAYS * 86400,
    }


def from_item(stored: dict[str, Any]) -> dict[str, Any]:
    """The entry an audit-table item (DynamoDB JSON) keeps."""
    return json.loads(stored["entry"]["S"])

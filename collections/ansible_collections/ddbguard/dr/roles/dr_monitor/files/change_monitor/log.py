"""One shape for every line the monitor prints (besides the EMF metrics line).

``{"kind": ..., "table": ..., "outcome": ..., ...}``, one JSON object per line, keys sorted:

- ``decision``: one stream record (event, key, action, reason, sequence, lag_ms);
- ``operation``: one write of a sanctioned operation, or its refusal;
- ``incident``: an incident opened, or an escalation that failed;
- ``maintenance``: a maintenance window value refused (protection stays on);
- ``audit``: an audit, state or failure record that could not be written or read.

``make logs`` (``tools/logs.py``) and the drill
(``ddbguard.dr.cloudwatchlogs_monitor_decisions``) read them back by these fields.
"""

from __future__ import annotations

import json
import time
from typing import Any

DECISION = "decision"
OPERATION = "operation"
INCIDENT = "incident"
MAINTENANCE = "maintenance"
AUDIT = "audit"


def emit(kind: str, table: str, outcome: str, **fields: Any) -> None:
    print(json.dumps({"kind": kind, "table": table, "outcome": outcome, **fields}, sort_keys=True, default=str))


def created(record: dict[str, Any]) -> float | None:
    """A stream record's ApproximateCreationDateTime (epoch seconds), when it has one."""
    value = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
    return float(value) if value is not None else None


def lag_ms(record: dict[str, Any]) -> int | None:
    """Milliseconds from the record's creation to now."""
    at = created(record)
    return round((time.time() - at) * 1000) if at else None

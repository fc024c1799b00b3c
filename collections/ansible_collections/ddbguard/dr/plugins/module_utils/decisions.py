# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The change monitor's decision lines in its log group: parse and filter them. No AWS calls.

The monitor prints one JSON object per decision (``event_id``, ``event``, ``key``,
``action``, ``reason``, ``outcome``, ``lag_ms``, ...) and one per sanctioned operation
(``operation``, ``key``, ``outcome``). Other lines (START/END/REPORT, metrics) are skipped.
"""

from __future__ import annotations

import json
from typing import Any


def parse(message: str) -> dict[str, Any] | None:
    """The decision in a log line, or None when the line is not one."""
    text = message.strip()
    if not text.startswith("{"):
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict) or "outcome" not in doc or "_aws" in doc:
        return None
    return doc


def select(
    decisions: list[dict[str, Any]], keys: list[dict[str, Any]] | None = None, outcomes: list[str] | None = None
) -> list[dict[str, Any]]:
    """The decisions about any of ``keys`` (DynamoDB JSON) with any of ``outcomes``; all when None."""
    wanted = {json.dumps(k, sort_keys=True) for k in keys or []}
    out = []
    for decision in decisions:
        if wanted and json.dumps(decision.get("key"), sort_keys=True) not in wanted:
            continue
        if outcomes and decision.get("outcome") not in outcomes:
            continue
        out.append(decision)
    return out

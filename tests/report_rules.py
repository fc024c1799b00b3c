"""What a drill report may not say: a check that passed on work it did not do.

A check passes only on what it measured. Its ``measured`` text says what was measured; when
that text says nothing was done ("no copy yet", ``"copied": 0``, "not run"), a ``pass`` is a
lie that an operator would trust. ``not-run`` is the honest status, with its reason.
"""

from __future__ import annotations

import re

# Phrases by which a measurement says that the work was not done.
NOT_DONE = [
    r"\bno copy yet\b",
    r"\bnot (run|done|measured|proven|removed)\b",
    r"\"copied\": 0\b",
    r"\bnothing (was )?(copied|compared|restored|measured)\b",
    r"(^|\D)0 items compared\b",
    r"\bno recovery point of the drill\b",
    r"\bno DR region configured\b",
]


def passes_without_measurement(report: dict) -> list[dict]:
    """The checks whose status is pass although their measurement says nothing was done."""
    return [
        check
        for check in report.get("checks", [])
        if check.get("status") == "pass" and any(re.search(p, str(check.get("measured", ""))) for p in NOT_DONE)
    ]


def not_run_without_reason(report: dict) -> list[dict]:
    """The checks that were not run and do not say why."""
    return [
        c for c in report.get("checks", []) if c.get("status") == "not-run" and not str(c.get("measured", "")).strip()
    ]

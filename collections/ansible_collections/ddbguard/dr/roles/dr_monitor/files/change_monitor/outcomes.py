"""One vocabulary for what became of a stream record or a sanctioned write.

Every module says ``Outcome.APPLIED`` (never the word itself), and each outcome names the
metric it counts toward in the invocation's EMF line (``metrics``). An ``Outcome`` is a
``str``: log lines, audit records and answers carry its word (``"applied"``).
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    APPLIED = "applied"  # the monitor's conditional write went in
    SUPERSEDED = "superseded"  # its condition failed: a newer write wins, never retried
    NOTHING = "nothing-to-do"  # a decision that needs no write (skip)
    AUDITED = "audited"  # a protected change only logged (audit mode, maintenance window)
    NOT_UNDONE = "not-undone"  # a protected change the monitor saw and cannot undo
    FAILED = "failed"  # an unexpected error: the record is reported for Lambda's retry
    REFUSED = "refused"  # an operation that is not valid: nothing written

    @property
    def metric(self) -> str:
        """The EMF metric this outcome counts toward."""
        return _METRICS[self]


_METRICS = {
    Outcome.APPLIED: "Undone",
    Outcome.SUPERSEDED: "Superseded",
    Outcome.NOTHING: "Skipped",
    Outcome.AUDITED: "Audited",
    Outcome.NOT_UNDONE: "NotUndone",
    Outcome.FAILED: "Failed",
    Outcome.REFUSED: "Refused",
}

"""The maintenance window: while open, protected changes are only audited.

The window is an SSM parameter whose value is the window's end, as an ISO 8601 time with
its time zone (``2026-11-24T18:00:00Z``). The window is open while now is before it, and
only within limits, so that a typo cannot switch protection off for long:

- a missing, empty or unreadable value means closed (protection fails safe);
- an end without a time zone is refused: whose 18:00 would it be?
- an end more than ``DDBGUARD_MAINTENANCE_MAX_SECONDS`` ahead (default 24 h) is refused;
- an end more than a minute in the past is a window that has ended (a wrong date?).

``1970-01-01T00:00:00Z`` (the value the role creates) and ``closed`` mean no window. Any
other value that does not open the window keeps protection on and says so: one log line
(``kind: maintenance``, ``outcome: refused``) per reading, and the ``MaintenanceRefused``
metric. The answer is cached for a few seconds so that a burst does not call SSM once per
batch, and read again after a batch (``prefetch``) once it is half that old, so that the
next batch's undo does not wait for SSM.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from change_monitor import log
from change_monitor.outcomes import Outcome

CACHE_SECONDS = 5.0
# After a batch, an answer at least this old is read again for the next batch.
PREFETCH_SECONDS = CACHE_SECONDS / 2
OPEN = "open"
CLOSED = "closed"
ENDED = "ended"
NO_TIME_ZONE = "no-time-zone"
TOO_FAR_AHEAD = "too-far-ahead"
UNREADABLE = "unreadable"
REFUSALS = (NO_TIME_ZONE, TOO_FAR_AHEAD, UNREADABLE, ENDED)
PAST_GRACE_SECONDS = 60
# Values that mean "no window": the role creates the parameter with the first one.
CLOSED_VALUES = ("1970-01-01T00:00:00Z", "closed", "")


def window_state(value: str | None, now: float, max_seconds: int) -> str:
    """The state of a window whose end is ``value``: ``open``, ``closed`` (none set),
    ``ended``, or a refusal (``no-time-zone``, ``too-far-ahead``, ``unreadable``)."""
    if value is None or value.strip() in CLOSED_VALUES:
        return CLOSED
    try:
        end = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return UNREADABLE
    if end.tzinfo is None:
        return NO_TIME_ZONE
    left = end.timestamp() - now
    if left > max_seconds:
        return TOO_FAR_AHEAD
    if left <= 0:
        return ENDED if -left > PAST_GRACE_SECONDS else CLOSED
    return OPEN


class MaintenanceWindow:
    def __init__(self, ssm: Any, parameter: str, max_seconds: int = 86400, table: str = "", clock=time.time) -> None:
        self._ssm = ssm
        self._table = table
        self._parameter = parameter
        self._max_seconds = max_seconds
        self._clock = clock
        self._cached: tuple[float, str] | None = None

    def state(self) -> str:
        now = self._clock()
        if self._cached and now - self._cached[0] < CACHE_SECONDS:
            return self._cached[1]
        try:
            value = self._ssm.get_parameter(Name=self._parameter)["Parameter"]["Value"]
        except self._ssm.exceptions.ParameterNotFound:
            value = None
        state = window_state(value, now, self._max_seconds)
        if state in REFUSALS:
            log.emit(
                log.MAINTENANCE, self._table, Outcome.REFUSED, reason=state, parameter=self._parameter, value=value
            )
        self._cached = (now, state)
        return state

    def prefetch(self) -> None:
        """Read the window again when the cached answer is at least ``PREFETCH_SECONDS``
        old: called after a batch's writes, so the next batch finds a fresh answer rather
        than waiting for SSM before its undo. An error here is only logged: the next
        ``state()`` reads again, and fails the batch there if SSM still fails."""
        if self._cached and self._clock() - self._cached[0] < PREFETCH_SECONDS:
            return
        try:
            self._cached = None
            self.state()
        except Exception as exc:  # noqa: BLE001 - the batch is done; state() reads again
            log.emit(log.MAINTENANCE, self._table, Outcome.FAILED, parameter=self._parameter, error=repr(exc))

    def is_open(self) -> bool:
        return self.state() == OPEN

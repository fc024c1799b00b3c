"""The maintenance window: while open, protected changes are only audited.

The window is an SSM parameter whose value is the window's end, as an ISO 8601 time
(``2026-11-24T18:00:00Z``). The window is open while now is before it. A missing or
unreadable parameter means closed: protection fails safe. The answer is cached for a
few seconds so that a burst does not call SSM once per batch.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

CACHE_SECONDS = 5.0


def window_open(value: str | None, now: float) -> bool:
    """Whether a parameter value (the window's end) is still in the future."""
    if not value:
        return False
    try:
        end = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    if end.tzinfo is None:
        end = end.replace(tzinfo=datetime.UTC)
    return now < end.timestamp()


class MaintenanceWindow:
    def __init__(self, ssm: Any, parameter: str, clock=time.time) -> None:
        self._ssm = ssm
        self._parameter = parameter
        self._clock = clock
        self._cached: tuple[float, bool] | None = None

    def is_open(self) -> bool:
        now = self._clock()
        if self._cached and now - self._cached[0] < CACHE_SECONDS:
            return self._cached[1]
        try:
            value = self._ssm.get_parameter(Name=self._parameter)["Parameter"]["Value"]
        except self._ssm.exceptions.ParameterNotFound:
            value = None
        state = window_open(value, now)
        self._cached = (now, state)
        return state

"""Periodic saves of the emulator's state, so that a crash loses a bounded amount.

ministack saves its state only on a clean stop (``lifespan.shutdown``): a crash (kill -9,
an out-of-memory kill, a power cut) rolled back to the last clean stop, which could be
days old, or lose everything when there was none. Here a daemon thread of the emulator
process saves every service's state with ministack's own ``save_all`` (each file written
to a temporary file and renamed, so a save cut short keeps the previous file):

- every ``LOCALAWS_SAVE_SECONDS`` (default 30), and never more often than ten times the
  last save's duration, so that saving a large state costs at most a tenth of a core;
- one save at a time: a lock serialises these saves and the one at shutdown, which would
  otherwise write the same temporary file.

So a crash loses at most the changes of the last interval plus the save under way:
``max(LOCALAWS_SAVE_SECONDS, 10 x the last save's duration)`` plus that duration. A
request that changes state while a save reads it can make that save fail (logged); the
next one follows an interval later.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

DEFAULT_SECONDS = 30.0
BUDGET = 10.0  # an interval is at least this many times the last save's duration
_LOCK = threading.Lock()
_log = logging.getLogger("localaws.checkpoint")


def next_interval(configured: float, last_duration: float) -> float:
    """Seconds until the next save."""
    return max(configured, BUDGET * last_duration)


def _serialise_saves(persistence: Any) -> None:
    """Make ministack's ``save_state`` hold one lock: a periodic save and the shutdown
    save must never write the same temporary file at once."""
    original = persistence.save_state
    if getattr(original, "_localaws_locked", False):
        return

    def save_state(service: str, data: dict) -> None:
        with _LOCK:
            original(service, data)

    save_state._localaws_locked = True
    persistence.save_state = save_state


def _loop(app: Any, persistence: Any, configured: float) -> None:
    interval = configured
    while True:
        time.sleep(interval)
        started = time.monotonic()
        try:
            persistence.save_all(app._build_persistence_save_dict())
        except Exception:  # noqa: BLE001 - logged; the next save follows
            _log.exception("periodic save failed")
        duration = time.monotonic() - started
        interval = next_interval(configured, duration)
        _log.info("state saved in %.2f s; next save in %.0f s", duration, interval)


def install() -> bool:
    """Start the periodic saver when ministack persists its state; return whether it runs."""
    from ministack import app
    from ministack.core import persistence

    if not persistence.PERSIST_STATE:
        return False
    _serialise_saves(persistence)
    configured = float(os.environ.get("LOCALAWS_SAVE_SECONDS", DEFAULT_SECONDS))
    threading.Thread(target=_loop, args=(app, persistence, configured), name="localaws-checkpoint", daemon=True).start()
    return True

"""Protection policy, from the environment the role sets on the function.

Read once at cold start. A bad value raises ``PolicyError`` naming the variable, so
the function fails loudly on its first invocation instead of guessing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

EVENT_TYPES = ("INSERT", "MODIFY", "REMOVE")
MODES = ("audit", "undo")


class PolicyError(ValueError):
    """A policy variable is missing or invalid."""


@dataclass(frozen=True)
class Policy:
    """What the monitor protects and how it reacts."""

    protected_events: frozenset[str] = frozenset({"REMOVE"})
    mode: str = "undo"
    marker_attribute: str = "_ddbguard_undo"


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def load_policy(env: Mapping[str, str] | None = None) -> Policy:
    """Build the policy from ``DDBGUARD_*`` variables; defaults protect deletes."""
    env = os.environ if env is None else env
    events = _csv(env.get("DDBGUARD_PROTECTED_EVENTS", "REMOVE"))
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown or not events:
        raise PolicyError(
            f"DDBGUARD_PROTECTED_EVENTS must list some of {', '.join(EVENT_TYPES)}; "
            f"got {env.get('DDBGUARD_PROTECTED_EVENTS')!r}"
        )
    mode = env.get("DDBGUARD_MODE", "undo")
    if mode not in MODES:
        raise PolicyError(f"DDBGUARD_MODE must be one of {', '.join(MODES)}; got {mode!r}")
    marker = env.get("DDBGUARD_MARKER_ATTRIBUTE", "_ddbguard_undo")
    if not marker or len(marker) > 255:
        raise PolicyError("DDBGUARD_MARKER_ATTRIBUTE must be an attribute name of 1-255 characters")
    return Policy(protected_events=frozenset(events), mode=mode, marker_attribute=marker)

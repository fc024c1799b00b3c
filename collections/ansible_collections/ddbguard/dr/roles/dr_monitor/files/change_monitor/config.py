"""Protection policy, from the environment the role sets on the function.

Read once at cold start. A bad value raises ``PolicyError`` naming the variable, so the
function fails loudly on its first invocation instead of guessing. The same code is the
role's validation: ``dr_monitor`` runs ``python -m change_monitor.config`` on the
controller with the environment it is about to deploy, before any AWS call (see
``main``), so a configuration that deploys always starts. Unknown ``DDBGUARD_*`` names
are refused: a misspelt setting must not silently fall back to its default.

| Variable | Meaning | Default |
|---|---|---|
| ``DDBGUARD_PROTECTED_EVENTS`` | comma list of REMOVE, MODIFY, INSERT | REMOVE |
| ``DDBGUARD_SCOPE`` | ``all``, ``key-prefix`` or ``attribute-flag`` | all |
| ``DDBGUARD_PARTITION_KEY`` | partition key attribute (for ``key-prefix``) | pk |
| ``DDBGUARD_KEY_PREFIX`` | protected partition key prefix (for ``key-prefix``) | |
| ``DDBGUARD_FLAG_ATTRIBUTE`` | attribute marking protected items (for ``attribute-flag``) | |
| ``DDBGUARD_MODE`` | ``audit``, ``undo`` or ``undo+escalate`` | undo |
| ``DDBGUARD_MARKER_ATTRIBUTE`` | attribute of the monitor's own writes | _ddbguard_undo |
| ``DDBGUARD_VERSION_ATTRIBUTE`` | version attribute checked instead of whole images | |
| ``DDBGUARD_MAINTENANCE_PARAMETER`` | SSM parameter holding the end (ISO 8601) of a maintenance window | |
| ``DDBGUARD_MAINTENANCE_MAX_SECONDS`` | the furthest ahead a window's end may be (60-604800) | 86400 |
| ``DDBGUARD_AUDIT_TABLE`` | table receiving audit records, incidents and counters | |
| ``DDBGUARD_CONCURRENCY`` | writes in flight at once within a batch (transactions, lone undos, audit; 1-64) | 16 |
| ``DDBGUARD_ESCALATION_THRESHOLD`` | protected changes (or failed undos) in a window that open an incident | 100 |
| ``DDBGUARD_ESCALATION_WINDOW_SECONDS`` | length of that window (10-86400) | 300 |
| ``DDBGUARD_BACKUP_VAULT`` | vault whose recovery points an incident restores | |
| ``DDBGUARD_RESTORE_ROLE_ARN`` | role AWS Backup assumes for that restore | |
| ``DDBGUARD_TABLE`` | the protected table (required): derives the marker key, named by sanctioned operations | |
| ``DDBGUARD_MARKER_KEY`` | KMS HMAC key (ARN or alias) from which the marker key is derived (required) | |
| ``DDBGUARD_CANARY_PREFIX`` | key prefix of the drill's canaries, the only keys it retires | ddbguard-canary# |
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

from change_monitor.marker import Marker

EVENT_TYPES = ("INSERT", "MODIFY", "REMOVE")
MODES = ("audit", "undo", "undo+escalate")
SCOPES = ("all", "key-prefix", "attribute-flag")
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")


# Every variable the function reads (the table in the docstring above).
VARIABLES = (
    "DDBGUARD_PROTECTED_EVENTS",
    "DDBGUARD_SCOPE",
    "DDBGUARD_PARTITION_KEY",
    "DDBGUARD_KEY_PREFIX",
    "DDBGUARD_FLAG_ATTRIBUTE",
    "DDBGUARD_MODE",
    "DDBGUARD_MARKER_ATTRIBUTE",
    "DDBGUARD_VERSION_ATTRIBUTE",
    "DDBGUARD_MAINTENANCE_PARAMETER",
    "DDBGUARD_MAINTENANCE_MAX_SECONDS",
    "DDBGUARD_AUDIT_TABLE",
    "DDBGUARD_CONCURRENCY",
    "DDBGUARD_ESCALATION_THRESHOLD",
    "DDBGUARD_ESCALATION_WINDOW_SECONDS",
    "DDBGUARD_BACKUP_VAULT",
    "DDBGUARD_RESTORE_ROLE_ARN",
    "DDBGUARD_TABLE",
    "DDBGUARD_CANARY_PREFIX",
    "DDBGUARD_MARKER_KEY",
)


class PolicyError(ValueError):
    """A policy variable is missing or invalid."""


@dataclass(frozen=True)
class Policy:
    """What the monitor protects and how it reacts."""

    protected_events: frozenset[str] = frozenset({"REMOVE"})
    scope: str = "all"
    partition_key: str = "pk"
    key_prefix: str = ""
    flag_attribute: str = ""
    mode: str = "undo"
    marker_attribute: str = "_ddbguard_undo"
    version_attribute: str = ""
    maintenance_parameter: str = ""
    maintenance_max_seconds: int = 86400
    audit_table: str = ""
    concurrency: int = 16
    escalation_threshold: int = 100
    escalation_window_seconds: int = 300
    backup_vault: str = ""
    restore_role_arn: str = ""
    table: str = ""
    canary_prefix: str = "ddbguard-canary#"
    marker_key_id: str = ""
    # The secret marker key, derived at cold start from ``marker_key_id`` (never from the environment).
    marker_key: bytes = field(default=b"", repr=False, compare=False)

    @property
    def marker(self) -> Marker:
        return Marker(self.marker_attribute, self.marker_key)

    @property
    def escalates(self) -> bool:
        return self.mode == "undo+escalate"


def _csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise PolicyError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise PolicyError(f"{name} must be {low}-{high}, got {value}")
    return value


def load_policy(env: Mapping[str, str] | None = None) -> Policy:
    """Build the policy from ``DDBGUARD_*`` variables; defaults undo deletes of every item."""
    env = os.environ if env is None else env
    unknown = sorted(name for name in env if name.startswith("DDBGUARD_") and name not in VARIABLES)
    if unknown:
        raise PolicyError(f"unknown setting {', '.join(unknown)}; known: {', '.join(VARIABLES)}")
    events = _csv(env.get("DDBGUARD_PROTECTED_EVENTS", "REMOVE"))
    if not events or set(events) - set(EVENT_TYPES):
        raise PolicyError(
            f"DDBGUARD_PROTECTED_EVENTS must list some of {', '.join(EVENT_TYPES)}; "
            f"got {env.get('DDBGUARD_PROTECTED_EVENTS')!r}"
        )
    mode = env.get("DDBGUARD_MODE", "undo")
    if mode not in MODES:
        raise PolicyError(f"DDBGUARD_MODE must be one of {', '.join(MODES)}; got {mode!r}")
    scope = env.get("DDBGUARD_SCOPE", "all")
    if scope not in SCOPES:
        raise PolicyError(f"DDBGUARD_SCOPE must be one of {', '.join(SCOPES)}; got {scope!r}")
    names = {
        "marker_attribute": env.get("DDBGUARD_MARKER_ATTRIBUTE", "_ddbguard_undo"),
        "partition_key": env.get("DDBGUARD_PARTITION_KEY", "pk"),
        "flag_attribute": env.get("DDBGUARD_FLAG_ATTRIBUTE", ""),
        "version_attribute": env.get("DDBGUARD_VERSION_ATTRIBUTE", ""),
    }
    for name, value in names.items():
        if (value or name in ("marker_attribute", "partition_key")) and not _NAME.match(value):
            raise PolicyError(f"DDBGUARD_{name.upper()} must be an attribute name of 1-255 characters; got {value!r}")
    if scope == "key-prefix" and not env.get("DDBGUARD_KEY_PREFIX"):
        raise PolicyError("DDBGUARD_KEY_PREFIX is required when DDBGUARD_SCOPE=key-prefix")
    if scope == "attribute-flag" and not names["flag_attribute"]:
        raise PolicyError("DDBGUARD_FLAG_ATTRIBUTE is required when DDBGUARD_SCOPE=attribute-flag")
    if names["version_attribute"] == names["marker_attribute"]:
        raise PolicyError("DDBGUARD_VERSION_ATTRIBUTE must differ from DDBGUARD_MARKER_ATTRIBUTE")
    for name in ("DDBGUARD_TABLE", "DDBGUARD_MARKER_KEY"):
        if not env.get(name):
            raise PolicyError(f"{name} is required")
    if not re.match(r"^[A-Za-z0-9_.-]{3,255}$", env["DDBGUARD_TABLE"]):
        raise PolicyError(f"DDBGUARD_TABLE must be a DynamoDB table name; got {env['DDBGUARD_TABLE']!r}")
    if mode == "undo+escalate":
        for name in ("DDBGUARD_AUDIT_TABLE", "DDBGUARD_BACKUP_VAULT", "DDBGUARD_RESTORE_ROLE_ARN"):
            if not env.get(name):
                raise PolicyError(f"{name} is required when DDBGUARD_MODE=undo+escalate")
    return Policy(
        protected_events=frozenset(events),
        scope=scope,
        key_prefix=env.get("DDBGUARD_KEY_PREFIX", ""),
        mode=mode,
        maintenance_parameter=env.get("DDBGUARD_MAINTENANCE_PARAMETER", ""),
        maintenance_max_seconds=_int(env, "DDBGUARD_MAINTENANCE_MAX_SECONDS", 86400, 60, 604800),
        audit_table=env.get("DDBGUARD_AUDIT_TABLE", ""),
        concurrency=_int(env, "DDBGUARD_CONCURRENCY", 16, 1, 64),
        escalation_threshold=_int(env, "DDBGUARD_ESCALATION_THRESHOLD", 100, 1, 1_000_000),
        escalation_window_seconds=_int(env, "DDBGUARD_ESCALATION_WINDOW_SECONDS", 300, 10, 86400),
        backup_vault=env.get("DDBGUARD_BACKUP_VAULT", ""),
        restore_role_arn=env.get("DDBGUARD_RESTORE_ROLE_ARN", ""),
        table=env.get("DDBGUARD_TABLE", ""),
        canary_prefix=env.get("DDBGUARD_CANARY_PREFIX", "ddbguard-canary#"),
        marker_key_id=env["DDBGUARD_MARKER_KEY"],
        **names,
    )


def main(argv: list[str]) -> int:
    """``python -m change_monitor.config ENV_JSON [NAMES_JSON]``: check an environment.

    ENV_JSON is the environment the role deploys; NAMES_JSON maps each variable to the
    setting that renders it (``{"DDBGUARD_MODE": "dr_monitor_mode"}``), so that the
    error names what the operator wrote. Exit 0 and print the policy, or exit 2 and
    print the error."""
    env = json.loads(argv[0])
    names = json.loads(argv[1]) if len(argv) > 1 else {}
    try:
        policy = load_policy(env)
    except PolicyError as exc:
        message = str(exc)
        for variable in sorted(names, key=len, reverse=True):
            message = message.replace(variable, names[variable])
        print(message, file=sys.stderr)
        return 2
    shown = {k: sorted(v) if isinstance(v, frozenset) else v for k, v in policy.__dict__.items() if k != "marker_key"}
    print(json.dumps(shown, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

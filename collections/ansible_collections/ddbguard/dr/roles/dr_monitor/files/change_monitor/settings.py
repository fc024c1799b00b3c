"""The one table of the monitor's settings. Everything else is derived from it.

Each row: the ``Policy`` field, its environment variable, its type, its default, its
range or choices, one line of meaning, and where an operator sets it (the ``dr_monitor``
role variable; the key of a ``ddbguard_tables`` entry, ``monitor_<name>``, when it is set
per table; until 0.4.0 also its name before 0.3.0, without the prefix). From it:

- ``config.load_policy`` reads and checks every variable (``parse``), at cold start and on
  the controller before any AWS call;
- ``tools/settings.py`` writes the role's environment map and error names
  (``dr_monitor/vars/main.yml``), its defaults and argument specs, the table entry's
  argument specs (``dr_table_hosts``), ``playbooks/vars/protect_table.yml``, and the tables in
  ``lambda/README.md`` and ``dr_monitor/README.md``; ``make settings`` rewrites them and
  ``make test`` fails when one is not current.

Adding a setting is one row here (and its use), then ``make settings``. The rules that
span settings (a scope needs its prefix or flag, escalation needs its vault...) are in
``config``, once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

EVENT_TYPES = ("INSERT", "MODIFY", "REMOVE")
MODES = ("audit", "undo", "undo+escalate")
SCOPES = ("all", "key-prefix", "attribute-flag")
ATTRIBUTE = re.compile(r"^[A-Za-z0-9_.-]{1,255}$")
TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_UNSET = object()


class SettingError(ValueError):
    """A value that its setting refuses; the message names the environment variable."""


@dataclass(frozen=True)
class Setting:
    """One setting of the monitor."""

    name: str  # the Policy field
    type: str  # events | choice | int | attribute | table | text
    default: Any
    meaning: str  # one line
    choices: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None
    required: bool = False  # no default: the deployment must give it
    entry: str | None = None  # the key of a ddbguard_tables entry that sets it, if any
    entry_was: str = ""  # that key's name before 0.3.0, accepted until 0.4.0 (deprecated)
    deployed: Any = _UNSET  # the role's default when it differs from the function's (may use Jinja)
    deployed_doc: str = ""  # that default as the documentation shows it
    env_name: str = ""  # when not DDBGUARD_<NAME>
    variable_name: str = ""  # when not dr_monitor_<name>
    rendered: str = ""  # the role's Jinja for the variable's value, when not the plain variable

    @property
    def env(self) -> str:
        return self.env_name or f"DDBGUARD_{self.name.upper()}"

    @property
    def variable(self) -> str:
        return self.variable_name or f"dr_monitor_{self.name}"

    @property
    def role_default(self) -> Any:
        return self.default if self.deployed is _UNSET else self.deployed

    def parse(self, raw: str | None) -> Any:
        """The value of the variable (its default when unset), or SettingError naming it."""
        if raw is None:
            if self.required:
                raise SettingError(f"{self.env} is required")
            return frozenset(self.default) if self.type == "events" else self.default
        if self.type == "events":
            events = [part.strip() for part in raw.split(",") if part.strip()]
            if not events or set(events) - set(self.choices):
                raise SettingError(f"{self.env} must list some of {', '.join(self.choices)}; got {raw!r}")
            return frozenset(events)
        if self.type == "choice" and raw not in self.choices:
            raise SettingError(f"{self.env} must be one of {', '.join(self.choices)}; got {raw!r}")
        if self.type == "int":
            try:
                value = int(raw)
            except ValueError:
                raise SettingError(f"{self.env} must be an integer, got {raw!r}") from None
            if not self.low <= value <= self.high:  # type: ignore[operator]
                raise SettingError(f"{self.env} must be {self.low}-{self.high}, got {value}")
            return value
        if self.required and not raw:
            raise SettingError(f"{self.env} is required")
        if self.type == "attribute" and (raw or self.default) and not ATTRIBUTE.match(raw):
            raise SettingError(f"{self.env} must be an attribute name of 1-255 characters; got {raw!r}")
        if self.type == "table" and not TABLE.match(raw):
            raise SettingError(f"{self.env} must be a DynamoDB table name; got {raw!r}")
        return raw


SETTINGS = (
    Setting(
        "protected_events",
        "events",
        ("REMOVE",),
        "Events the monitor undoes.",
        EVENT_TYPES,
        entry="monitor_protected_events",
        entry_was="protected_events",
    ),
    Setting(
        "scope",
        "choice",
        "all",
        "Which items are protected (key-prefix and attribute-flag need their key).",
        SCOPES,
        entry="monitor_scope",
        entry_was="scope",
    ),
    Setting("partition_key", "attribute", "pk", "Partition key attribute of the table (read by the key-prefix scope)."),
    Setting(
        "key_prefix",
        "text",
        "",
        "Protected partition key prefix (scope key-prefix).",
        entry="monitor_key_prefix",
        entry_was="key_prefix",
    ),
    Setting(
        "flag_attribute",
        "attribute",
        "",
        "Attribute marking protected items (scope attribute-flag).",
        entry="monitor_flag_attribute",
        entry_was="flag_attribute",
    ),
    Setting(
        "mode",
        "choice",
        "undo",
        "audit only logs; undo also repairs; undo+escalate also restores a recovery point into a new table on a burst.",
        MODES,
        entry="monitor_mode",
        deployed="undo+escalate",
    ),
    Setting("marker_attribute", "attribute", "_ddbguard_undo", "Attribute that marks the monitor's own writes."),
    Setting(
        "version_attribute",
        "attribute",
        "",
        "Version attribute compared instead of whole images; empty for none.",
        entry="monitor_version_attribute",
        entry_was="version_attribute",
    ),
    Setting(
        "maintenance_parameter",
        "text",
        "",
        "SSM parameter holding the end (ISO 8601) of a maintenance window; created closed.",
        deployed="/ddbguard/{{ dr_monitor_table_name }}/maintenance-until",
        deployed_doc="/ddbguard/<table>/maintenance-until",
    ),
    Setting(
        "maintenance_max_seconds",
        "int",
        86400,
        "Furthest ahead a maintenance window may end; a later, zoneless or unreadable end keeps protection on.",
        low=60,
        high=604800,
    ),
    Setting(
        "audit_table",
        "text",
        "",
        "Table of audit records, good states, incidents and counters.",
        deployed="{{ dr_monitor_table_name }}-ddbguard-audit",
        deployed_doc="<table>-ddbguard-audit",
    ),
    Setting(
        "concurrency",
        "int",
        16,
        "Writes in flight at once within a batch (transactions of undos, lone undos, audit requests).",
        low=1,
        high=64,
        entry="monitor_concurrency",
        entry_was="concurrency",
    ),
    Setting(
        "escalation_threshold",
        "int",
        100,
        "Protected changes (or failed undos) in a window that open an incident.",
        low=1,
        high=1_000_000,
        entry="monitor_escalation_threshold",
        entry_was="escalation_threshold",
    ),
    Setting(
        "escalation_window_seconds",
        "int",
        300,
        "Length of that window in seconds.",
        low=10,
        high=86400,
        entry="monitor_escalation_window_seconds",
        entry_was="escalation_window_seconds",
    ),
    Setting("backup_vault", "text", "", "Vault whose recovery points an incident restores (mode undo+escalate)."),
    Setting("restore_role_arn", "text", "", "Role AWS Backup assumes for that restore (mode undo+escalate)."),
    Setting(
        "table",
        "table",
        "",
        "The protected table: derives the marker key, named by sanctioned operations.",
        required=True,
        variable_name="dr_monitor_table_name",
    ),
    Setting(
        "canary_prefix",
        "text",
        "ddbguard-canary#",
        "Partition key prefix of the drill's canaries, the only items the drill may retire through the monitor.",
    ),
    Setting(
        "marker_key_id",
        "text",
        "",
        "HMAC KMS key (its alias, without alias/) that derives the marker key; the role creates it.",
        required=True,
        env_name="DDBGUARD_MARKER_KEY",
        variable_name="dr_monitor_marker_key_alias",
        deployed="ddbguard/{{ dr_monitor_table_name }}/marker",
        deployed_doc="ddbguard/<table>/marker",
        # Before the key exists (validation, check mode on a fresh target): its alias.
        rendered="{{ _dr_monitor_marker_key_arn | default('alias/' ~ dr_monitor_marker_key_alias) }}",
    ),
)

"""Protection policy, from the environment the role sets on the function.

Read once at cold start. A bad value raises ``PolicyError`` naming the variable, so the
function fails loudly on its first invocation instead of guessing. The same code is the
roles' validation: ``dr_monitor`` runs ``python -m change_monitor.config`` on the
controller with the environment it is about to deploy, and ``dr_table_hosts`` with each
table entry's settings (``--entries``), before any AWS call (see ``main``), so a
configuration that deploys always starts. Unknown ``DDBGUARD_*`` names are refused: a
misspelt setting must not silently fall back to its default.

Each variable is read and checked by its row of ``settings.SETTINGS`` (the table below is
generated from it); the rules that span variables are here (``_rules``), once.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import field, make_dataclass
from typing import Any

from change_monitor import settings
from change_monitor.marker import Marker

EVENT_TYPES, MODES, SCOPES = settings.EVENT_TYPES, settings.MODES, settings.SCOPES
# Every variable the function reads (the table in the docstring).
VARIABLES = tuple(s.env for s in settings.SETTINGS)


class PolicyError(settings.SettingError):
    """A policy variable is missing or invalid."""


class _PolicyMethods:
    @property
    def marker(self) -> Marker:
        return Marker(self.marker_attribute, self.marker_key)  # type: ignore[attr-defined]

    @property
    def escalates(self) -> bool:
        return self.mode == "undo+escalate"  # type: ignore[attr-defined]


_TYPES = {"events": frozenset, "int": int}
# What the monitor protects and how it reacts: one field per row of ``settings.SETTINGS``
# (its default the row's), and the secret marker key, derived at cold start from
# ``marker_key_id`` (never from the environment).
Policy = make_dataclass(
    "Policy",
    [
        *(
            (s.name, _TYPES.get(s.type, str), field(default=frozenset(s.default) if s.type == "events" else s.default))
            for s in settings.SETTINGS
        ),
        ("marker_key", bytes, field(default=b"", repr=False, compare=False)),
    ],
    bases=(_PolicyMethods,),
    frozen=True,
)
Policy.__module__ = __name__


def load_policy(env: Mapping[str, str] | None = None, partial: bool = False) -> Policy:
    """Build the policy from ``DDBGUARD_*`` variables; defaults undo deletes of every item.

    ``partial``: check only what ``env`` holds (a table entry's settings, before the
    deployment has the rest): a required variable it lacks is not an error."""
    env = os.environ if env is None else env
    unknown = sorted(name for name in env if name.startswith("DDBGUARD_") and name not in VARIABLES)
    if unknown:
        raise PolicyError(f"unknown setting {', '.join(unknown)}; known: {', '.join(VARIABLES)}")
    values = {}
    for setting in settings.SETTINGS:
        raw = env.get(setting.env)
        if raw is None and partial and setting.required:
            values[setting.name] = setting.default
            continue
        try:
            values[setting.name] = setting.parse(raw)
        except settings.SettingError as exc:
            raise PolicyError(str(exc)) from None
    for problem in _rules(values, env, partial):
        raise PolicyError(problem)
    return Policy(**values)


def _escalation_needs(field: str) -> Callable[[dict], bool]:
    return lambda v: v["mode"] == "undo+escalate" and not v[field]


# The rules that span variables: the variables each reads, when it is broken, its message.
RULES = (
    (
        ("DDBGUARD_SCOPE", "DDBGUARD_KEY_PREFIX"),
        lambda v: v["scope"] == "key-prefix" and not v["key_prefix"],
        "DDBGUARD_KEY_PREFIX is required when DDBGUARD_SCOPE=key-prefix",
    ),
    (
        ("DDBGUARD_SCOPE", "DDBGUARD_FLAG_ATTRIBUTE"),
        lambda v: v["scope"] == "attribute-flag" and not v["flag_attribute"],
        "DDBGUARD_FLAG_ATTRIBUTE is required when DDBGUARD_SCOPE=attribute-flag",
    ),
    (
        ("DDBGUARD_VERSION_ATTRIBUTE", "DDBGUARD_MARKER_ATTRIBUTE"),
        lambda v: v["version_attribute"] == v["marker_attribute"],
        "DDBGUARD_VERSION_ATTRIBUTE must differ from DDBGUARD_MARKER_ATTRIBUTE",
    ),
    *(
        (
            ("DDBGUARD_MODE", f"DDBGUARD_{field.upper()}"),
            _escalation_needs(field),
            f"DDBGUARD_{field.upper()} is required when DDBGUARD_MODE=undo+escalate",
        )
        for field in ("audit_table", "backup_vault", "restore_role_arn")
    ),
)


def _rules(values: dict, env: Mapping[str, str], partial: bool) -> list[str]:
    """The broken rules that span variables, first broken first. ``partial``: only the
    rules whose variables ``env`` all holds (the others are checked on the whole
    environment, before deploying)."""
    return [
        message
        for variables, broken, message in RULES
        if (not partial or all(name in env for name in variables)) and broken(values)
    ]


def entry_environment(entry: Mapping[str, Any]) -> dict[str, str]:
    """The variables a ``ddbguard_tables`` entry sets (its keys of ``settings.SETTINGS``)."""
    env = {}
    for s in settings.SETTINGS:
        key = s.entry_was if s.entry_was and s.entry_was in entry else s.entry
        if key and key in entry:
            value = entry[key]
            env[s.env] = ",".join(value) if isinstance(value, list | tuple) else str(value)
    return env


def written_key(s: settings.Setting, entry: Mapping[str, Any]) -> str:
    """The key by which an entry names ``s`` ("" when an entry cannot set it): the name
    before 0.3.0 (deprecated) when the entry writes any setting by its old name, the
    operator's vocabulary, so that an error names what the operator would write; else
    ``s.entry``. (dr_table_hosts fills in every new name, and keeps the old ones written.)"""
    if not s.entry:
        return ""
    old_vocabulary = any(o.entry_was and o.entry_was in entry for o in settings.SETTINGS)
    return s.entry_was if s.entry_was and old_vocabulary else s.entry


def _check(env: dict[str, str], names: dict[str, str], partial: bool) -> tuple[Policy | None, str]:
    """The policy, or None and the error with each variable replaced by what the operator wrote."""
    try:
        return load_policy(env, partial), ""
    except PolicyError as exc:
        message = str(exc)
        for variable in sorted(names, key=len, reverse=True):
            message = message.replace(variable, names[variable])
        return None, message


def main(argv: list[str]) -> int:
    """Check an environment before any AWS call; exit 0 and print the policy, or exit 2
    and print the error.

    - ``python -m change_monitor.config ENV_JSON [NAMES_JSON]``: the environment the role
      deploys; NAMES_JSON maps each variable to the setting that renders it
      (``{"DDBGUARD_MODE": "dr_monitor_mode"}``), so that the error names it.
    - ``python -m change_monitor.config --entries ENTRIES_JSON LIST_NAME``: the settings of
      each table entry (``dr_table_hosts``), alone (``partial``); an error names
      ``LIST_NAME[<table>].<key>``, one line per entry."""
    if argv[:1] == ["--entries"]:
        errors = []
        for entry in json.loads(argv[1]):
            at = f"{argv[2]}[{entry.get('name')}]"
            names = {s.env: f"{at}.{written_key(s, entry)}" if s.entry else s.variable for s in settings.SETTINGS}
            _policy, error = _check(entry_environment(entry), names, partial=True)
            if error:
                errors.append(error)
        print("; ".join(errors), file=sys.stderr)
        return 2 if errors else 0
    policy, error = _check(json.loads(argv[0]), json.loads(argv[1]) if len(argv) > 1 else {}, partial=False)
    if policy is None:
        print(error, file=sys.stderr)
        return 2
    shown = {k: sorted(v) if isinstance(v, frozenset) else v for k, v in policy.__dict__.items() if k != "marker_key"}
    print(json.dumps(shown, sort_keys=True))
    return 0


def table() -> str:
    """The settings as a Markdown table (this module's docstring, and the READMEs)."""
    rows = ["| Variable | Meaning | Default |", "|---|---|---|"]
    for s in settings.SETTINGS:
        limits = f" ({s.low}-{s.high})" if s.type == "int" else ""
        choices = f" One of {', '.join(s.choices)}." if s.choices else ""
        default = "required" if s.required else ",".join(s.default) if s.type == "events" else str(s.default)
        rows.append(f"| ``{s.env}`` | {s.meaning}{limits}{choices} | {default} |")
    return "\n".join(rows)


__doc__ = f"{__doc__}\n{table()}\n"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

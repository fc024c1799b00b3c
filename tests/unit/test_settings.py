"""One table of the monitor's settings: every derived file is current, and a new setting
is one row of ``change_monitor/settings.py`` (plus ``make settings``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from change_monitor import config, settings
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import settings as generator  # noqa: E402  (tools/settings.py)

ROW = {"name": "undo_budget", "type": "int", "default": 7, "meaning": "Undos per second.", "low": 1, "high": 99}
NEW = settings.Setting(**ROW, entry="undo_budget")


def test_every_generated_file_is_current():
    answer = subprocess.run(
        [sys.executable, str(ROOT / "tools/settings.py"), "--check"], capture_output=True, text=True
    )
    assert answer.returncode == 0, answer.stderr


def test_a_new_setting_is_one_row_and_reaches_every_derived_file(monkeypatch):
    monkeypatch.setattr(generator, "SETTINGS", (*settings.SETTINGS, NEW))
    rel = {str(path.relative_to(ROOT)): path for path in generator.TARGETS}
    roles = "collections/ansible_collections/ddbguard/dr/roles/"
    expected = {
        roles + "dr_monitor/vars/main.yml": [
            'DDBGUARD_UNDO_BUDGET: "{{ dr_monitor_undo_budget | string }}"',
            "DDBGUARD_UNDO_BUDGET: dr_monitor_undo_budget",
        ],
        roles + "dr_monitor/defaults/main.yml": ["dr_monitor_undo_budget: 7"],
        roles + "dr_monitor/meta/argument_specs.yml": [
            "dr_monitor_undo_budget:\n        type: int\n        default: 7"
        ],
        roles + "dr_table_hosts/meta/argument_specs.yml": ["undo_budget:\n        type: int\n        default: 7"],
        roles + "dr_table_hosts/vars/main.yml": [],  # the renames of 0.3.0: a new row has none
        "playbooks/vars/protect_table.yml": ['dr_monitor_undo_budget: "{{ ddbguard_table.undo_budget }}"'],
        "lambda/README.md": ["| `dr_monitor_undo_budget` | `undo_budget` | `DDBGUARD_UNDO_BUDGET` | `7` |"],
        roles + "dr_monitor/README.md": ["| `dr_monitor_undo_budget` | `undo_budget` | `DDBGUARD_UNDO_BUDGET` | `7` |"],
    }
    assert sorted(expected) == sorted(rel)
    for name, needles in expected.items():
        text = generator.render(rel[name], rel[name].read_text())
        for needle in needles:
            assert needle in text, (name, needle)


def test_the_function_reads_and_checks_a_new_setting_from_its_row_alone():
    """The policy gains the field, its default, its range and its error, with no other edit."""
    program = f"""
ROW = {ROW!r}
from change_monitor import settings
settings.SETTINGS = (*settings.SETTINGS, settings.Setting(**ROW, entry="undo_budget"))
from change_monitor import config
base = {{"DDBGUARD_TABLE": "orders", "DDBGUARD_MARKER_KEY": "alias/k"}}
print(config.load_policy(base).undo_budget, config.load_policy({{**base, "DDBGUARD_UNDO_BUDGET": "12"}}).undo_budget)
try:
    config.load_policy({{**base, "DDBGUARD_UNDO_BUDGET": "100"}})
except config.PolicyError as exc:
    print(exc)
"""
    answer = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        cwd=ROOT / "collections/ansible_collections/ddbguard/dr/roles/dr_monitor/files",
        check=True,
    )
    assert answer.stdout.splitlines() == ["7 12", "DDBGUARD_UNDO_BUDGET must be 1-99, got 100"]


@pytest.mark.parametrize(
    ("entry", "error"),
    [
        ({"concurrency": 0}, "ddbguard_tables[t].concurrency must be 1-64, got 0"),
        # Since 0.3.0 a table entry's monitor keys carry the prefix; the error names the key as written.
        ({"monitor_concurrency": 0}, "ddbguard_tables[t].monitor_concurrency must be 1-64, got 0"),
        # A key the entry does not write is named in the entry's vocabulary (old names, or new).
        (
            {"scope": "key-prefix", "monitor_scope": "key-prefix", "monitor_key_prefix": ""},
            "ddbguard_tables[t].key_prefix is required when ddbguard_tables[t].scope=key-prefix",
        ),
        (
            {"monitor_scope": "key-prefix", "monitor_key_prefix": ""},
            "ddbguard_tables[t].monitor_key_prefix is required when ddbguard_tables[t].monitor_scope=key-prefix",
        ),
        (
            {"scope": "key-prefix", "key_prefix": ""},
            "ddbguard_tables[t].key_prefix is required when ddbguard_tables[t].scope=key-prefix",
        ),
        ({"protected_events": []}, "ddbguard_tables[t].protected_events must list some of INSERT, MODIFY, REMOVE"),
        ({"escalation_window_seconds": 5}, "ddbguard_tables[t].escalation_window_seconds must be 10-86400, got 5"),
        # The marker attribute is the role's, not the entry's: dr_monitor checks this one.
        ({"version_attribute": "_ddbguard_undo"}, ""),
        ({"monitor_mode": "undo+escalate"}, ""),
    ],
)
def test_a_table_entry_is_checked_by_the_same_rows_and_rules(entry, error):
    answer = subprocess.run(
        [
            sys.executable,
            "-m",
            "change_monitor.config",
            "--entries",
            json.dumps([{"name": "t", **entry}]),
            "ddbguard_tables",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT / "collections/ansible_collections/ddbguard/dr/roles/dr_monitor/files",
    )
    assert (answer.returncode, answer.stderr.strip()[: len(error)]) == (2 if error else 0, error)


def test_the_policy_has_one_field_per_row():
    fields = [f for f in config.Policy.__dataclass_fields__ if f != "marker_key"]
    assert fields == [s.name for s in settings.SETTINGS]
    assert tuple(s.env for s in settings.SETTINGS) == config.VARIABLES

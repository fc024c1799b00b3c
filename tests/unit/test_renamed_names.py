"""Renamed modules and roles keep their old names for one minor version, with a deprecation warning."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    ("old", "new"),
    [("deletion_probe", "dynamodb_deletion_probe"), ("monitor_decisions", "cloudwatchlogs_monitor_decisions")],
)
def test_the_old_name_runs_the_renamed_module_and_says_so(old, new):
    answer = subprocess.run(
        [BIN / "ansible", "localhost", "-m", f"ddbguard.dr.{old}", "-a", "region=us-east-1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_FORCE_COLOR": "0"},
    )
    out = " ".join((answer.stdout + answer.stderr).split())
    assert f"ddbguard.dr.{old} has been deprecated. Use ddbguard.dr.{new} instead." in out
    assert "removed from collection 'ddbguard.dr' version 0.4.0" in out
    # It ran the new module: the refusal is the new module's argument check, not "module not found".
    assert "couldn't resolve module" not in out.lower()
    assert "missing required arguments" in out or "requires a region" in out


def test_the_old_role_name_runs_dr_table_hosts_and_its_hosts_join_both_groups(tmp_path):
    playbook = tmp_path / "old_role.yml"
    playbook.write_text(
        """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.import_role:
        name: ddbguard.dr.dr_tables
      vars:
        dr_tables_entries: [{name: old-name-table, hash_key_name: pk}]
- hosts: ddbguard_table_hosts:&ddbguard_tables
  gather_facts: false
  tasks:
    - ansible.builtin.debug: {msg: "host {{ inventory_hostname }} mode {{ ddbguard_table.monitor_mode }}"}
"""
    )
    answer = subprocess.run(
        [BIN / "ansible-playbook", playbook],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "ANSIBLE_FORCE_COLOR": "0"},
    )
    out = " ".join(answer.stdout.split())
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "ddbguard.dr.dr_tables is renamed ddbguard.dr.dr_table_hosts" in out
    assert "host old-name-table mode undo+escalate" in out

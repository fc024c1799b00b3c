"""One contract between dr_monitor and the function: the role deploys exactly the settings
the function reads, its defaults start, and its validation is the function's own check."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from change_monitor import config
from tests.conftest import ROOT

ROLE = ROOT / "collections/ansible_collections/ddbguard/dr/roles/dr_monitor"
LOADER = DataLoader()


def trusted(data):
    """Role files' strings, trusted as templates, as Ansible trusts them when it loads a role."""
    if isinstance(data, dict):
        return {k: trusted(v) for k, v in data.items()}
    if isinstance(data, list):
        return [trusted(v) for v in data]
    return trust_as_template(data) if isinstance(data, str) else data


ROLE_VARS = trusted(yaml.safe_load((ROLE / "vars/main.yml").read_text()))
SPECS = yaml.safe_load((ROLE / "meta/argument_specs.yml").read_text())["argument_specs"]["main"]["options"]


def rendered_environment(**overrides) -> dict[str, str]:
    """The environment function.yml deploys, rendered by Ansible from the role's defaults."""
    variables = {
        **trusted(yaml.safe_load((ROLE / "defaults/main.yml").read_text())),
        **ROLE_VARS,
        "role_path": str(ROLE),
        "playbook_dir": str(ROOT),
        "dr_monitor_table_name": "orders",
        "dr_monitor_backup_vault": "ddbguard-vault",
        "dr_monitor_restore_role_arn": "arn:aws:iam::123456789012:role/ddbguard-backup",
        **overrides,
    }
    return Templar(loader=LOADER, variables=variables).template(ROLE_VARS["_dr_monitor_environment"])


def test_the_role_deploys_every_setting_the_function_reads_and_no_other():
    assert sorted(ROLE_VARS["_dr_monitor_environment"]) == sorted(config.VARIABLES)
    assert sorted(ROLE_VARS["_dr_monitor_environment_names"]) == sorted(config.VARIABLES)


def test_every_setting_is_named_after_a_documented_role_variable():
    for variable, name in ROLE_VARS["_dr_monitor_environment_names"].items():
        assert name in SPECS, f"{variable} is rendered from {name}, which argument_specs does not document"
        assert variable in config.__doc__, f"{variable} is not in config's table"


def test_the_role_defaults_start_the_function():
    policy = config.load_policy(rendered_environment())
    assert policy.mode == "undo+escalate" and policy.protected_events == frozenset({"REMOVE"})
    assert policy.table == "orders" and policy.marker_key_id == "alias/ddbguard/orders/marker"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"dr_monitor_version_attribute": "_ddbguard_undo"}, "dr_monitor_version_attribute"),
        ({"dr_monitor_marker_attribute": ""}, "dr_monitor_marker_attribute"),
        ({"dr_monitor_partition_key": ""}, "dr_monitor_partition_key"),
        ({"dr_monitor_concurrency": 0}, "dr_monitor_concurrency"),
        ({"dr_monitor_protected_events": ["DELETE"]}, "dr_monitor_protected_events"),
        ({"dr_monitor_scope": "key-prefix"}, "dr_monitor_key_prefix"),
        ({"dr_monitor_backup_vault": ""}, "dr_monitor_backup_vault"),
        ({"dr_monitor_maintenance_max_seconds": 10}, "dr_monitor_maintenance_max_seconds"),
        ({"dr_monitor_mode": "loud"}, "dr_monitor_mode"),
        ({"dr_monitor_scope": "some"}, "dr_monitor_scope"),
        ({"dr_monitor_scope": "attribute-flag"}, "dr_monitor_flag_attribute"),
        ({"dr_monitor_scope": "attribute-flag", "dr_monitor_flag_attribute": "a flag"}, "dr_monitor_flag_attribute"),
        ({"dr_monitor_version_attribute": "ver sion"}, "dr_monitor_version_attribute"),
        ({"dr_monitor_table_name": "../x"}, "dr_monitor_table_name"),
        ({"dr_monitor_table_name": ""}, "dr_monitor_table_name"),
        ({"dr_monitor_concurrency": "many"}, "dr_monitor_concurrency"),
        ({"dr_monitor_escalation_threshold": 0}, "dr_monitor_escalation_threshold"),
        ({"dr_monitor_escalation_window_seconds": 5}, "dr_monitor_escalation_window_seconds"),
        ({"dr_monitor_restore_role_arn": ""}, "dr_monitor_restore_role_arn"),
        ({"dr_monitor_audit_table": ""}, "dr_monitor_audit_table"),
        ({"dr_monitor_protected_events": []}, "dr_monitor_protected_events"),
    ],
)
def test_the_roles_check_refuses_what_the_function_refuses_naming_the_role_variable(overrides, named):
    env = rendered_environment(**overrides)
    with pytest.raises(config.PolicyError):
        config.load_policy(env)
    names = ROLE_VARS["_dr_monitor_environment_names"]
    run = subprocess.run(
        [sys.executable, "-m", "change_monitor.config", json.dumps(env), json.dumps(names)],
        cwd=ROOT / "lambda",
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert named in run.stderr and "DDBGUARD_" not in run.stderr


def test_an_unknown_setting_is_refused():
    with pytest.raises(config.PolicyError, match="unknown setting DDBGUARD_PROTECTED_EVENT\\b"):
        config.load_policy({**rendered_environment(), "DDBGUARD_PROTECTED_EVENT": "MODIFY"})

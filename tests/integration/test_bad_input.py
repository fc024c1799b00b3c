"""Bad input to site.yml is refused before any AWS call, with a message naming the variable.

Each case runs site.yml against a fresh local AWS and checks that nothing was created.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import resources

pytestmark = pytest.mark.integration

OK = {"name": "bad-input-demo", "hash_key_name": "pk"}


def tables(*entries):
    return {"ddbguard_tables": list(entries)}


CASES = {
    "table name AWS rejects": (tables({"name": "x", "hash_key_name": "pk"}), "ddbguard_tables[x].name must be 3-255"),
    "table name with a path in it": (tables({"name": "../x", "hash_key_name": "pk"}), "ddbguard_tables[../x].name"),
    "unknown event type": (
        tables(dict(OK, protected_events=["DELETE"])),
        "value of protected_events must be one or more of: REMOVE, MODIFY, INSERT. Got no match for: DELETE"
        " found in ddbguard_tables[bad-input-demo]",
    ),
    "unknown key in a table entry": (
        tables(dict(OK, protected_event=["REMOVE"])),
        "ddbguard_tables[bad-input-demo].protected_event.",
    ),
    "two tables with the same name": (
        tables(OK, OK),
        "ddbguard_tables lists these tables more than once: bad-input-demo",
    ),
    "missing key schema for a table to create": (
        tables({"name": "bad-input-demo"}),
        "ddbguard_tables[bad-input-demo].hash_key_name is required",
    ),
    "empty partition key for a table to create": (
        tables(dict(OK, hash_key_name="")),
        "ddbguard_tables[bad-input-demo].hash_key_name is required",
    ),
    "iterator-age threshold that is not a number": (
        tables(dict(OK, rpo_seconds="soon")),
        "argument 'rpo_seconds' is of type str found in 'ddbguard_tables[bad-input-demo]'",
    ),
    "key-prefix scope without a prefix": (
        tables(dict(OK, scope="key-prefix")),
        "bad-input-demo].key_prefix is required",
    ),
    "PITR period over 35 days": (
        tables(dict(OK, pitr_recovery_period_in_days=40)),
        "pitr_recovery_period_in_days must be 1-35",
    ),
    "version attribute that is the marker attribute": (
        tables(dict(OK, version_attribute="_ddbguard_undo")),
        "The change monitor would not start: dr_monitor_version_attribute must differ from dr_monitor_marker_attribute",
    ),
    "misspelt monitor setting": (
        dict(tables(OK), dr_monitor_marker_attribute=""),
        "The change monitor would not start: dr_monitor_marker_attribute must be an attribute name",
    ),
    "concurrency 0": (tables(dict(OK, concurrency=0)), "bad-input-demo].concurrency must be 1-64"),
    "parallelization factor over 10": (
        tables(dict(OK, parallelization_factor=11)),
        "bad-input-demo].parallelization_factor must be 1-10, got 11",
    ),
    "schedule that is neither cron nor rate": (
        dict(tables(OK), dr_backup_schedule="every 12 hours"),
        "dr_backup_schedule must be an AWS Backup cron expression",
    ),
    "retention 0": (dict(tables(OK), dr_backup_retention_days=0), "dr_backup_retention_days must be 1 or more"),
    "retention below the cold-storage move plus 90 days": (
        dict(tables(OK), dr_backup_cold_storage_after_days=30, dr_backup_retention_days=100),
        "at least\n90 more than dr_backup_cold_storage_after_days",
    ),
    "start window under an hour": (
        dict(tables(OK), dr_backup_start_window_minutes=15),
        "dr_backup_start_window_minutes must be 60 or more",
    ),
    "DR region equal to the primary one": (
        dict(tables(OK), dr_backup_dr_region="us-east-1"),
        "dr_backup_dr_region must be an AWS region other than dr_backup_region",
    ),
    "DR region that does not exist": (
        dict(tables(OK), dr_backup_dr_region="eu-nowhere-1"),
        "dr_backup_dr_region must be an AWS region other than dr_backup_region",
    ),
    "compliance lock without confirmation": (
        dict(tables(OK), dr_backup_vault_lock_mode="compliance"),
        "To confirm, set\ndr_backup_vault_lock_confirm to the vault's name",
    ),
    "lock minimum above its maximum": (
        dict(tables(OK), dr_backup_vault_lock_mode="governance", dr_backup_vault_lock_min_retention_days=60),
        "dr_backup_vault_lock_min_retention_days (60)",
    ),
    "break-glass principal that is not an ARN": (
        dict(tables(OK), dr_backup_break_glass_principal_arns=["admin"]),
        "dr_backup_break_glass_principal_arns must be IAM role or user ARNs",
    ),
    "alarm e-mail that is not an address": (
        dict(tables(OK), dr_alerts_emails=["ops"]),
        "dr_alerts_emails must be e-mail addresses",
    ),
    "function name with a space": (
        dict(tables(OK), dr_monitor_function_name="change monitor"),
        "dr_monitor_function_name must be 1-64 characters of A-Z a-z 0-9 _ - (got change monitor;",
    ),
    "monitor region that does not exist": (
        dict(tables(OK), dr_monitor_region="eu-nowhere-1"),
        "dr_monitor_region must be an AWS region such as eu-west-1 (got eu-nowhere-1)",
    ),
    "alarm action that is not an SNS topic": (
        dict(tables(OK), dr_monitor_alarm_actions=["mailto:ops@example.com"]),
        "dr_monitor_alarm_actions must be SNS topic ARNs (got ['mailto:ops@example.com'])",
    ),
    "tags as a string": (
        tables(dict(OK, tags="env=prod")),
        'bad-input-demo].tags must be a mapping of tag names to values (such as {env: prod}), got "env=prod"',
    ),
    "canary interval under 5 minutes": (
        dict(tables(OK), dr_monitor_canary_interval_minutes=4),
        "dr_monitor_canary_interval_minutes must be 5-60, or whole hours up to 720",
    ),
    "canary interval over an hour and not whole hours": (
        dict(tables(OK), dr_monitor_canary_interval_minutes=90),
        "dr_monitor_canary_interval_minutes must be 5-60, or whole hours up to 720",
    ),
    "dashboard name AWS rejects": (
        dict(tables(OK), dr_dashboard_name="my dashboard"),
        "dr_dashboard_name must be 1-255 characters of A-Z a-z 0-9 - _",
    ),
    "restore test schedule neither cron nor rate": (
        dict(tables(OK), dr_restore_testing_schedule="daily"),
        "dr_restore_testing_schedule must be cron(...) or rate(...), got daily",
    ),
    "restore test validation window over 168 hours": (
        dict(tables(OK), dr_restore_testing_validation_window_hours=169),
        "dr_restore_testing_validation_window_hours must be 1-168",
    ),
    "restore test validation window 0, which leaves no time to validate": (
        dict(tables(OK), dr_restore_testing_validation_window_hours=0),
        "dr_restore_testing_validation_window_hours must be 1-168 (AWS allows 0, which deletes the restored table",
    ),
    "restore test selection over 30 ARNs built by hand": (
        dict(
            tables(OK),
            dr_restore_testing_selections=[
                {
                    "name": "by_hand",
                    "protected_resource_arns": [
                        f"arn:aws:dynamodb:us-east-1:000000000000:table/t{i}" for i in range(31)
                    ],
                }
            ],
        ),
        "dr_restore_testing_selections[0] must have a name of 1-50 letters, digits or underscores and 1-30"
        " protected_resource_arns (AWS's limit), got by_hand with 31 ARNs",
    ),
    "restore testing plan name AWS rejects": (
        dict(tables(OK), dr_restore_testing_plan_name="my-plan"),
        "dr_restore_testing_plan_name must be 1-50 letters, digits or underscores (AWS Backup), got my-plan",
    ),
    "vault name AWS rejects": (
        dict(tables(OK), dr_backup_vault_name="my vault"),
        "dr_backup_vault_name must be 2-50 characters",
    ),
}


@pytest.fixture(scope="module")
def empty(local_aws):
    before = resources(local_aws)
    assert all(not names for kind, names in before.items() if kind != "roles"), before
    return before


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_before_any_aws_call(local_aws, empty, case):
    extra, message = CASES[case]
    run = local_aws.playbook("site.yml", "-e", json.dumps(extra), check=False)
    assert run.returncode != 0, f"{case}: site.yml accepted it"
    flat = " ".join(run.stdout.split())
    assert " ".join(message.split()) in flat, f"{case}: {run.stdout[-2500:]}"
    assert resources(local_aws) == empty, f"{case}: something was created"


# A refusal names the rule the value broke, never one it satisfies (a message listing every
# rule led with "table name must be 3-255 characters" for my.table, which is one).
NAMED_FIRST = {
    "a table name with a dot makes a function name Lambda refuses": (
        tables({"name": "my.table", "hash_key_name": "pk"}),
        "dr_monitor_function_name must be 1-64 characters of A-Z a-z 0-9 _ - (got my.table-change-monitor;",
        ["dr_monitor_table_name must be", "dr_monitor_region must be", "dr_monitor_audit_table must be"],
    ),
    "one trigger setting out of range": (
        dict(tables(OK), dr_monitor_timeout=901),
        "Out of range: dr_monitor_timeout must be 1-900 s (got 901)",
        ["dr_monitor_memory_size must be", "dr_monitor_batch_size must be"],
    ),
    "a schedule that is not cron": (
        dict(tables(OK), dr_backup_schedule="daily"),
        "dr_backup_schedule must be an AWS Backup cron expression",
        ["dr_backup_plan_name must be", "dr_backup_retention_days must be"],
    ),
}


@pytest.mark.parametrize("case", sorted(NAMED_FIRST))
def test_a_refusal_names_the_rule_broken_and_no_other(local_aws, empty, case):
    extra, message, not_named = NAMED_FIRST[case]
    run = local_aws.playbook("site.yml", "-e", json.dumps(extra), check=False)
    assert run.returncode != 0, f"{case}: site.yml accepted it"
    flat = " ".join(run.stdout.split())
    assert " ".join(message.split()) in flat, f"{case}: {run.stdout[-2500:]}"
    for text in not_named:
        assert text not in flat, f"{case}: the message names a rule the value satisfies: {text}"
    assert resources(local_aws) == empty, f"{case}: something was created"


def test_the_first_error_line_names_the_variable_and_what_it_allows(local_aws, empty):
    """The operator reads the error, not the contract: no dump of the argument spec."""
    bad = tables(OK, dict(OK, name="bad-input-other", monitor_protected_events=["DELETE"]))
    run = local_aws.playbook("site.yml", "-e", json.dumps(bad), check=False)
    assert run.returncode != 0
    lines = run.stdout.splitlines()
    first = next(i for i, text in enumerate(lines) if "[ERROR]" in text or "FAILED!" in text)
    assert "monitor_protected_events must be one or more of: REMOVE, MODIFY, INSERT" in lines[first], lines[first]
    assert "ddbguard_tables[bad-input-other]" in lines[first], lines[first]
    assert "argument_spec" not in run.stdout, run.stdout[-3000:]
    assert len(lines) < 60, f"{len(lines)} lines of output for one bad value"
    assert resources(local_aws) == empty

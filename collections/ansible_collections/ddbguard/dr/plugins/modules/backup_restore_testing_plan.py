#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup_restore_testing_plan
version_added: 0.3.0
short_description: An AWS Backup restore testing plan and its selections
description:
  - Makes, updates or deletes, idempotently, an AWS Backup restore testing plan (its schedule and the rule
    that picks the recovery point to restore) and exactly the selections given (each at most 30
    protected resource ARNs, with the role AWS Backup restores with, the restore metadata overrides
    and the validation window). Selections not given are deleted; the plan is deleted after them.
  - Every parameter is checked before any AWS call (names of letters, digits and underscores, at
    most 50; a schedule C(cron(...)) or C(rate(...)); windows within AWS's ranges; at most 30 ARNs
    in a selection), so a bad one is refused naming it, with nothing made.
  - In check mode nothing is changed; with diff, the plan and selections before and after are shown.
  - Fills a gap, since amazon.aws and community.aws have no module for restore testing.
author:
  - ddbguard maintainers (@ddbguard)
options:
  name:
    description: The plan's name (1-50 letters, digits or underscores).
    type: str
    required: true
  schedule_expression:
    description: When restore tests start, C(cron(...)) or C(rate(...)).
    type: str
    default: cron(0 5 ? * * *)
  schedule_expression_timezone:
    description: Time zone of O(schedule_expression).
    type: str
    default: Etc/UTC
  start_window_hours:
    description: Hours after the scheduled time within which a test starts, 1-168.
    type: int
    default: 8
  algorithm:
    description: Which recovery point is restored.
    type: str
    choices: [LATEST_WITHIN_WINDOW, RANDOM_WITHIN_WINDOW]
    default: LATEST_WITHIN_WINDOW
  include_vaults:
    description: ARNs of the vaults whose recovery points are tested.
    type: list
    elements: str
    default: []
  selection_window_days:
    description: How old, in days, a recovery point may be to be picked, 1-365.
    type: int
    default: 1
  selections:
    description: The plan's selections; each of C(name), C(protected_resource_arns) (1-30),
      C(iam_role_arn), C(validation_window_hours) (0-168) and C(restore_metadata_overrides).
    type: list
    elements: dict
    default: []
  state:
    description: Whether the plan exists.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Test a restore of each protected table every day
  ddbguard.dr.backup_restore_testing_plan:
    name: ddbguard_restore_test
    include_vaults: ["arn:aws:backup:eu-west-1:111122223333:backup-vault:ddbguard-vault"]
    selections:
      - name: ddbguard_tables_1
        protected_resource_arns: ["arn:aws:dynamodb:eu-west-1:111122223333:table/orders"]
        iam_role_arn: arn:aws:iam::111122223333:role/ddbguard-backup
        validation_window_hours: 24
        restore_metadata_overrides: {encryptionType: KMS, kmsMasterKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/1"}
"""

RETURN = r"""
plan_arn:
  description: The plan's ARN (empty when absent).
  returned: always
  type: str
plan:
  description: The plan and its selections after the run, in the module's terms (empty when absent).
  returned: always
  type: dict
"""

import re
from typing import Any, Optional

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardErrorHandler

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    schedule_expression=dict(type="str", default="cron(0 5 ? * * *)"),
    schedule_expression_timezone=dict(type="str", default="Etc/UTC"),
    start_window_hours=dict(type="int", default=8),
    algorithm=dict(
        type="str", choices=["LATEST_WITHIN_WINDOW", "RANDOM_WITHIN_WINDOW"], default="LATEST_WITHIN_WINDOW"
    ),
    include_vaults=dict(type="list", elements="str", default=[]),
    selection_window_days=dict(type="int", default=1),
    selections=dict(type="list", elements="dict", default=[]),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
SUPPORTS_CHECK_MODE = True
NAME = re.compile(r"^[A-Za-z0-9_]{1,50}$")
SCHEDULE = re.compile(r"^(cron|rate)\(.+\)$")
MAX_ARNS = 30
SELECTION_KEYS = {
    "name",
    "protected_resource_arns",
    "iam_role_arn",
    "validation_window_hours",
    "restore_metadata_overrides",
}


def validate(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters that the argument spec cannot express (empty when valid)."""
    problems = []
    if not NAME.match(params["name"] or ""):
        problems.append(f"name must be 1-50 letters, digits or underscores, got {params['name']!r}")
    if params["state"] == "absent":
        return problems
    if not SCHEDULE.match(params["schedule_expression"] or ""):
        problems.append(f"schedule_expression must be cron(...) or rate(...), got {params['schedule_expression']!r}")
    if not 1 <= params["start_window_hours"] <= 168:
        problems.append(f"start_window_hours must be 1-168, got {params['start_window_hours']}")
    if not 1 <= params["selection_window_days"] <= 365:
        problems.append(f"selection_window_days must be 1-365, got {params['selection_window_days']}")
    if not params["include_vaults"]:
        problems.append("include_vaults must name at least one vault ARN")
    names = set()
    for index, selection in enumerate(params["selections"]):
        where = f"selections[{index}]"
        unknown = sorted(set(selection) - SELECTION_KEYS)
        if unknown:
            problems.append(f"{where} has unknown keys {unknown}; allowed: {sorted(SELECTION_KEYS)}")
        name = str(selection.get("name", ""))
        if not NAME.match(name):
            problems.append(f"{where}.name must be 1-50 letters, digits or underscores, got {name!r}")
        if name in names:
            problems.append(f"{where}.name {name!r} is given twice")
        names.add(name)
        arns = selection.get("protected_resource_arns") or []
        if not isinstance(arns, list) or not 1 <= len(arns) <= MAX_ARNS:
            count = len(arns) if isinstance(arns, list) else arns
            problems.append(f"{where}.protected_resource_arns must hold 1-{MAX_ARNS} ARNs (AWS's limit), got {count}")
        if not str(selection.get("iam_role_arn", "")).startswith("arn:"):
            problems.append(f"{where}.iam_role_arn must be a role ARN")
        hours = selection.get("validation_window_hours", 24)
        if not isinstance(hours, int) or isinstance(hours, bool) or not 0 <= hours <= 168:
            problems.append(f"{where}.validation_window_hours must be 0-168, got {hours!r}")
    return problems


def wanted_plan(params: dict[str, Any]) -> dict[str, Any]:
    return {
        "ScheduleExpression": params["schedule_expression"],
        "ScheduleExpressionTimezone": params["schedule_expression_timezone"],
        "StartWindowHours": params["start_window_hours"],
        "RecoveryPointSelection": {
            "Algorithm": params["algorithm"],
            "IncludeVaults": sorted(params["include_vaults"]),
            "RecoveryPointTypes": ["SNAPSHOT"],
            "SelectionWindowDays": params["selection_window_days"],
        },
    }


def wanted_selection(selection: dict[str, Any]) -> dict[str, Any]:
    return {
        "ProtectedResourceType": "DynamoDB",
        "ProtectedResourceArns": sorted(selection["protected_resource_arns"]),
        "IamRoleArn": selection["iam_role_arn"],
        "ValidationWindowHours": int(selection.get("validation_window_hours", 24)),
        "RestoreMetadataOverrides": {k: str(v) for k, v in (selection.get("restore_metadata_overrides") or {}).items()},
    }


PLAN_KEYS = ("ScheduleExpression", "ScheduleExpressionTimezone", "StartWindowHours", "RecoveryPointSelection")
SELECTION_FIELDS = (
    "ProtectedResourceType",
    "ProtectedResourceArns",
    "IamRoleArn",
    "ValidationWindowHours",
    "RestoreMetadataOverrides",
)


def _plan_view(plan: dict[str, Any]) -> dict[str, Any]:
    view = {k: plan.get(k) for k in PLAN_KEYS}
    selection = dict(view.get("RecoveryPointSelection") or {})
    selection["IncludeVaults"] = sorted(selection.get("IncludeVaults") or [])
    selection.setdefault("RecoveryPointTypes", ["SNAPSHOT"])
    selection.pop("ExcludeVaults", None)
    view["RecoveryPointSelection"] = selection
    view.setdefault("ScheduleExpressionTimezone", "Etc/UTC")
    return view


def _selection_view(selection: dict[str, Any]) -> dict[str, Any]:
    view = {k: selection.get(k) for k in SELECTION_FIELDS}
    view["ProtectedResourceArns"] = sorted(view["ProtectedResourceArns"] or [])
    view["RestoreMetadataOverrides"] = dict(view["RestoreMetadataOverrides"] or {})
    return view


@DdbguardErrorHandler.common_error_handler("read the restore testing plan")
@AWSRetry.jittered_backoff()
def read(client: Any, name: str) -> Optional[dict[str, Any]]:
    try:
        plan = client.get_restore_testing_plan(RestoreTestingPlanName=name)["RestoreTestingPlan"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    selections = {}
    listed = client.list_restore_testing_selections(RestoreTestingPlanName=name).get("RestoreTestingSelections", [])
    for item in listed:
        got = client.get_restore_testing_selection(
            RestoreTestingPlanName=name, RestoreTestingSelectionName=item["RestoreTestingSelectionName"]
        )["RestoreTestingSelection"]
        selections[item["RestoreTestingSelectionName"]] = _selection_view(got)
    return {"arn": plan.get("RestoreTestingPlanArn", ""), "plan": _plan_view(plan), "selections": selections}


@DdbguardErrorHandler.common_error_handler("change the restore testing plan")
@AWSRetry.jittered_backoff()
def apply(client: Any, name: str, before: Optional[dict[str, Any]], after: Optional[dict[str, Any]]) -> None:
    """Moves the plan from ``before`` to ``after`` (None: absent), selections first when deleting."""
    old = (before or {}).get("selections", {})
    new = (after or {}).get("selections", {})
    for gone in sorted(set(old) - set(new)):
        client.delete_restore_testing_selection(RestoreTestingPlanName=name, RestoreTestingSelectionName=gone)
    if after is None:
        if before is not None:
            client.delete_restore_testing_plan(RestoreTestingPlanName=name)
        return
    if before is None:
        client.create_restore_testing_plan(RestoreTestingPlan={"RestoreTestingPlanName": name, **after["plan"]})
    elif before["plan"] != after["plan"]:
        client.update_restore_testing_plan(RestoreTestingPlanName=name, RestoreTestingPlan=after["plan"])
    for selection_name, wanted in sorted(new.items()):
        if selection_name not in old:
            client.create_restore_testing_selection(
                RestoreTestingPlanName=name,
                RestoreTestingSelection={"RestoreTestingSelectionName": selection_name, **wanted},
            )
        elif old[selection_name] != wanted:
            update = {k: v for k, v in wanted.items() if k != "ProtectedResourceType"}
            client.update_restore_testing_selection(
                RestoreTestingPlanName=name, RestoreTestingSelectionName=selection_name, RestoreTestingSelection=update
            )


def strip(doc: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
    """The plan and its selections without the ARN (what is compared and shown)."""
    return None if doc is None else {k: v for k, v in doc.items() if k != "arn"}


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    client = module.client("backup")
    params = module.params
    name = params["name"]
    before = read(client, name)
    after: Optional[dict[str, Any]] = None
    if params["state"] == "present":
        after = {
            "arn": (before or {}).get("arn", ""),
            "plan": _plan_view(wanted_plan(params)),
            "selections": {s["name"]: _selection_view(wanted_selection(s)) for s in params["selections"]},
        }
    changed = strip(before) != strip(after)
    if changed and not module.check_mode:
        apply(client, name, before, after)
        after = read(client, name)
    result: dict[str, Any] = dict(changed=changed, plan_arn=(after or {}).get("arn", ""), plan=strip(after) or {})
    if module._diff:
        result["diff"] = dict(before=strip(before) or {}, after=strip(after) or {})
    return result


def main() -> None:
    run_module(run, validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

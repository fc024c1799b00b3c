#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dynamodb_point_in_time_restore
version_added: 0.1.0
short_description: Restore a DynamoDB table to a point in time into a new table
description:
  - Restores O(source_table) as it was at O(restore_date_time), or at its latest
    restorable time, into the new table O(target_table). Then waits until that table is
    C(ACTIVE).
  - A restored table comes without the stream, PITR, deletion protection, TTL and tags of
    its source. With O(copy_source_settings=true), the module re-applies the source's
    settings to the new table, one change at a time, as
    M(ddbguard.dr.dynamodb_table_protection) does.
  - Fills a gap, since no amazon.aws or community.aws module restores a table to a point in time.
  - Idempotent. When O(target_table) already exists, nothing is restored. Only the
    settings are brought in line (with O(copy_source_settings=true)).
  - The time must fall within the source's restorable window
    (C(EarliestRestorableDateTime) to C(LatestRestorableDateTime)). A time outside it is
    refused with both bounds before any restore starts.
author:
  - ddbguard maintainers (@ddbguard)
options:
  source_table:
    description: Name of the table to restore from (PITR must be on).
    type: str
    required: true
  target_table:
    description: Name of the new table.
    type: str
    required: true
  restore_date_time:
    description: ISO 8601 time to restore to, for example C(2026-11-24T10:14:59Z).
    type: str
  use_latest_restorable_time:
    description: Restore to the latest restorable time instead of O(restore_date_time).
    type: bool
    default: false
  billing_mode_override:
    description: Billing mode of the new table.
    type: str
    choices: [PAY_PER_REQUEST, PROVISIONED]
  sse_kms_key_arn:
    description: Customer managed KMS key for the new table; the AWS-owned key when not set.
    type: str
  copy_source_settings:
    description: Re-apply the source's stream, PITR, deletion protection, TTL and tags to the new table.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for the table and for each settings change.
    type: int
    default: 7200
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Restore orders as it was one second before the incident
  ddbguard.dr.dynamodb_point_in_time_restore:
    source_table: orders
    target_table: orders-pitr-20261124
    restore_date_time: "2026-11-24T10:14:59Z"
    copy_source_settings: true
  register: pitr
"""

RETURN = r"""
table_arn:
  description: ARN of the restored table; null in check mode.
  returned: always
  type: str
restore_date_time:
  description: The time restored to (ISO 8601), or C(latest).
  returned: always
  type: str
restored:
  description: Whether a restore was started in this run.
  returned: always
  type: bool
changes:
  description: Settings re-applied to the new table, in order.
  returned: always
  type: list
  elements: str
"""

import datetime
from typing import Any, Optional

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ddbguard.dr.plugins.module_utils import dynamodb as ddb
from ansible_collections.ddbguard.dr.plugins.module_utils import table_protection as tp
from ansible_collections.ddbguard.dr.plugins.module_utils.common import table_name_problem
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardAWSError
from ansible_collections.ddbguard.dr.plugins.module_utils.times import parse_time
from ansible_collections.ddbguard.dr.plugins.module_utils.waiters import wait_table_active

ARGUMENT_SPEC = dict(
    source_table=dict(type="str", required=True),
    target_table=dict(type="str", required=True),
    restore_date_time=dict(type="str"),
    use_latest_restorable_time=dict(type="bool", default=False),
    billing_mode_override=dict(type="str", choices=["PAY_PER_REQUEST", "PROVISIONED"]),
    sse_kms_key_arn=dict(type="str", no_log=False),
    copy_source_settings=dict(type="bool", default=False),
    wait_timeout=dict(type="int", default=7200),
)
SUPPORTS_CHECK_MODE = True


def validate(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters that the argument spec cannot express (empty when valid)."""
    problems = table_name_problem("source_table", params["source_table"])
    problems += table_name_problem("target_table", params["target_table"])
    if params["source_table"] == params["target_table"]:
        problems.append("target_table must differ from source_table: a restore always creates a new table")
    if bool(params["restore_date_time"]) == params["use_latest_restorable_time"]:
        problems.append("give exactly one of restore_date_time and use_latest_restorable_time=true")
    if params["wait_timeout"] < 1:
        problems.append("wait_timeout must be at least 1 second")
    if params["restore_date_time"]:
        try:
            parse_time(params["restore_date_time"], "restore_date_time")
        except ValueError as err:
            problems.append(str(err))
    return problems


def check_window(client: Any, source: str, moment: Optional[datetime.datetime]) -> None:
    """Refuse a time outside the source's restorable window, naming the window."""
    description = ddb.describe_continuous_backups(client, source).get("PointInTimeRecoveryDescription") or {}
    if description.get("PointInTimeRecoveryStatus") != "ENABLED":
        raise DdbguardAWSError(message=f"Point-in-time recovery is not enabled on {source}")
    earliest, latest = description.get("EarliestRestorableDateTime"), description.get("LatestRestorableDateTime")
    if moment is not None and earliest and latest and not earliest <= moment <= latest:
        raise DdbguardAWSError(
            message=f"restore_date_time {moment.isoformat()} is outside the restorable window of "
            f"{source}: {earliest.isoformat()} to {latest.isoformat()}"
        )


def restore_request(params: dict[str, Any], moment: Optional[datetime.datetime]) -> dict[str, Any]:
    request: dict[str, Any] = dict(SourceTableName=params["source_table"], TargetTableName=params["target_table"])
    if moment is None:
        request["UseLatestRestorableTime"] = True
    else:
        request["RestoreDateTime"] = moment
    if params["billing_mode_override"]:
        request["BillingModeOverride"] = params["billing_mode_override"]
    if params["sse_kms_key_arn"]:
        request["SSESpecificationOverride"] = {
            "Enabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": params["sse_kms_key_arn"],
        }
    return request


def source_settings_plan(client: Any, source: str, target: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Steps that give the target the source's protection settings (SSE is set at restore), and their diff."""
    _table, source_settings = ddb.read_settings(client, None, source, with_sse=False)
    _table, target_settings = ddb.read_settings(client, None, target, with_sse=False)
    desired = dict.fromkeys(tp.SETTING_KEYS)
    for key in tp.SETTING_KEYS:
        if not key.startswith("sse_"):
            desired[key] = source_settings[key]
    if not source_settings["ttl_enabled"] and not target_settings["ttl_enabled"]:
        desired["ttl_enabled"] = None
    try:
        steps = tp.plan(target, target_settings, desired, allow_stream_replacement=False)
    except tp.PlanError as err:
        raise DdbguardAWSError(message=f"Table {target}: {err}") from None
    return steps, dict(before=target_settings, after=tp.predicted_settings(target_settings, desired))


def missing_tags(client: Any, source: str, target: str) -> dict[str, str]:
    source_tags = ddb.list_tags(client, ddb.describe_table(client, source)["TableArn"])
    target_tags = ddb.list_tags(client, ddb.describe_table(client, target)["TableArn"])
    return {k: v for k, v in source_tags.items() if target_tags.get(k) != v}


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    source, target = params["source_table"], params["target_table"]
    moment = parse_time(params["restore_date_time"], "restore_date_time") if params["restore_date_time"] else None
    client = module.client("dynamodb")
    restored = False
    when = moment.isoformat() if moment else "latest"

    if ddb.find_table(client, target) is None:
        check_window(client, source, moment)
        if module.check_mode:
            return dict(changed=True, restored=True, table_arn=None, restore_date_time=when, changes=[])
        ddb.restore_table_to_point_in_time(client, restore_request(params, moment))
        wait_table_active(client, target, params["wait_timeout"])
        restored = True

    changes: list[str] = []
    diff = None
    if params["copy_source_settings"]:
        steps, diff = source_settings_plan(client, source, target)
        tags = missing_tags(client, source, target)
        changes = [s["description"] for s in steps] + [f"tag {k}" for k in sorted(tags)]
        if not module.check_mode:
            ddb.apply_steps(client, steps, target, params["wait_timeout"])
            if tags:
                ddb.tag_table(client, ddb.describe_table(client, target)["TableArn"], tags)
    table_arn = ddb.describe_table(client, target)["TableArn"] if not module.check_mode or not restored else None
    result = dict(
        changed=restored or bool(changes),
        restored=restored,
        table_arn=table_arn,
        restore_date_time=when,
        changes=changes,
    )
    if module._diff and diff is not None:
        result["diff"] = diff
    return result


def main() -> None:
    run_module(run, validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

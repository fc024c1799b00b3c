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
  - ddbguard maintainers
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

try:
    from botocore.exceptions import BotoCoreError, ClientError, WaiterError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.waiter import custom_waiter_config
from ansible_collections.ddbguard.dr.plugins.module_utils import table_protection as tp
from ansible_collections.ddbguard.dr.plugins.module_utils.dynamodb import (
    TABLE_NAME,
    apply_steps,
    describe_continuous_backups,
    describe_table,
    list_tags,
    read_settings,
)

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


def validate(module):
    p = module.params
    for option in ("source_table", "target_table"):
        if not TABLE_NAME.match(p[option]):
            module.fail_json(msg=f"{option} must be 3-255 characters of A-Z a-z 0-9 _ . -, got {p[option]!r}")
    if p["source_table"] == p["target_table"]:
        module.fail_json(msg="target_table must differ from source_table: a restore always creates a new table")
    if bool(p["restore_date_time"]) == p["use_latest_restorable_time"]:
        module.fail_json(msg="give exactly one of restore_date_time and use_latest_restorable_time=true")
    if p["wait_timeout"] < 1:
        module.fail_json(msg="wait_timeout must be at least 1 second")
    if not p["restore_date_time"]:
        return None
    try:
        moment = datetime.datetime.fromisoformat(p["restore_date_time"].replace("Z", "+00:00"))
    except ValueError:
        module.fail_json(msg=f"restore_date_time must be ISO 8601, got {p['restore_date_time']!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def table_exists(module, client, name):
    try:
        client.describe_table(aws_retry=True, TableName=name)
        return True
    except is_boto3_error_code("ResourceNotFoundException"):
        return False
    except (BotoCoreError, ClientError) as err:  # pylint: disable=duplicate-except
        module.fail_json_aws(err, msg=f"Failed to describe table {name}")


def check_window(module, client, moment):
    """Refuse a time outside the source's restorable window, naming the window."""
    pitr = describe_continuous_backups(module, client, module.params["source_table"])
    description = pitr.get("PointInTimeRecoveryDescription") or {}
    if description.get("PointInTimeRecoveryStatus") != "ENABLED":
        module.fail_json(msg=f"Point-in-time recovery is not enabled on {module.params['source_table']}")
    earliest, latest = description.get("EarliestRestorableDateTime"), description.get("LatestRestorableDateTime")
    if moment is not None and earliest and latest and not earliest <= moment <= latest:
        module.fail_json(
            msg=f"restore_date_time {moment.isoformat()} is outside the restorable window of "
            f"{module.params['source_table']}: {earliest.isoformat()} to {latest.isoformat()}"
        )


def restore(module, client, moment):
    p = module.params
    request = dict(SourceTableName=p["source_table"], TargetTableName=p["target_table"])
    if moment is None:
        request["UseLatestRestorableTime"] = True
    else:
        request["RestoreDateTime"] = moment
    if p["billing_mode_override"]:
        request["BillingModeOverride"] = p["billing_mode_override"]
    if p["sse_kms_key_arn"]:
        request["SSESpecificationOverride"] = {
            "Enabled": True,
            "SSEType": "KMS",
            "KMSMasterKeyId": p["sse_kms_key_arn"],
        }
    try:
        client.restore_table_to_point_in_time(aws_retry=True, **request)
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"Failed to restore {p['source_table']} to {p['target_table']}")
    try:
        config = custom_waiter_config(timeout=p["wait_timeout"], default_pause=5)
        client.get_waiter("table_exists").wait(TableName=p["target_table"], WaiterConfig=config)
    except WaiterError as err:
        module.fail_json_aws(err, msg=f"Table {p['target_table']} did not become ACTIVE")


def source_settings_plan(module, client):
    """Steps that give the target the source's protection settings (SSE is set at restore), and their diff."""
    p = module.params
    _, source = read_settings(module, client, None, p["source_table"], with_sse=False)
    _, target = read_settings(module, client, None, p["target_table"], with_sse=False)
    desired = dict.fromkeys(tp.SETTING_KEYS)
    for key in tp.SETTING_KEYS:
        if not key.startswith("sse_"):
            desired[key] = source[key]
    if not source["ttl_enabled"] and not target["ttl_enabled"]:
        desired["ttl_enabled"] = None
    try:
        steps = tp.plan(p["target_table"], target, desired, allow_stream_replacement=False)
    except tp.PlanError as err:
        module.fail_json(msg=f"Table {p['target_table']}: {err}")
    return steps, dict(before=target, after=tp.predicted_settings(target, desired))


def missing_tags(module, client):
    p = module.params
    source = list_tags(module, client, describe_table(module, client, p["source_table"])["TableArn"])
    target = list_tags(module, client, describe_table(module, client, p["target_table"])["TableArn"])
    return {k: v for k, v in source.items() if target.get(k) != v}


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    moment = validate(module)
    p = module.params
    client = module.client("dynamodb", retry_decorator=AWSRetry.jittered_backoff())
    restored = False
    when = moment.isoformat() if moment else "latest"

    if not table_exists(module, client, p["target_table"]):
        check_window(module, client, moment)
        if module.check_mode:
            module.exit_json(changed=True, restored=True, table_arn=None, restore_date_time=when, changes=[])
        restore(module, client, moment)
        restored = True

    changes = []
    diff = None
    if p["copy_source_settings"]:
        steps, diff = source_settings_plan(module, client)
        tags = missing_tags(module, client)
        changes = [s["description"] for s in steps] + [f"tag {k}" for k in sorted(tags)]
        if not module.check_mode:
            apply_steps(module, client, steps, p["target_table"], p["wait_timeout"])
            if tags:
                arn = describe_table(module, client, p["target_table"])["TableArn"]
                try:
                    client.tag_resource(
                        aws_retry=True, ResourceArn=arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
                    )
                except (BotoCoreError, ClientError) as err:
                    module.fail_json_aws(err, msg=f"Failed to tag {p['target_table']}")
    table_arn = (
        describe_table(module, client, p["target_table"])["TableArn"] if not module.check_mode or not restored else None
    )
    result = dict(
        changed=restored or bool(changes),
        restored=restored,
        table_arn=table_arn,
        restore_date_time=when,
        changes=changes,
    )
    if module._diff and diff is not None:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dynamodb_table_protection
version_added: 0.1.0
short_description: Set the protection settings of an existing DynamoDB table
description:
  - Turns on or off, on an existing table, the settings that disaster recovery depends on
    and that C(community.aws.dynamodb_table) cannot set; it fills that gap.
    The settings are the stream and its view type, point-in-time recovery (PITR) and
    its recovery period, deletion protection, encryption at rest (AWS owned, AWS
    managed or a customer managed KMS key), and the TTL attribute.
  - Create the table itself with C(community.aws.dynamodb_table), then use this module.
  - An option that is not set is left as it is.
  - DynamoDB accepts one table update at a time, so the module applies one change,
    waits for the table to be C(ACTIVE) again, then applies the next.
  - Changing the view type of an enabled stream disables the stream and enables a new
    one with a new ARN. Consumers of the old stream stop receiving records, so this is
    only done when O(stream.allow_replacement=true), and it is reported in RV(stream_replaced).
author:
  - ddbguard maintainers (@ddbguard)
options:
  name:
    description: Name of the table.
    type: str
    required: true
  stream:
    description: DynamoDB Streams settings.
    type: dict
    suboptions:
      enabled:
        description: Whether the table has a stream.
        type: bool
        required: true
      view_type:
        description: What each stream record carries. Required when O(stream.enabled=true).
        type: str
        choices: [KEYS_ONLY, NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES]
      allow_replacement:
        description: Allow disabling and re-enabling the stream to change its view type.
        type: bool
        default: false
  point_in_time_recovery:
    description: Continuous backups (PITR).
    type: dict
    suboptions:
      enabled:
        description: Whether PITR is on.
        type: bool
        required: true
      recovery_period_in_days:
        description:
          - How many days of restorable history to keep, 1 to 35.
          - When not set, an existing period is kept and a new one defaults to 35.
        type: int
  deletion_protection:
    description: Whether DeleteTable is refused until this is turned off.
    type: bool
  sse:
    description: Encryption at rest.
    type: dict
    suboptions:
      type:
        description:
          - V(aws_owned) uses a key owned by DynamoDB, V(aws_managed) the C(aws/dynamodb)
            key in the account, V(customer_managed) the KMS key in O(sse.kms_key).
        type: str
        required: true
        choices: [aws_owned, aws_managed, customer_managed]
      kms_key:
        description:
          - Key ID, key ARN, alias name or alias ARN of the customer managed key.
          - Required when O(sse.type=customer_managed). It is resolved to the key ARN with
            C(kms:DescribeKey) before comparing.
        type: str
  ttl:
    description: Time to live.
    type: dict
    suboptions:
      enabled:
        description: Whether TTL deletes expired items.
        type: bool
        required: true
      attribute_name:
        description: Attribute holding the expiry time in epoch seconds. Required when O(ttl.enabled=true).
        type: str
  wait_timeout:
    description: Seconds to wait for each change to complete.
    type: int
    default: 900
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Protect the orders table
  ddbguard.dr.dynamodb_table_protection:
    name: orders
    stream:
      enabled: true
      view_type: NEW_AND_OLD_IMAGES
    point_in_time_recovery:
      enabled: true
      recovery_period_in_days: 35
    deletion_protection: true
    sse:
      type: customer_managed
      kms_key: alias/orders-table
    ttl:
      enabled: true
      attribute_name: expires_at
  register: orders_protection

- name: Change the stream view type (new stream ARN)
  ddbguard.dr.dynamodb_table_protection:
    name: orders
    stream:
      enabled: true
      view_type: NEW_IMAGE
      allow_replacement: true
"""

RETURN = r"""
table_name:
  description: Name of the table.
  returned: always
  type: str
table_arn:
  description: ARN of the table.
  returned: always
  type: str
stream_arn:
  description:
    - ARN of the table's latest stream.
    - Null when the stream is off, or in check mode when a new stream would be created.
  returned: always
  type: str
stream_replaced:
  description: Whether the stream was disabled and re-enabled, which gives it a new ARN.
  returned: always
  type: bool
settings:
  description: The protection settings after the run (predicted in check mode).
  returned: always
  type: dict
  contains:
    stream_enabled: {description: Stream on., type: bool, returned: always}
    stream_view_type: {description: "Stream view type, or null.", type: str, returned: always}
    pitr_enabled: {description: PITR on., type: bool, returned: always}
    pitr_recovery_period_in_days: {description: "PITR recovery period, or null.", type: int, returned: always}
    deletion_protection: {description: Deletion protection on., type: bool, returned: always}
    sse_type: {description: "aws_owned, aws_managed or customer_managed.", type: str, returned: always}
    sse_kms_key_arn: {description: "Customer managed key ARN, or null.", type: str, returned: always}
    ttl_enabled: {description: TTL on., type: bool, returned: always}
    ttl_attribute_name: {description: "TTL attribute, or null.", type: str, returned: always}
changes:
  description: The changes made (or that would be made in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: ["stream -> enabled (NEW_AND_OLD_IMAGES)", "point-in-time recovery -> True (35 days)"]
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ddbguard.dr.plugins.module_utils import dynamodb as ddb
from ansible_collections.ddbguard.dr.plugins.module_utils import table_protection as tp
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardAWSError
from ansible_collections.ddbguard.dr.plugins.module_utils.waiters import wait

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    stream=dict(
        type="dict",
        options=dict(
            enabled=dict(type="bool", required=True),
            view_type=dict(type="str", choices=["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]),
            allow_replacement=dict(type="bool", default=False),
        ),
        required_if=[("enabled", True, ["view_type"])],
    ),
    point_in_time_recovery=dict(
        type="dict",
        options=dict(
            enabled=dict(type="bool", required=True),
            recovery_period_in_days=dict(type="int"),
        ),
    ),
    deletion_protection=dict(type="bool"),
    sse=dict(
        type="dict",
        options=dict(
            type=dict(type="str", required=True, choices=[tp.AWS_OWNED, tp.AWS_MANAGED, tp.CUSTOMER_MANAGED]),
            kms_key=dict(type="str", no_log=False),
        ),
        required_if=[("type", tp.CUSTOMER_MANAGED, ["kms_key"])],
    ),
    ttl=dict(
        type="dict",
        options=dict(
            enabled=dict(type="bool", required=True),
            attribute_name=dict(type="str"),
        ),
        required_if=[("enabled", True, ["attribute_name"])],
    ),
    wait_timeout=dict(type="int", default=900),
)
SUPPORTS_CHECK_MODE = True


def validate(params: dict[str, Any]) -> list[str]:
    """Range checks the argument spec cannot express; run before any AWS call."""
    problems = []
    period = (params["point_in_time_recovery"] or {}).get("recovery_period_in_days")
    if period is not None and not 1 <= period <= 35:
        problems.append(f"point_in_time_recovery.recovery_period_in_days must be 1-35, got {period}")
    sse = params["sse"] or {}
    if sse.get("kms_key") and sse.get("type") != tp.CUSTOMER_MANAGED:
        problems.append("sse.kms_key is only used with sse.type=customer_managed")
    if params["wait_timeout"] < 1:
        problems.append("wait_timeout must be at least 1 second")
    return problems


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    name = params["name"]
    client = module.client("dynamodb")
    kms = module.client("kms") if params["sse"] else None

    wait(client, "table_settled", params["wait_timeout"], TableName=name)
    table, before = ddb.read_settings(client, kms, name, with_sse=bool(params["sse"]))
    key_arn = None
    if kms is not None and params["sse"]["type"] == tp.CUSTOMER_MANAGED:
        key_arn = ddb.describe_kms_key(kms, params["sse"]["kms_key"])["Arn"]
    desired = tp.desired_settings(params, resolved_kms_key_arn=key_arn)
    try:
        steps = tp.plan(name, before, desired, (params["stream"] or {}).get("allow_replacement", False))
    except tp.PlanError as err:
        raise DdbguardAWSError(message=f"Table {name}: {err}") from None

    stream_replaced = sum(1 for s in steps if "StreamSpecification" in s["params"]) == 2
    result = dict(
        changed=bool(steps),
        table_name=name,
        table_arn=table["TableArn"],
        stream_replaced=stream_replaced,
        changes=[s["description"] for s in steps],
    )
    predicted = tp.predicted_settings(before, desired)
    if module.check_mode or not steps:
        after = predicted
        new_stream = stream_replaced or (after["stream_enabled"] and not before["stream_enabled"])
        result["stream_arn"] = None if (new_stream or not after["stream_enabled"]) else table.get("LatestStreamArn")
    else:
        ddb.apply_steps(client, steps, name, params["wait_timeout"])
        # Read back what the target holds now: a target that accepted a change and did
        # not make it must fail the task, not report it done.
        table, after = ddb.read_settings(client, kms, name, with_sse=bool(params["sse"]))
        missed = tp.unmet(after, desired)
        if missed:
            raise DdbguardAWSError(
                message=f"Table {name} did not take the requested settings: "
                + "; ".join(f"{k} is {after[k]!r}, asked {desired[k]!r}" for k in missed)
            )
        result["stream_arn"] = table.get("LatestStreamArn") if after["stream_enabled"] else None
    result["settings"] = after
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    return result


def main() -> None:
    run_module(run, validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

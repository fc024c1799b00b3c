#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dynamodb_undo_probe
version_added: 0.1.0
short_description: Make one unintended edit to a canary item and measure how long the undo takes
description:
  - The measuring instrument of the recovery drill. It checks that the canary holds
    O(expected), makes one edit (a delete, or an overwrite of some attributes), then
    waits with a botocore waiter on a consistent C(GetItem) until the edit has been
    undone. It then compares the whole item with O(expected).
  - The edit and the clock live in one module so that the time measured runs from the
    moment the edit returned to the first read that sees it undone, without Ansible's
    per-task overhead in between.
  - Fails, with what was seen, when the item is not back within O(timeout) seconds or
    comes back different.
  - Fills a gap, since no amazon.aws or community.aws module reads or writes items.
  - Always changes data, so check mode only reports what it would do.
author:
  - ddbguard maintainers
options:
  table:
    description: Table name.
    type: str
    required: true
  key:
    description: Primary key of the canary, in DynamoDB JSON.
    type: dict
    required: true
  expected:
    description: The canary as the application wrote it, in DynamoDB JSON.
    type: dict
    required: true
  edit:
    description: V(delete) deletes the item; V(modify) puts it back with O(set) overwriting some attributes.
    type: str
    choices: [delete, modify]
    default: delete
  set:
    description: For O(edit=modify), the attributes to overwrite, in DynamoDB JSON.
    type: dict
  ignore_attributes:
    description: Attributes left out of the final comparison (the monitor's restore marker).
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds to wait for the undo.
    type: float
    default: 30
  poll_interval:
    description: Seconds between reads.
    type: float
    default: 0.05
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Delete the canary and wait until the monitor puts it back
  ddbguard.dr.dynamodb_undo_probe:
    table: orders
    key: {pk: {S: "canary#1"}}
    expected: "{{ canary_item }}"
    edit: delete
    ignore_attributes: [_ddbguard_undo]
    timeout: 30
  register: undo
"""

RETURN = r"""
edit:
  description: The edit made.
  returned: always
  type: str
edited_at:
  description: UTC time (ISO 8601) at which the edit call returned.
  returned: success
  type: str
restored_at:
  description: UTC time of the first read that saw the edit undone.
  returned: success
  type: str
recovery_seconds:
  description: restored_at minus edited_at, in seconds (resolution O(poll_interval)).
  returned: success
  type: float
restored_item:
  description: The item as read back, in DynamoDB JSON.
  returned: success
  type: dict
matches_expected:
  description: Whether the restored item equals O(expected), ignoring O(ignore_attributes).
  returned: success
  type: bool
"""

import datetime
import time

try:
    import botocore.waiter as botocore_waiter
    from botocore.exceptions import BotoCoreError, ClientError, WaiterError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.ddbguard.dr.plugins.module_utils import items
from ansible_collections.ddbguard.dr.plugins.module_utils.dynamodb import get_item

ARGUMENT_SPEC = dict(
    table=dict(type="str", required=True),
    key=dict(type="dict", required=True, no_log=False),
    expected=dict(type="dict", required=True),
    edit=dict(type="str", choices=["delete", "modify"], default="delete"),
    set=dict(type="dict"),
    ignore_attributes=dict(type="list", elements="str", default=[]),
    timeout=dict(type="float", default=30),
    poll_interval=dict(type="float", default=0.05),
)
REQUIRED_IF = [("edit", "modify", ["set"])]


def utc(epoch):
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).isoformat()


def make_edit(module, client, params):
    try:
        if params["edit"] == "delete":
            client.delete_item(aws_retry=True, TableName=params["table"], Key=params["key"])
        else:
            client.put_item(aws_retry=True, TableName=params["table"], Item={**params["expected"], **params["set"]})
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"Failed to {params['edit']} the canary")


def wait_for_undo(module, client, params):
    attempts = max(1, int(params["timeout"] / params["poll_interval"]) + 1)
    if params["edit"] == "delete":
        model_data = items.item_present_waiter(params["poll_interval"], attempts)
    else:
        model_data = items.attributes_reverted_waiter(params["set"], params["poll_interval"], attempts)
    model = botocore_waiter.WaiterModel({"version": 2, "waiters": {"CanaryUndone": model_data}})
    waiter = botocore_waiter.create_waiter_with_client("CanaryUndone", model, client.client)
    waiter.wait(TableName=params["table"], Key=params["key"], ConsistentRead=True)


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF, supports_check_mode=True)
    params = module.params
    for option in ("key", "expected", "set"):
        bad = items.invalid_attributes(params[option])
        if bad:
            module.fail_json(msg=f"{option}: attributes {bad} are not DynamoDB JSON values")
    if params["set"] and items.has_binary(params["set"]):
        module.fail_json(msg="set: binary values cannot be watched for their revert; use another type")
    try:
        params = dict(params, key=items.to_wire(params["key"]), expected=items.to_wire(params["expected"]))
    except ValueError as err:
        module.fail_json(msg=str(err))
    if params["timeout"] <= 0 or params["poll_interval"] <= 0:
        module.fail_json(msg="timeout and poll_interval must be positive")
    if params["edit"] == "modify" and items.same_item({**params["expected"], **params["set"]}, params["expected"]):
        module.fail_json(msg="set does not change the canary; the edit would be invisible")
    if module.check_mode:
        module.exit_json(changed=True, edit=params["edit"])

    client = module.client("dynamodb", retry_decorator=AWSRetry.jittered_backoff())
    before = get_item(module, client, params["table"], params["key"])
    if not items.same_item(before, params["expected"], params["ignore_attributes"]):
        module.fail_json(
            msg="the canary does not hold the expected item before the edit", found=items.from_wire(before)
        )

    make_edit(module, client, params)
    edited = time.time()
    try:
        wait_for_undo(module, client, params)
    except WaiterError:
        module.fail_json(
            msg=(
                f"the canary was not restored within {params['timeout']}s after the {params['edit']}: "
                "the change monitor did not undo it. Check its log group and the stream trigger."
            ),
            edit=params["edit"],
            edited_at=utc(edited),
            found=items.from_wire(get_item(module, client, params["table"], params["key"])),
        )
    restored = time.time()
    item = get_item(module, client, params["table"], params["key"])
    matches = items.same_item(item, params["expected"], params["ignore_attributes"])
    result = dict(
        changed=True,
        edit=params["edit"],
        edited_at=utc(edited),
        restored_at=utc(restored),
        recovery_seconds=round(restored - edited, 3),
        restored_item=items.from_wire(item),
        matches_expected=matches,
    )
    if not matches:
        module.fail_json(msg="the canary came back different from what was written", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()

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
  - With O(edit=insert), the canary must not exist; the module writes O(expected) as a
    new item. When the monitor protects inserts (O(insert_protected=true)), it waits until
    the item is gone; otherwise it waits O(settle) seconds and checks that the item was
    left as written.
  - Always changes data, so check mode only reports what it would do.
author:
  - ddbguard maintainers (@ddbguard)
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
    description:
      - V(delete) deletes the item; V(modify) puts it back with O(set) overwriting some
        attributes; V(insert) writes O(expected) as a new item.
    type: str
    choices: [delete, modify, insert]
    default: delete
  insert_protected:
    description: For O(edit=insert), whether the monitor undoes inserts (then the item must disappear).
    type: bool
    default: true
  settle:
    description: For an unprotected insert, seconds to wait before checking that the item was left alone.
    type: float
    default: 3
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

import time
from typing import Any

try:
    import botocore.waiter as botocore_waiter
    from botocore.exceptions import WaiterError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ddbguard.dr.plugins.module_utils import dynamodb as ddb
from ansible_collections.ddbguard.dr.plugins.module_utils import items
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.times import iso_from_epoch

ARGUMENT_SPEC = dict(
    table=dict(type="str", required=True),
    key=dict(type="dict", required=True, no_log=False),
    expected=dict(type="dict", required=True),
    edit=dict(type="str", choices=["delete", "modify", "insert"], default="delete"),
    insert_protected=dict(type="bool", default=True),
    settle=dict(type="float", default=3),
    set=dict(type="dict"),
    ignore_attributes=dict(type="list", elements="str", default=[]),
    timeout=dict(type="float", default=30),
    poll_interval=dict(type="float", default=0.05),
)
REQUIRED_IF = [("edit", "modify", ["set"])]
SUPPORTS_CHECK_MODE = True


def validate(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters that the argument spec cannot express (empty when valid)."""
    problems = []
    for option in ("key", "expected", "set"):
        bad = items.invalid_attributes(params[option])
        if bad:
            problems.append(f"{option}: attributes {bad} are not DynamoDB JSON values")
    if problems:
        return problems
    if params["set"] and items.has_binary(params["set"]):
        return ["set: binary values cannot be watched for their revert; use another type"]
    try:
        expected = items.to_wire(params["expected"])
        items.to_wire(params["key"])
    except ValueError as err:
        return problems + [str(err)]
    if params["timeout"] <= 0 or params["poll_interval"] <= 0:
        problems.append("timeout and poll_interval must be positive")
    if params["edit"] == "modify" and items.same_item({**expected, **params["set"]}, expected):
        problems.append("set does not change the canary; the edit would be invisible")
    return problems


def make_edit(client: Any, table: str, key: dict[str, Any], edit: str, changed_item: dict[str, Any]) -> None:
    if edit == "delete":
        ddb.delete_item(client, table, key)
    else:  # modify puts the changed item, insert the new one
        ddb.put_item(client, table, changed_item)


def wait_for_undo(client: Any, params: dict[str, Any], key: dict[str, Any]) -> None:
    """Poll with a botocore waiter until the edit is undone; raise WaiterError at the timeout."""
    attempts = max(1, int(params["timeout"] / params["poll_interval"]) + 1)
    if params["edit"] == "delete":
        model_data = items.item_present_waiter(params["poll_interval"], attempts)
    elif params["edit"] == "insert":
        model_data = items.item_absent_waiter(params["poll_interval"], attempts)
    else:
        model_data = items.attributes_reverted_waiter(params["set"], params["poll_interval"], attempts)
    model = botocore_waiter.WaiterModel({"version": 2, "waiters": {"CanaryUndone": model_data}})
    waiter = botocore_waiter.create_waiter_with_client("CanaryUndone", model, client)
    waiter.wait(TableName=params["table"], Key=key, ConsistentRead=True)


def left_alone(module: AnsibleAWSModule, client: Any, key: dict, expected: dict, edited: float) -> dict[str, Any]:
    """An insert the monitor does not protect must still be there, as written, after a while."""
    params = module.params
    time.sleep(params["settle"])
    item = ddb.get_item(client, params["table"], key)
    result = dict(
        changed=True,
        edit="insert",
        edited_at=iso_from_epoch(edited),
        restored_at=None,
        recovery_seconds=None,
        restored_item=items.from_wire(item),
        matches_expected=items.same_item(item, expected, params["ignore_attributes"]),
    )
    if not result["matches_expected"]:
        module.fail_json(msg="an insert the monitor does not protect was not left alone", **result)
    return result


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    if module.check_mode:
        return dict(changed=True, edit=params["edit"])
    key, expected = items.to_wire(params["key"]), items.to_wire(params["expected"])
    table, ignore = params["table"], params["ignore_attributes"]
    client = module.client("dynamodb")
    before = ddb.get_item(client, table, key)
    if params["edit"] == "insert":
        if before is not None:
            module.fail_json(msg="the canary to insert exists already", found=items.from_wire(before))
        make_edit(client, table, key, "insert", expected)
        edited = time.time()
        if not params["insert_protected"]:
            return left_alone(module, client, key, expected, edited)
    elif not items.same_item(before, expected, ignore):
        module.fail_json(
            msg="the canary does not hold the expected item before the edit", found=items.from_wire(before)
        )
    else:
        make_edit(client, table, key, params["edit"], {**expected, **(params["set"] or {})})
        edited = time.time()
    try:
        wait_for_undo(client, params, key)
    except WaiterError:
        module.fail_json(
            msg=(
                f"the canary was not restored within {params['timeout']}s after the {params['edit']}: "
                "the change monitor did not undo it. Check its log group and the stream trigger."
            ),
            edit=params["edit"],
            edited_at=iso_from_epoch(edited),
            found=items.from_wire(ddb.get_item(client, table, key)),
        )
    restored = time.time()
    item = ddb.get_item(client, table, key)
    matches = item is None if params["edit"] == "insert" else items.same_item(item, expected, ignore)
    result = dict(
        changed=True,
        edit=params["edit"],
        edited_at=iso_from_epoch(edited),
        restored_at=iso_from_epoch(restored),
        recovery_seconds=round(restored - edited, 3),
        restored_item=items.from_wire(item),
        matches_expected=matches,
    )
    if not matches:
        module.fail_json(msg="the canary came back different from what was written", **result)
    return result


def main() -> None:
    run_module(
        run, validate, argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF, supports_check_mode=SUPPORTS_CHECK_MODE
    )


if __name__ == "__main__":
    main()

#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dynamodb_item
version_added: 0.1.0
short_description: Put or delete one DynamoDB item, idempotently
description:
  - Puts an item when it differs from what the table holds, or deletes it when it exists.
  - Fills a gap, since neither amazon.aws nor community.aws manages items. The drill uses
    it to write and clean up its canary items.
  - 'Items are given in DynamoDB JSON, for example C({"pk": {"S": "a"}, "n": {"N": "12"}}),
    so every type, including 38-digit numbers, passes exactly. Binary values (C(B), C(BS))
    are given as base64 text.'
author:
  - ddbguard maintainers (@ddbguard)
options:
  table:
    description: Table name.
    type: str
    required: true
  state:
    description: Whether the item exists.
    type: str
    choices: [present, absent]
    default: present
  item:
    description: The whole item in DynamoDB JSON. Required when O(state=present).
    type: dict
  key:
    description: The primary key in DynamoDB JSON. Required when O(state=absent).
    type: dict
  ignore_attributes:
    description: Attributes left out when comparing the stored item with O(item).
    type: list
    elements: str
    default: []
  monitor_function:
    description:
      - The table's change monitor. The write is then asked of the monitor (a direct
        invocation, which needs C(lambda:InvokeFunction)), which makes it with its own
        marker, conditionally on the item being as this module read it, so that the
        monitor does not undo it. Empty writes directly (the monitor undoes a protected change).
    type: str
    default: ""
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Write a canary
  ddbguard.dr.dynamodb_item:
    table: orders
    item:
      pk: {S: "canary#1"}
      amount: {N: "12345678901234567890123456789012345678"}

- name: Delete it
  ddbguard.dr.dynamodb_item:
    table: orders
    state: absent
    key:
      pk: {S: "canary#1"}
"""

RETURN = r"""
item:
  description: The item after the run, in DynamoDB JSON; null when absent.
  returned: always
  type: dict
"""

from typing import Any, Optional

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ddbguard.dr.plugins.module_utils import dynamodb as ddb
from ansible_collections.ddbguard.dr.plugins.module_utils import items, lambda_api
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardAWSError

ARGUMENT_SPEC = dict(
    table=dict(type="str", required=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    item=dict(type="dict"),
    key=dict(type="dict", no_log=False),
    ignore_attributes=dict(type="list", elements="str", default=[]),
    monitor_function=dict(type="str", default=""),
)
REQUIRED_IF = [("state", "present", ["item"]), ("state", "absent", ["key"])]
SUPPORTS_CHECK_MODE = True


def validate(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters that the argument spec cannot express (empty when valid)."""
    problems = []
    for option in ("item", "key"):
        bad = items.invalid_attributes(params[option])
        if bad:
            problems.append(f"{option}: attributes {bad} are not DynamoDB JSON values such as {{'S': 'text'}}")
        else:
            try:
                items.to_wire(params[option])
            except ValueError as err:
                problems.append(f"{option}: {err}")
    return problems


def write(module: AnsibleAWSModule, client: Any, key: dict, item: Optional[dict], current: Optional[dict]) -> None:
    """Put (or delete, when ``item`` is None): directly, or through the table's change monitor."""
    params = module.params
    if not params["monitor_function"]:
        if item is None:
            ddb.delete_item(client, params["table"], key)
        else:
            ddb.put_item(client, params["table"], item)
        return
    payload = {
        "ddbguard": "restore-items",
        "table": params["table"],
        "items": [{"key": items.from_wire(key), "image": items.from_wire(item), "expected": items.from_wire(current)}],
    }
    answer = lambda_api.invoke(module.client("lambda"), params["monitor_function"], payload)
    outcome = answer["results"][0]["outcome"]
    if outcome != "applied":
        raise DdbguardAWSError(message=f"The change monitor did not write the item: {outcome} (a write made since won)")


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    wanted, key = items.to_wire(params["item"]), items.to_wire(params["key"])
    client = module.client("dynamodb")
    table = params["table"]
    if params["state"] == "present":
        try:
            key = items.key_of(wanted, ddb.describe_table(client, table)["KeySchema"])
        except KeyError as err:
            raise DdbguardAWSError(message=f"item lacks key attribute {err}") from None
    current = ddb.get_item(client, table, key)

    if params["state"] == "absent":
        changed = current is not None
        if changed and not module.check_mode:
            write(module, client, key, None, current)
        after = None
    else:
        changed = not items.same_item(current, wanted, params["ignore_attributes"])
        if changed and not module.check_mode:
            write(module, client, key, wanted, current)
        after = wanted if changed else current
    result = dict(changed=changed, item=items.from_wire(after))
    if module._diff:
        result["diff"] = dict(before=items.from_wire(current) or {}, after=items.from_wire(after) or {})
    return result


def main() -> None:
    run_module(
        run, validate, argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF, supports_check_mode=SUPPORTS_CHECK_MODE
    )


if __name__ == "__main__":
    main()

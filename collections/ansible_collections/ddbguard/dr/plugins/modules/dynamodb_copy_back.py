#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dynamodb_copy_back
version_added: 0.2.0
short_description: Copy items back from a restored DynamoDB table into the live one, conditionally
description:
  - After a restore into a new table (M(ddbguard.dr.backup_restore_job),
    M(ddbguard.dr.dynamodb_point_in_time_restore)), copies back into the live table either
    the keys given, or every item that differs; optionally deletes the live items that the
    restored table lacks. This is the surgical restore of tier 2.
  - Every write is conditional on the live item still being what the module read when it
    planned (or still absent); a write made since always wins, and is reported as
    C(superseded). Each item's action and outcome is reported.
  - When the live table has a change monitor, give it in O(monitor_function); the writes
    are then asked of the monitor (a direct invocation), which makes them with its own
    marker, so it does not undo them as unintended changes.
  - In check mode, the plan is computed and reported, and nothing is written.
  - Fills a gap, since no amazon.aws or community.aws module reads or writes DynamoDB items.
author:
  - ddbguard maintainers (@ddbguard)
options:
  source_table:
    description: The restored table to copy from.
    type: str
    required: true
  target_table:
    description: The live table to copy into.
    type: str
    required: true
  keys:
    description:
      - Keys (DynamoDB JSON) to copy back. Without it, every item of O(source_table) that
        differs from the live table is copied back.
    type: list
    elements: dict
  delete_missing:
    description: Delete the live items that O(source_table) lacks (among the keys considered).
    type: bool
    default: false
  exclude_key_prefixes:
    description:
      - Items whose partition key is a string starting with one of these are never copied
        nor deleted (reported with action V(excluded)). The default keeps the drill's
        canaries (the monitor's reserved prefix) out of a live table.
    type: list
    elements: str
    default: ["ddbguard-canary#"]
  ignore_attributes:
    description: Attributes left out of the comparison and of the copied images (the monitor's marker).
    type: list
    elements: str
    default: [_ddbguard_undo]
  monitor_function:
    description: Name of the live table's change monitor; the writes go through it. Empty writes directly.
    type: str
    default: ""
  batch_size:
    description: Writes per invocation of the monitor.
    type: int
    default: 50
  sample_size:
    description:
      - How many of the keys that were neither superseded nor unchanged the result lists
        (copies, deletes, exclusions, planned writes; then unchanged keys if room is left).
        The superseded keys are always listed in full. Bounds the result at any table size.
    type: int
    default: 20
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Dry run, then copy back every item that differs
  ddbguard.dr.dynamodb_copy_back:
    source_table: orders-restore-20261124
    target_table: orders
    monitor_function: orders-change-monitor
  check_mode: true
  register: plan
"""

RETURN = r"""
superseded:
  description: Every key whose write a newer write won (the live item had changed since the plan), in DynamoDB JSON.
  returned: always
  type: list
  elements: dict
sample:
  description:
    - At most O(sample_size) of the other keys considered, the writes first, then unchanged keys.
  returned: always
  type: list
  elements: dict
  contains:
    key: {description: The key (DynamoDB JSON)., type: dict, returned: always}
    action: {description: "copy, delete, unchanged or excluded.", type: str, returned: always}
    outcome:
      description: "applied, unchanged, excluded, or planned (check mode)."
      type: str
      returned: always
counts:
  description: Items copied, deleted, unchanged, superseded, excluded, and planned (check mode).
  returned: always
  type: dict
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.ddbguard.dr.plugins.module_utils import copy_back as cb
from ansible_collections.ddbguard.dr.plugins.module_utils import dynamodb as ddb
from ansible_collections.ddbguard.dr.plugins.module_utils import items as itm
from ansible_collections.ddbguard.dr.plugins.module_utils import lambda_api
from ansible_collections.ddbguard.dr.plugins.module_utils.common import table_name_problem
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardErrorHandler

ARGUMENT_SPEC = dict(
    source_table=dict(type="str", required=True),
    target_table=dict(type="str", required=True),
    keys=dict(type="list", elements="dict", no_log=False),
    delete_missing=dict(type="bool", default=False),
    exclude_key_prefixes=dict(type="list", elements="str", default=["ddbguard-canary#"], no_log=False),
    ignore_attributes=dict(type="list", elements="str", default=["_ddbguard_undo"]),
    monitor_function=dict(type="str", default=""),
    batch_size=dict(type="int", default=50),
    sample_size=dict(type="int", default=20),
)
SUPPORTS_CHECK_MODE = True


def validate(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters that the argument spec cannot express (empty when valid)."""
    problems = table_name_problem("source_table", params["source_table"])
    problems += table_name_problem("target_table", params["target_table"])
    if params["source_table"] == params["target_table"]:
        problems.append("source_table must differ from target_table")
    for key in params["keys"] or []:
        bad = itm.invalid_attributes(key)
        if bad or not key:
            problems.append(f"keys: {key!r} is not a key in DynamoDB JSON such as {{'pk': {{'S': 'x'}}}}")
    if not 1 <= params["batch_size"] <= 500:
        problems.append(f"batch_size must be 1-500, got {params['batch_size']}")
    if not 0 <= params["sample_size"] <= 1000:
        problems.append(f"sample_size must be 0-1000, got {params['sample_size']}")
    return problems


@DdbguardErrorHandler.common_error_handler("write an item back")
@AWSRetry.jittered_backoff()
def _write(client: Any, table: str, entry: dict[str, Any]) -> str:
    conditional = cb.condition(entry["key"], entry["expected"])
    try:
        if entry["action"] == cb.COPY:
            client.put_item(TableName=table, Item=entry["image"], **conditional)
        else:
            client.delete_item(TableName=table, Key=entry["key"], **conditional)
    except client.exceptions.ConditionalCheckFailedException:
        return "superseded"
    return "applied"


def _read(client: Any, params: dict[str, Any], schema: list[dict[str, str]]) -> tuple[dict, dict, dict]:
    """Restored items, live items and the keys to consider, by key id."""
    source, target = params["source_table"], params["target_table"]
    if params["keys"]:
        keys = {cb.key_id(k): k for k in (itm.to_wire(k) for k in params["keys"])}
        restored = {kid: ddb.get_item(client, source, k) for kid, k in keys.items()}
        live = {kid: ddb.get_item(client, target, k) for kid, k in keys.items()}
        return {k: v for k, v in restored.items() if v}, {k: v for k, v in live.items() if v}, keys
    restored = {cb.key_id(itm.key_of(i, schema)): i for i in ddb.scan_all(client, source)}
    live = {cb.key_id(itm.key_of(i, schema)): i for i in ddb.scan_all(client, target)}
    considered = restored | (live if params["delete_missing"] else {})
    keys = {kid: itm.key_of(item, schema) for kid, item in considered.items()}
    return restored, live, keys


def _apply(module: AnsibleAWSModule, client: Any, entries: list[dict[str, Any]]) -> None:
    params = module.params
    todo = [e for e in entries if e["action"] in (cb.COPY, cb.DELETE)]
    for entry in entries:
        entry["outcome"] = {cb.UNCHANGED: "unchanged", cb.EXCLUDED: cb.EXCLUDED}.get(entry["action"], "planned")
    if module.check_mode or not todo:
        return
    if not params["monitor_function"]:
        for entry in todo:
            entry["outcome"] = _write(client, params["target_table"], entry)
        return
    lam = module.client("lambda")
    for start in range(0, len(todo), params["batch_size"]):
        chunk = todo[start : start + params["batch_size"]]
        payload = {
            "ddbguard": "restore-items",
            "table": params["target_table"],
            "items": [
                {
                    "key": itm.from_wire(e["key"]),
                    "image": itm.from_wire(e["image"]),
                    "expected": itm.from_wire(e["expected"]),
                }
                for e in chunk
            ],
        }
        results = lambda_api.invoke(lam, params["monitor_function"], payload)["results"]
        for entry, result in zip(chunk, results, strict=True):
            entry["outcome"] = result["outcome"]


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    client = module.client("dynamodb")
    source, _target = ddb.describe_pair(client, params["source_table"], params["target_table"])
    restored, live, keys = _read(client, params, source["KeySchema"])
    hash_key = next(k["AttributeName"] for k in source["KeySchema"] if k["KeyType"] == "HASH")
    excluded = cb.excluded(keys, hash_key, params["exclude_key_prefixes"])
    entries = cb.plan(
        restored,
        live,
        {k: v for k, v in keys.items() if k not in excluded},
        params["delete_missing"],
        params["ignore_attributes"],
    )
    entries += [{"key": keys[kid], "action": cb.EXCLUDED, "image": None, "expected": None} for kid in sorted(excluded)]
    _apply(module, client, entries)
    tally = cb.counts(entries)
    return dict(
        changed=bool(tally["copied"] or tally["deleted"] or tally["planned"]),
        counts=tally,
        superseded=[itm.from_wire(e["key"]) for e in entries if e["outcome"] == "superseded"],
        sample=cb.sample(entries, params["sample_size"]),
    )


def main() -> None:
    run_module(run, validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

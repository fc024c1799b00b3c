#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: cloudwatchlogs_monitor_decisions
version_added: 0.2.0
short_description: Read the change monitor's decisions from its CloudWatch log group
description:
  - Reads the JSON decision lines the change monitor writes (one per stream record and per
    sanctioned operation), optionally only those about some keys or with some outcomes,
    since a time. The drill shows the decisions about its canaries; C(make logs) follows them.
  - Fills a gap, since no amazon.aws or community.aws module reads log events.
author:
  - ddbguard maintainers (@ddbguard)
options:
  function_name:
    description: The monitor; its log group is C(/aws/lambda/<function_name>).
    type: str
    required: true
  keys:
    description: Only decisions about these keys (DynamoDB JSON).
    type: list
    elements: dict
  outcomes:
    description: Only decisions with these outcomes (applied, superseded, failed, nothing-to-do, audited, ...).
    type: list
    elements: str
  since:
    description: Only lines logged at or after this time (seconds since the epoch).
    type: float
    default: 0
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: What the monitor did with the canary
  ddbguard.dr.cloudwatchlogs_monitor_decisions:
    function_name: orders-change-monitor
    keys: [{pk: {S: "ddbguard-canary#1"}}]
"""

RETURN = r"""
decisions:
  description: The decisions, oldest first, each as the monitor logged it, with C(logged_at) (ISO 8601).
  returned: always
  type: list
  elements: dict
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.ddbguard.dr.plugins.module_utils import decisions as dc
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardErrorHandler
from ansible_collections.ddbguard.dr.plugins.module_utils.times import iso_from_epoch

ARGUMENT_SPEC = dict(
    function_name=dict(type="str", required=True),
    keys=dict(type="list", elements="dict", no_log=False),
    outcomes=dict(type="list", elements="str"),
    since=dict(type="float", default=0),
)
SUPPORTS_CHECK_MODE = True


@DdbguardErrorHandler.list_error_handler("read the monitor's log events", [])
@AWSRetry.jittered_backoff()
def events(client: Any, group: str, since_ms: int) -> list[dict[str, Any]]:
    paginator = client.get_paginator("filter_log_events")
    return paginator.paginate(logGroupName=group, startTime=since_ms).build_full_result().get("events", [])


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    group = f"/aws/lambda/{params['function_name']}"
    found = []
    for event in sorted(
        events(module.client("logs"), group, int(params["since"] * 1000)), key=lambda e: e["timestamp"]
    ):
        decision = dc.parse(event.get("message", ""))
        if decision is not None:
            found.append({**decision, "logged_at": iso_from_epoch(event["timestamp"] / 1000)})
    return dict(changed=False, decisions=dc.select(found, params["keys"], params["outcomes"]))


def main() -> None:
    run_module(run, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

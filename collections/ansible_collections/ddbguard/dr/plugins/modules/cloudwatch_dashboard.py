#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: cloudwatch_dashboard
version_added: 0.3.0
short_description: Create, update or delete a CloudWatch dashboard
description:
  - Puts a CloudWatch dashboard (C(PutDashboard)) whose body is given as a mapping, when
    the dashboard does not exist or its body differs from the one asked for (compared as
    JSON documents, so key order and spacing do not count); deletes it with O(state=absent).
  - Fills a gap, since neither amazon.aws nor community.aws has a module for CloudWatch
    dashboards.
  - Reads the dashboard back after the change and fails when its body is not the one asked
    for. Supports check mode and diff mode (the body before and after).
  - Fails when CloudWatch reports validation messages for the body (C(DashboardValidationMessages)).
author:
  - ddbguard maintainers (@ddbguard)
options:
  name:
    description:
      - The dashboard's name, 1-255 characters of A-Z a-z 0-9 - and _ (what CloudWatch accepts).
    type: str
    required: true
  body:
    description:
      - The dashboard body (C(widgets) and optional C(start), C(periodOverride)...), as a mapping.
      - Required when O(state=present).
    type: dict
  state:
    description: Whether the dashboard exists.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: A dashboard of one metric
  ddbguard.dr.cloudwatch_dashboard:
    name: orders-dr
    body:
      widgets:
        - type: metric
          x: 0
          y: 0
          width: 12
          height: 6
          properties:
            title: Iterator age
            region: eu-west-1
            metrics: [[AWS/Lambda, IteratorAge, FunctionName, orders-change-monitor]]
            stat: Maximum
            period: 60
"""

RETURN = r"""
dashboard_arn:
  description: The dashboard's ARN (empty when absent).
  returned: always
  type: str
body:
  description: The dashboard body after the run, as CloudWatch holds it (empty when absent).
  returned: always
  type: dict
"""

import json
import re
from typing import Any, Optional

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardAWSError, DdbguardErrorHandler

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    body=dict(type="dict"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
SUPPORTS_CHECK_MODE = True
NAME = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


def validate(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters that the argument spec cannot express (empty when valid)."""
    problems = []
    if not NAME.match(params["name"] or ""):
        problems.append(f"name must be 1-255 characters of A-Z a-z 0-9 - _, got {params['name']!r}")
    if params["state"] == "present" and not isinstance(params.get("body"), dict):
        problems.append("body is required when state is present")
    elif params["state"] == "present" and not isinstance(params["body"].get("widgets"), list):
        problems.append("body must have a list of widgets")
    return problems


@DdbguardErrorHandler.common_error_handler("read the dashboard")
@AWSRetry.jittered_backoff()
def read(client: Any, name: str) -> Optional[dict[str, Any]]:
    try:
        answer = client.get_dashboard(DashboardName=name)
    except is_boto3_error_code("ResourceNotFound"):
        return None
    return {"arn": answer.get("DashboardArn", ""), "body": json.loads(answer.get("DashboardBody") or "{}")}


@DdbguardErrorHandler.common_error_handler("put the dashboard")
@AWSRetry.jittered_backoff()
def put(client: Any, name: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    answer = client.put_dashboard(DashboardName=name, DashboardBody=json.dumps(body, sort_keys=True))
    return answer.get("DashboardValidationMessages") or []


@DdbguardErrorHandler.common_error_handler("delete the dashboard")
@AWSRetry.jittered_backoff()
def delete(client: Any, name: str) -> None:
    client.delete_dashboards(DashboardNames=[name])


def normal(body: Optional[dict[str, Any]]) -> Any:
    """The body as a JSON document (what CloudWatch stores), for comparison."""
    return json.loads(json.dumps(body, sort_keys=True)) if body is not None else None


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    client = module.client("cloudwatch")
    name, state = module.params["name"], module.params["state"]
    before = read(client, name)
    wanted = normal(module.params["body"]) if state == "present" else None
    # present: missing, or its body differs; absent: it exists.
    changed = (before is None or normal(before["body"]) != wanted) if state == "present" else before is not None
    after = before
    if changed and not module.check_mode:
        if state == "present":
            messages = put(client, name, wanted)
            if messages:
                raise DdbguardAWSError(message=f"CloudWatch refused the body of dashboard {name}: {messages}")
            after = read(client, name)
            if after is None or normal(after["body"]) != wanted:
                raise DdbguardAWSError(message=f"Dashboard {name} does not hold the body asked for after PutDashboard")
        else:
            delete(client, name)
            after = None
    elif changed:
        after = None if state == "absent" else {"arn": (before or {}).get("arn", ""), "body": wanted}
    result: dict[str, Any] = dict(
        changed=changed, dashboard_arn=(after or {}).get("arn", ""), body=(after or {}).get("body") or {}
    )
    if module._diff:
        result["diff"] = dict(
            before=json.dumps((before or {}).get("body") or {}, indent=2, sort_keys=True) + "\n",
            after=json.dumps((after or {}).get("body") or {}, indent=2, sort_keys=True) + "\n",
        )
    return result


def main() -> None:
    run_module(run, validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

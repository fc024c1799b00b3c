#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: lambda_stream_trigger
version_added: 0.1.0
short_description: Manage a Lambda event source mapping on a DynamoDB stream, with every stream setting
description:
  - Creates, updates or deletes the event source mapping that makes a Lambda function
    consume a DynamoDB stream.
  - Fills the gap left by C(amazon.aws.lambda_event). That module cannot set bisect on error,
    maximum retries, maximum record age, the on-failure destination or filter criteria.
    It also rejects stream batch sizes below 100 and only compares C(batch_size) and
    C(enabled) on update. With AWS' defaults (infinite retries, records kept 24 hours),
    one bad record can block a shard for a day.
  - The mapping is found by function and stream ARN. Every setting the user gave that
    differs from AWS is updated; settings not given are left alone.
  - O(starting_position) is only used when the mapping is created; AWS cannot change it.
author:
  - ddbguard maintainers (@ddbguard)
options:
  state:
    description: Whether the mapping exists.
    type: str
    choices: [present, absent]
    default: present
  function_name:
    description: Name or ARN of the Lambda function.
    type: str
    required: true
  stream_arn:
    description: ARN of the DynamoDB stream.
    type: str
    required: true
  enabled:
    description: Whether the mapping polls the stream.
    type: bool
  batch_size:
    description: Largest number of records in one invocation, 1 to 10000.
    type: int
  maximum_batching_window_in_seconds:
    description: Seconds to gather records before invoking, 0 to 300. C(0) invokes as soon as records arrive.
    type: int
  starting_position:
    description: Where a new mapping starts reading.
    type: str
    choices: [TRIM_HORIZON, LATEST]
    default: LATEST
  parallelization_factor:
    description: Concurrent batches per shard, 1 to 10.
    type: int
  bisect_batch_on_function_error:
    description: Split a failing batch in two and retry each half.
    type: bool
  maximum_retry_attempts:
    description: Retries of a failing batch, 0 to 10000, or -1 for unlimited.
    type: int
  maximum_record_age_in_seconds:
    description: Discard records older than this, 60 to 604800, or -1 for no limit.
    type: int
  on_failure_destination:
    description:
      - ARN of an SQS queue or SNS topic that receives the records that failed every retry.
      - An empty string removes the destination.
    type: str
  filter_patterns:
    description:
      - Event filtering patterns (dicts or JSON strings). A record is processed when it matches any of them.
      - An empty list removes the filter criteria.
    type: list
    elements: raw
  function_response_types:
    description: Set to V([ReportBatchItemFailures]) to let the function report partial batch failures.
    type: list
    elements: str
    choices: [ReportBatchItemFailures]
  tumbling_window_in_seconds:
    description: Tumbling window duration, 0 to 900.
    type: int
  wait:
    description: Wait until the mapping leaves the Creating/Updating/Deleting states.
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 300
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Trigger the change monitor on the orders stream
  ddbguard.dr.lambda_stream_trigger:
    function_name: orders-change-monitor
    stream_arn: "{{ orders_protection.stream_arn }}"
    batch_size: 100
    maximum_batching_window_in_seconds: 0
    bisect_batch_on_function_error: true
    maximum_retry_attempts: 3
    maximum_record_age_in_seconds: 3600
    on_failure_destination: "{{ dlq.queue_arn }}"
    function_response_types: [ReportBatchItemFailures]
    filter_patterns:
      - {eventName: [REMOVE]}

- name: Remove the trigger
  ddbguard.dr.lambda_stream_trigger:
    state: absent
    function_name: orders-change-monitor
    stream_arn: "{{ orders_protection.stream_arn }}"
"""

RETURN = r"""
mapping:
  description:
    - The event source mapping (snake_case), or an empty dict when absent.
    - In check mode, the predicted mapping.
  returned: always
  type: dict
  contains:
    uuid: {description: Mapping id; null in check mode for a new mapping., type: str, returned: when present}
    state: {description: Enabled or Disabled., type: str, returned: when present}
    batch_size: {description: Batch size., type: int, returned: when present}
    event_source_arn: {description: Stream ARN., type: str, returned: when present}
    function_arn: {description: Function ARN., type: str, returned: when present}
updated_fields:
  description: The API fields that were (or would be) sent in an update.
  returned: always
  type: list
  elements: str
"""

import copy
from typing import Any, Optional

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ddbguard.dr.plugins.module_utils import lambda_api
from ansible_collections.ddbguard.dr.plugins.module_utils import stream_trigger as st
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.waiters import wait

ARGUMENT_SPEC = dict(
    state=dict(type="str", choices=["present", "absent"], default="present"),
    function_name=dict(type="str", required=True),
    stream_arn=dict(type="str", required=True),
    enabled=dict(type="bool"),
    batch_size=dict(type="int"),
    maximum_batching_window_in_seconds=dict(type="int"),
    starting_position=dict(type="str", choices=["TRIM_HORIZON", "LATEST"], default="LATEST"),
    parallelization_factor=dict(type="int"),
    bisect_batch_on_function_error=dict(type="bool"),
    maximum_retry_attempts=dict(type="int"),
    maximum_record_age_in_seconds=dict(type="int"),
    on_failure_destination=dict(type="str"),
    filter_patterns=dict(type="list", elements="raw"),
    function_response_types=dict(type="list", elements="str", choices=["ReportBatchItemFailures"]),
    tumbling_window_in_seconds=dict(type="int"),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=300),
)
SUPPORTS_CHECK_MODE = True


def snake(mapping: dict[str, Any]) -> dict[str, Any]:
    out = camel_dict_to_snake_dict({k: v for k, v in mapping.items() if k != "ResponseMetadata"})
    # Keep the filter patterns as written: snake-casing must not touch their keys.
    if "FilterCriteria" in mapping:
        out["filter_criteria"] = copy.deepcopy(mapping["FilterCriteria"])
    return out


def predicted(existing: Optional[dict[str, Any]], fields: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The mapping as it will look after create/update, for check mode."""
    mapping = (
        copy.deepcopy(existing)
        if existing
        else {
            "UUID": None,
            "EventSourceArn": params["stream_arn"],
            "FunctionArn": params["function_name"],
            "StartingPosition": params["starting_position"],
        }
    )
    fields = dict(fields)
    enabled = fields.pop("Enabled", None)
    mapping.update(fields)
    if enabled is not None or not existing:
        mapping["State"] = "Disabled" if enabled is False else "Enabled"
    return mapping


def ensure_present(
    module: AnsibleAWSModule, client: Any, existing: Optional[dict[str, Any]]
) -> tuple[bool, dict[str, Any], list[str]]:
    params = module.params
    desired = st.desired_fields(params)
    if existing is None:
        if module.check_mode:
            return True, predicted(None, desired, params), sorted(desired)
        created = lambda_api.create_mapping(
            client,
            FunctionName=params["function_name"],
            EventSourceArn=params["stream_arn"],
            StartingPosition=params["starting_position"],
            **desired,
        )
        uuid = created["UUID"]
        changed_fields = sorted(desired)
    else:
        uuid = existing["UUID"]
        if existing.get("StartingPosition") and existing["StartingPosition"] != params["starting_position"]:
            module.warn(
                f"starting_position {params['starting_position']} is ignored: the mapping exists "
                f"with {existing['StartingPosition']} and AWS cannot change it"
            )
        changes = st.drift(existing, desired)
        if not changes:
            return False, existing, []
        if module.check_mode:
            return True, predicted(existing, changes, params), sorted(changes)
        lambda_api.update_mapping(client, uuid, changes)
        changed_fields = sorted(changes)
    if params["wait"]:
        wait(client, "event_source_mapping_settled", params["wait_timeout"], UUID=uuid)
    return True, lambda_api.get_mapping(client, uuid), changed_fields


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    client = module.client("lambda")
    existing = st.find_mapping(
        lambda_api.list_mappings(client, params["stream_arn"], params["function_name"]),
        params["function_name"],
        params["stream_arn"],
    )
    if existing is not None:
        existing = lambda_api.get_mapping(client, existing["UUID"])

    if params["state"] == "absent":
        if existing is None:
            return dict(changed=False, mapping={}, updated_fields=[])
        if not module.check_mode:
            lambda_api.delete_mapping(client, existing["UUID"])
            if params["wait"]:
                wait(client, "event_source_mapping_deleted", params["wait_timeout"], UUID=existing["UUID"])
        result = dict(changed=True, mapping={}, updated_fields=[])
        if module._diff:
            result["diff"] = dict(before=snake(existing), after={})
        return result

    changed, mapping, fields = ensure_present(module, client, existing)
    result = dict(changed=changed, mapping=snake(mapping), updated_fields=fields)
    if module._diff:
        result["diff"] = dict(before=snake(existing) if existing else {}, after=snake(mapping))
    return result


def main() -> None:
    run_module(run, st.validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

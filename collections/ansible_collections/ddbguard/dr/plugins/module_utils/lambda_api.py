# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lambda event source mapping calls of ``lambda_stream_trigger``, one helper per API call.

Helpers take a client and values, never the module. Errors become ``DdbguardAWSError``
(see ``errors``); throttling is retried, paginated listings included.
"""

from __future__ import annotations

import json
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardAWSError, DdbguardErrorHandler

Client = Any


@DdbguardErrorHandler.common_error_handler("list event source mappings")
@AWSRetry.jittered_backoff()
def list_mappings(client: Client, stream_arn: str, function_name: str) -> list[dict[str, Any]]:
    paginator = client.get_paginator("list_event_source_mappings")
    pages = paginator.paginate(EventSourceArn=stream_arn, FunctionName=function_name).build_full_result()
    return pages.get("EventSourceMappings", [])


@DdbguardErrorHandler.common_error_handler("get the event source mapping")
@AWSRetry.jittered_backoff()
def get_mapping(client: Client, uuid: str) -> dict[str, Any]:
    return client.get_event_source_mapping(UUID=uuid)


@DdbguardErrorHandler.common_error_handler("create the event source mapping")
@AWSRetry.jittered_backoff()
def create_mapping(client: Client, **fields: Any) -> dict[str, Any]:
    return client.create_event_source_mapping(**fields)


@DdbguardErrorHandler.common_error_handler("update the event source mapping")
@AWSRetry.jittered_backoff()
def update_mapping(client: Client, uuid: str, fields: dict[str, Any]) -> dict[str, Any]:
    return client.update_event_source_mapping(UUID=uuid, **fields)


@DdbguardErrorHandler.common_error_handler("delete the event source mapping")
@AWSRetry.jittered_backoff()
def delete_mapping(client: Client, uuid: str) -> None:
    client.delete_event_source_mapping(UUID=uuid)


@DdbguardErrorHandler.common_error_handler("invoke the change monitor")
@AWSRetry.jittered_backoff()
def _invoke(client: Client, function: str, payload: dict[str, Any]) -> dict[str, Any]:
    answer = client.invoke(FunctionName=function, Payload=json.dumps(payload).encode())
    return {"error": answer.get("FunctionError"), "body": json.loads(answer["Payload"].read() or b"{}")}


def invoke(client: Client, function: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Ask the change monitor for a sanctioned operation; its answer, or an error it gave."""
    answer = _invoke(client, function, payload)
    if answer["error"] or "error" in answer["body"]:
        raise DdbguardAWSError(message=f"The change monitor {function} refused the operation: {answer['body']}")
    return answer["body"]

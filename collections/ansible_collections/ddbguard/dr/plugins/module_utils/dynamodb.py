# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DynamoDB and KMS calls shared by our modules, one helper per API call.

Helpers take a client and values, never the module. Errors become ``DdbguardAWSError``
(see ``errors``); throttling is retried, paginated listings included.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.ddbguard.dr.plugins.module_utils import table_protection as tp
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardAWSError, DdbguardErrorHandler
from ansible_collections.ddbguard.dr.plugins.module_utils.waiters import wait

Client = Any


@DdbguardErrorHandler.list_error_handler("describe the table")
@AWSRetry.jittered_backoff()
def find_table(client: Client, name: str) -> dict[str, Any] | None:
    """The table's description, or None when it does not exist."""
    return client.describe_table(TableName=name)["Table"]


def describe_table(client: Client, name: str) -> dict[str, Any]:
    """The table's description; a missing table is an error that says what to do."""
    table = find_table(client, name)
    if table is None:
        raise DdbguardAWSError(message=f"Table {name} does not exist; create it first (community.aws.dynamodb_table)")
    return table


def describe_pair(client: Client, source: str, target: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Two tables' descriptions, when they share a key schema (a copy between them needs it)."""
    described = describe_table(client, source), describe_table(client, target)
    if described[0]["KeySchema"] != described[1]["KeySchema"]:
        raise DdbguardAWSError(message=f"{source} and {target} have different key schemas")
    return described


@DdbguardErrorHandler.common_error_handler("read an item")
@AWSRetry.jittered_backoff()
def get_item(client: Client, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """A strongly consistent read of one item (boto3 form), or None."""
    return client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")


@DdbguardErrorHandler.common_error_handler("put an item")
@AWSRetry.jittered_backoff()
def put_item(client: Client, table: str, item: dict[str, Any]) -> None:
    client.put_item(TableName=table, Item=item)


@DdbguardErrorHandler.common_error_handler("delete an item")
@AWSRetry.jittered_backoff()
def delete_item(client: Client, table: str, key: dict[str, Any]) -> None:
    client.delete_item(TableName=table, Key=key)


@DdbguardErrorHandler.common_error_handler("describe continuous backups")
@AWSRetry.jittered_backoff()
def describe_continuous_backups(client: Client, name: str) -> dict[str, Any]:
    return client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]


@DdbguardErrorHandler.common_error_handler("describe TTL")
@AWSRetry.jittered_backoff()
def describe_ttl(client: Client, name: str) -> dict[str, Any]:
    return client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]


@DdbguardErrorHandler.common_error_handler("describe the KMS key")
@AWSRetry.jittered_backoff()
def describe_kms_key(kms: Client, key_id: str) -> dict[str, Any]:
    return kms.describe_key(KeyId=key_id)["KeyMetadata"]


@DdbguardErrorHandler.common_error_handler("list the tags of the table")
@AWSRetry.jittered_backoff()
def list_tags(client: Client, table_arn: str) -> dict[str, str]:
    pages = client.get_paginator("list_tags_of_resource").paginate(ResourceArn=table_arn).build_full_result()
    return {t["Key"]: t["Value"] for t in pages.get("Tags", [])}


@DdbguardErrorHandler.common_error_handler("tag the table")
@AWSRetry.jittered_backoff()
def tag_table(client: Client, table_arn: str, tags: dict[str, str]) -> None:
    client.tag_resource(ResourceArn=table_arn, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


@DdbguardErrorHandler.common_error_handler("restore the table to a point in time")
@AWSRetry.jittered_backoff()
def restore_table_to_point_in_time(client: Client, request: dict[str, Any]) -> dict[str, Any]:
    return client.restore_table_to_point_in_time(**request)["TableDescription"]


def read_settings(
    client: Client, kms: Client | None, name: str, with_sse: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The table's description and its flat protection settings.

    KMS is asked for the key's manager only when ``with_sse`` (the caller compares SSE),
    so that callers that leave SSE alone need no ``kms:DescribeKey``.
    """
    table = describe_table(client, name)
    sse_key_manager = None
    sse = table.get("SSEDescription") or {}
    if with_sse and kms is not None and sse.get("KMSMasterKeyArn"):
        sse_key_manager = describe_kms_key(kms, sse["KMSMasterKeyArn"]).get("KeyManager")
    settings = tp.current_settings(
        table,
        continuous_backups=describe_continuous_backups(client, name),
        ttl=describe_ttl(client, name),
        sse_key_manager=sse_key_manager,
    )
    return table, settings


@DdbguardErrorHandler.common_error_handler("update the table")
@AWSRetry.jittered_backoff()
def _apply(client: Client, api: str, params: dict[str, Any]) -> None:
    getattr(client, api)(**params)


def apply_steps(client: Client, steps: list[dict[str, Any]], name: str, timeout: int) -> None:
    """Apply planned steps one at a time, waiting for each to settle (one table update at a time)."""
    for step in steps:
        try:
            _apply(client, step["api"], step["params"])
        except DdbguardAWSError as err:
            raise DdbguardAWSError(
                message=f"Failed to apply '{step['description']}' to {name}", exception=err.exception
            ) from err
        if step["api"] == "update_continuous_backups":
            wait(client, "pitr_settled", timeout, TableName=name)
        elif step["api"] == "update_time_to_live":
            wait(client, "ttl_settled", timeout, TableName=name)
        wait(client, "table_settled", timeout, TableName=name)


@DdbguardErrorHandler.common_error_handler("scan the table")
@AWSRetry.jittered_backoff()
def scan_all(client: Client, name: str) -> list[dict[str, Any]]:
    """Every item of the table (strongly consistent), page after page."""
    pages = client.get_paginator("scan").paginate(TableName=name, ConsistentRead=True).build_full_result()
    return pages.get("Items", [])


@DdbguardErrorHandler.common_error_handler("query the table")
@AWSRetry.jittered_backoff()
def query_prefix(client: Client, name: str, pk: str, prefix: str) -> list[dict[str, Any]]:
    """The items (strongly consistent, boto3 form) under partition ``pk`` whose sort key ``sk``
    starts with ``prefix``: the records a table keyed ``pk``/``sk`` keeps (the audit table)."""
    pages = client.get_paginator("query").paginate(
        TableName=name,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": pk}, ":prefix": {"S": prefix}},
        ConsistentRead=True,
    )
    return pages.build_full_result().get("Items", [])

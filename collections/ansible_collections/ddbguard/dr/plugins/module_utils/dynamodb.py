# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DynamoDB calls shared by our modules: one helper per API call, failing the module
with a clear message on an AWS error (the amazon.aws convention)."""

import re

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.ddbguard.dr.plugins.module_utils import table_protection as tp
from ansible_collections.ddbguard.dr.plugins.module_utils.waiters import wait

# DynamoDB's rule for table names.
TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")


def describe_table(module, client, name):
    """The table's description; a missing table fails the module with what to do."""
    try:
        return client.describe_table(aws_retry=True, TableName=name)["Table"]
    except is_boto3_error_code("ResourceNotFoundException"):
        module.fail_json(msg=f"Table {name} does not exist; create it first (community.aws.dynamodb_table)")
    except (BotoCoreError, ClientError) as err:  # pylint: disable=duplicate-except
        module.fail_json_aws(err, msg=f"Failed to describe table {name}")


def get_item(module, client, table, key):
    """A strongly consistent read of one item (boto3 form), or None."""
    try:
        return client.get_item(aws_retry=True, TableName=table, Key=key, ConsistentRead=True).get("Item")
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"Failed to read an item from {table}")


def describe_continuous_backups(module, client, name):
    try:
        return client.describe_continuous_backups(aws_retry=True, TableName=name)["ContinuousBackupsDescription"]
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"Failed to describe continuous backups of {name}")


def describe_ttl(module, client, name):
    try:
        return client.describe_time_to_live(aws_retry=True, TableName=name)["TimeToLiveDescription"]
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"Failed to describe TTL of {name}")


def describe_kms_key(module, kms, key_id):
    try:
        return kms.describe_key(aws_retry=True, KeyId=key_id)["KeyMetadata"]
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"Failed to describe KMS key {key_id}")


def list_tags(module, client, table_arn):
    try:
        pages = client.get_paginator("list_tags_of_resource").paginate(ResourceArn=table_arn).build_full_result()
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"Failed to list the tags of {table_arn}")
    return {t["Key"]: t["Value"] for t in pages.get("Tags", [])}


def read_settings(module, client, kms, name, with_sse):
    """The table's description and its flat protection settings.

    KMS is asked for the key's manager only when ``with_sse`` (the caller compares SSE),
    so that callers that leave SSE alone need no ``kms:DescribeKey``.
    """
    table = describe_table(module, client, name)
    sse_key_manager = None
    sse = table.get("SSEDescription") or {}
    if with_sse and sse.get("KMSMasterKeyArn"):
        sse_key_manager = describe_kms_key(module, kms, sse["KMSMasterKeyArn"]).get("KeyManager")
    settings = tp.current_settings(
        table,
        continuous_backups=describe_continuous_backups(module, client, name),
        ttl=describe_ttl(module, client, name),
        sse_key_manager=sse_key_manager,
    )
    return table, settings


def apply_steps(module, client, steps, name, timeout):
    """Apply planned steps one at a time, waiting for each to settle (one table update at a time)."""
    for step in steps:
        try:
            getattr(client, step["api"])(aws_retry=True, **step["params"])
        except (BotoCoreError, ClientError) as err:
            module.fail_json_aws(err, msg=f"Failed to apply '{step['description']}' to {name}")
        if step["api"] == "update_continuous_backups":
            wait(module, client, "pitr_settled", timeout, TableName=name)
        elif step["api"] == "update_time_to_live":
            wait(module, client, "ttl_settled", timeout, TableName=name)
        wait(module, client, "table_settled", timeout, TableName=name)

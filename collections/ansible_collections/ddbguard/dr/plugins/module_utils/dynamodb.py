# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""DynamoDB calls shared by our modules: one helper per API call, failing the module
with a clear message on an AWS error (the amazon.aws convention)."""

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code


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

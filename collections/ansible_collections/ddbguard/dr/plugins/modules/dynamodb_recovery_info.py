#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dynamodb_recovery_info
version_added: 0.2.0
short_description: Report what a DynamoDB table can be recovered from
description:
  - Reads, for one table, everything its recovery depends on - its stream, point-in-time
    recovery window, deletion protection and encryption; the recovery points of it that a
    vault holds; and the copies of them in a vault of another region.
  - The recovery drill uses it for its preflight, its protection checks and its RPO.
  - Fills a gap, since no amazon.aws or community.aws module reports a table's restorable
    window or lists recovery points (C(amazon.aws.backup_vault_info) only describes vaults).
author:
  - ddbguard maintainers (@ddbguard)
options:
  name:
    description: The table.
    type: str
    required: true
  backup_vault_name:
    description: Vault whose recovery points of the table are listed; empty for none.
    type: str
    default: ""
  copy_region:
    description: Region of the vault (of the same name) that receives the copies; empty for none.
    type: str
    default: ""
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read what orders can be recovered from
  ddbguard.dr.dynamodb_recovery_info:
    name: orders
    backup_vault_name: ddbguard-vault
    copy_region: eu-central-1
  register: orders_recovery
"""

RETURN = r"""
table:
  description: ARN, stream view type (or null), deletion protection, SSE key ARN (or null), key schema.
  returned: always
  type: dict
point_in_time_recovery:
  description: C(enabled), C(earliest) and C(latest) restorable times (ISO 8601) and C(recovery_period_in_days).
  returned: always
  type: dict
recovery_points:
  description: The vault's recovery points of the table, newest first (C(arn), C(created_at), C(status), C(by_plan)).
  returned: always
  type: list
  elements: dict
copies:
  description: The recovery points of the table in the vault of O(copy_region), newest first.
  returned: always
  type: list
  elements: dict
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ddbguard.dr.plugins.module_utils import backup_api
from ansible_collections.ddbguard.dr.plugins.module_utils import dynamodb as ddb
from ansible_collections.ddbguard.dr.plugins.module_utils.common import table_name_problem
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.times import iso

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    backup_vault_name=dict(type="str", default=""),
    copy_region=dict(type="str", default=""),
)
SUPPORTS_CHECK_MODE = True


def validate(params: dict[str, Any]) -> list[str]:
    return table_name_problem("name", params["name"])


def points(client: Any, vault: str, resource_arn: str) -> list[dict[str, Any]]:
    """The vault's recovery points of the resource, newest first; none when the vault is missing."""
    if not vault or backup_api.find_vault(client, vault) is None:
        return []
    found = backup_api.list_recovery_points(client, vault, resource_arn)
    found.sort(key=lambda p: p["CreationDate"], reverse=True)
    return [
        {
            "arn": p["RecoveryPointArn"],
            "created_at": iso(p["CreationDate"]),
            "status": p.get("Status"),
            "by_plan": bool((p.get("CreatedBy") or {}).get("BackupPlanId")),
        }
        for p in found
    ]


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    client = module.client("dynamodb")
    table = ddb.describe_table(client, params["name"])
    pitr = ddb.describe_continuous_backups(client, params["name"]).get("PointInTimeRecoveryDescription") or {}
    stream = table.get("StreamSpecification") or {}
    result = dict(
        changed=False,
        table=dict(
            arn=table["TableArn"],
            stream_view_type=stream.get("StreamViewType") if stream.get("StreamEnabled") else None,
            stream_arn=table.get("LatestStreamArn"),
            deletion_protection=bool(table.get("DeletionProtectionEnabled")),
            sse_kms_key_arn=(table.get("SSEDescription") or {}).get("KMSMasterKeyArn"),
            key_schema={k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]},
        ),
        point_in_time_recovery=dict(
            enabled=pitr.get("PointInTimeRecoveryStatus") == "ENABLED",
            earliest=iso(pitr.get("EarliestRestorableDateTime")),
            latest=iso(pitr.get("LatestRestorableDateTime")),
            recovery_period_in_days=pitr.get("RecoveryPeriodInDays"),
        ),
        recovery_points=points(module.client("backup"), params["backup_vault_name"], table["TableArn"]),
        copies=[],
    )
    if params["copy_region"] and params["backup_vault_name"]:
        copies = module.client("backup", region=params["copy_region"])
        result["copies"] = points(copies, params["backup_vault_name"], table["TableArn"])
    return result


def main() -> None:
    run_module(run, validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

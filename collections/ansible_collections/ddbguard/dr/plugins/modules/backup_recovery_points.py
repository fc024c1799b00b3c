#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup_recovery_points
version_added: 0.2.0
short_description: Delete every recovery point of one resource in an AWS Backup vault
description:
  - Deletes the recovery points that a vault holds for one resource, for example when a
    protected table is torn down for good and its vault must be emptied before deletion.
  - Fills a gap, since neither amazon.aws nor community.aws deletes recovery points
    (C(amazon.aws.backup_vault) cannot delete a vault that holds any).
  - The only state is C(absent). Recovery points are made by backup jobs (M(ddbguard.dr.backup_job)).
  - A vault access policy or a Vault Lock may refuse the deletion; the module then fails
    with AWS's error and names the recovery point.
author:
  - ddbguard maintainers (@ddbguard)
options:
  backup_vault_name:
    description: The vault.
    type: str
    required: true
  resource_arn:
    description: ARN of the resource whose recovery points are deleted.
    type: str
    required: true
  state:
    description: Only C(absent).
    type: str
    choices: [absent]
    default: absent
extends_documentation_fragment:
  - ddbguard.dr.assume_role
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Empty the vault of the orders table's recovery points
  ddbguard.dr.backup_recovery_points:
    backup_vault_name: ddbguard-vault
    resource_arn: "{{ orders_table_arn }}"
    state: absent
"""

RETURN = r"""
deleted:
  description: ARNs of the recovery points deleted (or that would be, in check mode).
  returned: always
  type: list
  elements: str
"""

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ddbguard.dr.plugins.module_utils import assume, backup_api
from ansible_collections.ddbguard.dr.plugins.module_utils.common import role_arn_problem
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module

ARGUMENT_SPEC = dict(
    backup_vault_name=dict(type="str", required=True),
    resource_arn=dict(type="str", required=True),
    state=dict(type="str", choices=["absent"], default="absent"),
    assume_role_arn=dict(type="str"),
)
SUPPORTS_CHECK_MODE = True


def validate(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters that the argument spec cannot express (empty when valid)."""
    problems = role_arn_problem("assume_role_arn", params.get("assume_role_arn"))
    if not params["resource_arn"].startswith("arn:"):
        problems.append(f"resource_arn must be an ARN, got {params['resource_arn']!r}")
    return problems


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    client = assume.client(module, "backup", module.params["assume_role_arn"])
    vault, resource = module.params["backup_vault_name"], module.params["resource_arn"]
    if backup_api.find_vault(client, vault) is None:
        return dict(changed=False, deleted=[])
    points = [p["RecoveryPointArn"] for p in backup_api.list_recovery_points(client, vault, resource)]
    deleted = []
    for arn in points:
        if module.check_mode or backup_api.delete_recovery_point(client, vault, arn):
            deleted.append(arn)
    return dict(changed=bool(deleted), deleted=deleted)


def main() -> None:
    run_module(run, validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

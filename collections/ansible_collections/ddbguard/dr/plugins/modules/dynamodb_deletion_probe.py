#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dynamodb_deletion_probe
version_added: 0.2.0
short_description: Try a deletion that a protection must refuse, and report whether it did
description:
  - Measures a protection's effect rather than reading its settings. It calls
    C(DeleteTable) on a table (deletion protection must refuse it) or
    C(DeleteRecoveryPoint) on a recovery point (a vault access policy or lock must refuse
    it), and reports whether AWS refused, with its error.
  - B(It really deletes when nothing refuses.) Aim it only at what may be lost - the
    drill aims it at its scratch table and at its own on-demand recovery point.
  - In check mode nothing is called and RV(refused) is null.
  - Fills a gap, since no module tests a protection by its effect.
author:
  - ddbguard maintainers (@ddbguard)
options:
  kind:
    description: What to try to delete.
    type: str
    choices: [table, recovery_point]
    required: true
  table_name:
    description: The table, for O(kind=table).
    type: str
  backup_vault_name:
    description: The vault, for O(kind=recovery_point).
    type: str
  recovery_point_arn:
    description: The recovery point, for O(kind=recovery_point).
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Deletion protection must refuse deleting the drill's scratch table
  ddbguard.dr.dynamodb_deletion_probe:
    kind: table
    table_name: orders-drill-scratch
  register: probe
  failed_when: not probe.refused
"""

RETURN = r"""
refused:
  description: Whether AWS refused the deletion; null in check mode.
  returned: always
  type: bool
error_code:
  description: AWS's error code when it refused.
  returned: always
  type: str
message:
  description: AWS's error message when it refused.
  returned: always
  type: str
"""

from typing import Any

try:
    from botocore.exceptions import ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module

ARGUMENT_SPEC = dict(
    kind=dict(type="str", choices=["table", "recovery_point"], required=True),
    table_name=dict(type="str"),
    backup_vault_name=dict(type="str"),
    recovery_point_arn=dict(type="str"),
)
REQUIRED_IF = [
    ("kind", "table", ["table_name"]),
    ("kind", "recovery_point", ["backup_vault_name", "recovery_point_arn"]),
]
SUPPORTS_CHECK_MODE = True
# Errors that mean "a protection refused", as opposed to "the call was wrong".
REFUSALS = {"ValidationException", "AccessDeniedException", "InvalidRequestException", "ResourceInUseException"}


def attempt(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    if module.check_mode:
        return dict(changed=False, refused=None, error_code=None, message=None)
    try:
        if params["kind"] == "table":
            module.client("dynamodb").delete_table(TableName=params["table_name"])
        else:
            module.client("backup").delete_recovery_point(
                BackupVaultName=params["backup_vault_name"], RecoveryPointArn=params["recovery_point_arn"]
            )
    except ClientError as err:
        error = err.response.get("Error", {})
        if error.get("Code") not in REFUSALS:
            module.fail_json_aws(err, msg="The deletion failed for another reason than a protection")
        return dict(changed=False, refused=True, error_code=error.get("Code"), message=error.get("Message"))
    return dict(changed=True, refused=False, error_code=None, message=None)


def main() -> None:
    run_module(attempt, argument_spec=ARGUMENT_SPEC, required_if=REQUIRED_IF, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

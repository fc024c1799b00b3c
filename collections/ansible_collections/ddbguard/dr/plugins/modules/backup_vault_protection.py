#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup_vault_protection
version_added: 0.1.0
short_description: Protect an AWS Backup vault with an access policy and an optional Vault Lock
description:
  - Sets the vault access policy that denies C(backup:DeleteRecoveryPoint),
    C(backup:UpdateRecoveryPointLifecycle) and C(backup:PutBackupVaultAccessPolicy) to
    every principal except O(access_policy.exempt_principal_arns). Recovery points then
    survive a compromised or careless administrator.
  - Optionally sets a Vault Lock (minimum and maximum retention). After
    O(lock.changeable_for_days), the lock can no longer be changed or removed, even by the
    account's root user. Choose those days with care.
  - Fills a gap, since neither amazon.aws nor community.aws sets a vault access policy or
    a Vault Lock (C(amazon.aws.backup_vault) only creates the vault).
  - Idempotent. The policy is compared as a document and the lock by its retention days.
    O(lock.changeable_for_days) only applies when the lock is first set, because AWS
    reports the resulting lock date rather than the number of days.
author:
  - ddbguard maintainers
options:
  backup_vault_name:
    description: Name of an existing vault.
    type: str
    required: true
  access_policy:
    description: The vault access policy.
    type: dict
    suboptions:
      state:
        description: Whether the policy is set.
        type: str
        choices: [present, absent]
        default: present
      exempt_principal_arns:
        description: Principals (IAM role or user ARNs, wildcards allowed) still allowed the protected actions.
        type: list
        elements: str
        default: []
  lock:
    description: Vault Lock settings.
    type: dict
    suboptions:
      state:
        description: Whether the vault is locked. V(absent) only works before the lock date.
        type: str
        choices: [present, absent]
        default: present
      min_retention_days:
        description: Shortest retention a recovery point may have.
        type: int
      max_retention_days:
        description: Longest retention a recovery point may have.
        type: int
      changeable_for_days:
        description: Days (3 or more) during which the lock can still be changed or removed; omit for governance mode.
        type: int
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Only the backup operator role may delete recovery points
  ddbguard.dr.backup_vault_protection:
    backup_vault_name: orders-vault
    access_policy:
      exempt_principal_arns:
        - arn:aws:iam::123456789012:role/backup-operator
    lock:
      min_retention_days: 7
      max_retention_days: 35
"""

RETURN = r"""
vault_arn:
  description: ARN of the vault.
  returned: always
  type: str
policy:
  description: The access policy document after the run; null when absent.
  returned: always
  type: dict
locked:
  description: Whether the vault is locked after the run.
  returned: always
  type: bool
changes:
  description: What was (or would be) changed.
  returned: always
  type: list
  elements: str
"""

import json

try:
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.ddbguard.dr.plugins.module_utils import backup as bk
from ansible_collections.ddbguard.dr.plugins.module_utils.settings import without_none

ARGUMENT_SPEC = dict(
    backup_vault_name=dict(type="str", required=True),
    access_policy=dict(
        type="dict",
        options=dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            exempt_principal_arns=dict(type="list", elements="str", default=[]),
        ),
    ),
    lock=dict(
        type="dict",
        options=dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            min_retention_days=dict(type="int"),
            max_retention_days=dict(type="int"),
            changeable_for_days=dict(type="int"),
        ),
    ),
)
REQUIRED_ONE_OF = [("access_policy", "lock")]


def validate(module):
    problems = bk.validate_lock(module.params["lock"] or {})
    for arn in (module.params["access_policy"] or {}).get("exempt_principal_arns", []):
        if not arn.startswith("arn:") or ":iam::" not in arn:
            problems.append(f"access_policy.exempt_principal_arns: {arn!r} is not an IAM principal ARN")
    if problems:
        module.fail_json(msg="; ".join(problems))


def describe_vault(module, client):
    name = module.params["backup_vault_name"]
    try:
        return client.describe_backup_vault(aws_retry=True, BackupVaultName=name)
    except is_boto3_error_code(["AccessDeniedException", "ResourceNotFoundException"]):
        module.fail_json(msg=f"Backup vault {name} does not exist (or this principal may not describe it)")
    except (BotoCoreError, ClientError) as err:  # pylint: disable=duplicate-except
        module.fail_json_aws(err, msg=f"Failed to describe backup vault {name}")


def current_policy(module, client):
    try:
        return client.get_backup_vault_access_policy(
            aws_retry=True, BackupVaultName=module.params["backup_vault_name"]
        )["Policy"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (BotoCoreError, ClientError) as err:  # pylint: disable=duplicate-except
        module.fail_json_aws(err, msg="Failed to read the vault access policy")


def call(module, client, method, description, **kwargs):
    if module.check_mode:
        return
    try:
        getattr(client, method)(aws_retry=True, BackupVaultName=module.params["backup_vault_name"], **kwargs)
    except (BotoCoreError, ClientError) as err:
        module.fail_json_aws(err, msg=f"Failed to {description}")


def ensure_policy(module, client, vault, changes):
    wanted = module.params["access_policy"]
    if wanted is None:
        text = current_policy(module, client)
        return json.loads(text) if text else None
    text = current_policy(module, client)
    if wanted["state"] == "absent":
        if text is not None:
            changes.append("access policy -> removed")
            call(module, client, "delete_backup_vault_access_policy", "remove the vault access policy")
        return None
    arn = vault["BackupVaultArn"]
    pattern = arn.split(":backup-vault:")[0] + ":recovery-point:*"
    desired = bk.vault_access_policy(arn, pattern, wanted["exempt_principal_arns"])
    if not bk.same_policy(text, desired):
        changes.append(
            "access policy -> deny recovery point changes except "
            + (", ".join(wanted["exempt_principal_arns"]) or "nobody")
        )
        call(
            module, client, "put_backup_vault_access_policy", "set the vault access policy", Policy=json.dumps(desired)
        )
    return desired


def ensure_lock(module, vault, client, changes):
    wanted = module.params["lock"]
    if wanted is None:
        return bool(vault.get("Locked"))
    if wanted["state"] == "absent":
        if vault.get("Locked"):
            changes.append("vault lock -> removed")
            call(module, client, "delete_backup_vault_lock_configuration", "remove the vault lock")
        return False
    drift = bk.lock_drift(vault, wanted)
    if drift:
        if vault.get("Locked") and wanted.get("changeable_for_days") is not None:
            module.warn(
                "lock.changeable_for_days is applied with the new retention days; AWS reports only the lock date"
            )
        changes.append("vault lock -> " + ", ".join(f"{k} {v[1]}" for k, v in drift.items()))
        request = without_none(
            dict(
                MinRetentionDays=wanted.get("min_retention_days"),
                MaxRetentionDays=wanted.get("max_retention_days"),
                ChangeableForDays=wanted.get("changeable_for_days"),
            )
        )
        call(module, client, "put_backup_vault_lock_configuration", "set the vault lock", **request)
    return True


def main():
    module = AnsibleAWSModule(argument_spec=ARGUMENT_SPEC, required_one_of=REQUIRED_ONE_OF, supports_check_mode=True)
    validate(module)
    client = module.client("backup", retry_decorator=AWSRetry.jittered_backoff())
    vault = describe_vault(module, client)
    policy_before = current_policy(module, client)
    lock_fields = ("MinRetentionDays", "MaxRetentionDays")
    before = dict(
        policy=json.loads(policy_before) if policy_before else None,
        lock=dict(Locked=bool(vault.get("Locked")), **{k: vault.get(k) for k in lock_fields}),
    )
    changes = []
    policy = ensure_policy(module, client, vault, changes)
    locked = ensure_lock(module, vault, client, changes)
    result = dict(
        changed=bool(changes), changes=changes, vault_arn=vault["BackupVaultArn"], policy=policy, locked=locked
    )
    if module._diff:
        wanted = module.params["lock"] or {}
        lock_after = dict(before["lock"], Locked=locked)
        if not locked:
            lock_after.update(dict.fromkeys(lock_fields))
        elif wanted.get("state", "present") == "present":
            given = {
                "MinRetentionDays": wanted.get("min_retention_days"),
                "MaxRetentionDays": wanted.get("max_retention_days"),
            }
            lock_after.update({k: v for k, v in given.items() if v is not None})
        result["diff"] = dict(before=before, after=dict(policy=policy, lock=lock_after))
    module.exit_json(**result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: backup_vault_protection
version_added: 0.1.0
short_description: Protect an AWS Backup vault with an access policy and an optional Vault Lock
description:
  - Sets the vault access policy that denies C(backup:DeleteRecoveryPoint),
    C(backup:UpdateRecoveryPointLifecycle), C(backup:PutBackupVaultAccessPolicy) and
    C(backup:DeleteBackupVaultAccessPolicy) to every principal except
    O(access_policy.exempt_principal_arns). Recovery points then survive a compromised
    or careless administrator, who can neither delete them nor remove the policy first.
  - Optionally sets a Vault Lock (minimum and maximum retention). After
    O(lock.changeable_for_days), the lock can no longer be changed or removed, even by the
    account's root user. Choose those days with care.
  - Fills a gap, since neither amazon.aws nor community.aws sets a vault access policy or
    a Vault Lock (C(amazon.aws.backup_vault) only creates the vault).
  - With neither O(access_policy) nor O(lock), nothing is changed and the vault's current
    policy and lock are returned (a read, as C(playbooks/teardown.yml) does before deleting).
  - Idempotent. The policy is compared as a document and the lock by its retention days.
    O(lock.changeable_for_days) only applies when the lock is first set, because AWS
    reports the resulting lock date rather than the number of days.
author:
  - ddbguard maintainers (@ddbguard)
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
  - ddbguard.dr.assume_role
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
from typing import Any, Optional

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ddbguard.dr.plugins.module_utils import assume, backup_api
from ansible_collections.ddbguard.dr.plugins.module_utils import backup as bk
from ansible_collections.ddbguard.dr.plugins.module_utils.common import role_arn_problem, without_none
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardAWSError

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
    assume_role_arn=dict(type="str"),
)
SUPPORTS_CHECK_MODE = True
LOCK_FIELDS = ("MinRetentionDays", "MaxRetentionDays")


def validate(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters that the argument spec cannot express (empty when valid)."""
    problems = bk.validate_lock(params["lock"] or {})
    problems += role_arn_problem("assume_role_arn", params.get("assume_role_arn"))
    for arn in (params["access_policy"] or {}).get("exempt_principal_arns", []):
        if not arn.startswith("arn:") or ":iam::" not in arn:
            problems.append(f"access_policy.exempt_principal_arns: {arn!r} is not an IAM principal ARN")
    return problems


class Vault:
    """The vault's calls, made only outside check mode, with the changes they make."""

    def __init__(self, client: Any, name: str, check_mode: bool) -> None:
        self.client = client
        self.name = name
        self.check_mode = check_mode
        self.changes: list[str] = []

    def change(self, description: str, method: str, **kwargs: Any) -> None:
        self.changes.append(description)
        if not self.check_mode:
            backup_api.vault_call(self.client, method, self.name, **kwargs)


def ensure_policy(
    vault: Vault, arn: str, wanted: Optional[dict[str, Any]], text: Optional[str]
) -> Optional[dict[str, Any]]:
    """Bring the access policy to ``wanted``; return the policy the vault holds afterwards."""
    if wanted is None:
        return json.loads(text) if text else None
    if wanted["state"] == "absent":
        if text is not None:
            vault.change("access policy -> removed", "delete_backup_vault_access_policy")
        return None
    pattern = arn.split(":backup-vault:")[0] + ":recovery-point:*"
    desired = bk.vault_access_policy(arn, pattern, wanted["exempt_principal_arns"])
    if not bk.same_policy(text, desired):
        exempt = ", ".join(wanted["exempt_principal_arns"]) or "nobody"
        vault.change(
            f"access policy -> deny recovery point changes except {exempt}",
            "put_backup_vault_access_policy",
            Policy=json.dumps(desired),
        )
    return desired


def ensure_lock(vault: Vault, described: dict[str, Any], wanted: Optional[dict[str, Any]], warn: Any) -> bool:
    """Bring the Vault Lock to ``wanted``; return whether the vault is locked afterwards."""
    if wanted is None:
        return bool(described.get("Locked"))
    if wanted["state"] == "absent":
        if described.get("Locked"):
            vault.change("vault lock -> removed", "delete_backup_vault_lock_configuration")
        return False
    drift = bk.lock_drift(described, wanted)
    if drift:
        if described.get("Locked") and wanted.get("changeable_for_days") is not None:
            warn("lock.changeable_for_days is applied with the new retention days; AWS reports only the lock date")
        request = without_none(
            dict(
                MinRetentionDays=wanted.get("min_retention_days"),
                MaxRetentionDays=wanted.get("max_retention_days"),
                ChangeableForDays=wanted.get("changeable_for_days"),
            )
        )
        description = "vault lock -> " + ", ".join(f"{k} {v[1]}" for k, v in drift.items())
        vault.change(description, "put_backup_vault_lock_configuration", **request)
    return True


def lock_diff(before: dict[str, Any], locked: bool, wanted: dict[str, Any]) -> dict[str, Any]:
    after = dict(before, Locked=locked)
    if not locked:
        after.update(dict.fromkeys(LOCK_FIELDS))
    elif wanted.get("state", "present") == "present":
        given = {
            "MinRetentionDays": wanted.get("min_retention_days"),
            "MaxRetentionDays": wanted.get("max_retention_days"),
        }
        after.update({k: v for k, v in given.items() if v is not None})
    return after


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    client = assume.client(module, "backup", params["assume_role_arn"])
    name = params["backup_vault_name"]
    described = backup_api.find_vault(client, name)
    if described is None:
        raise DdbguardAWSError(message=f"Backup vault {name} does not exist (or this principal may not describe it)")
    text = backup_api.get_vault_policy(client, name)
    before = dict(
        policy=json.loads(text) if text else None,
        lock=dict(Locked=bool(described.get("Locked")), **{k: described.get(k) for k in LOCK_FIELDS}),
    )
    vault = Vault(client, name, module.check_mode)
    policy = ensure_policy(vault, described["BackupVaultArn"], params["access_policy"], text)
    locked = ensure_lock(vault, described, params["lock"], module.warn)
    result = dict(
        changed=bool(vault.changes),
        changes=vault.changes,
        vault_arn=described["BackupVaultArn"],
        policy=policy,
        locked=locked,
    )
    if module._diff:
        after = dict(policy=policy, lock=lock_diff(before["lock"], locked, params["lock"] or {}))
        result["diff"] = dict(before=before, after=after)
    return result


def main() -> None:
    run_module(run, validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

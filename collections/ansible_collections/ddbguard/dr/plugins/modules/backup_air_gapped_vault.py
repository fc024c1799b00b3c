#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
---
module: backup_air_gapped_vault
version_added: 0.3.0
short_description: Create an AWS Backup logically air-gapped vault, or check the one that exists
description:
  - Creates a logically air-gapped vault (C(CreateLogicallyAirGappedBackupVault)) with its
    retention range and, optionally, a customer managed key; reads it back and returns it.
  - Fills a gap, since C(amazon.aws.backup_vault) creates standard vaults only and no
    amazon.aws or community.aws module creates a logically air-gapped one.
  - AWS locks such a vault in compliance mode from its creation; neither its retention nor
    its key can change afterwards. When the vault exists with another retention or key, or
    is a standard vault, the module fails and says what differs; it never deletes a vault.
  - Every backup or copy job into the vault must keep its recovery point between
    O(min_retention_days) and O(max_retention_days) days, or AWS fails the job.
author:
  - ddbguard maintainers (@ddbguard)
options:
  name:
    description: Name of the vault (2-50 of A-Z a-z 0-9 - _).
    type: str
    required: true
  min_retention_days:
    description: Fewest days a recovery point is kept; at least 7.
    type: int
    required: true
  max_retention_days:
    description: Most days a recovery point is kept; at least O(min_retention_days), at most 36500.
    type: int
    required: true
  encryption_key_arn:
    description: ARN of a customer managed KMS key that encrypts the vault; empty for an AWS owned key.
    type: str
    default: ""
  tags:
    description: Tags of the vault, set at creation.
    type: dict
    default: {}
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: A vault that keeps every copy 7 to 365 days, under the customer managed key
  ddbguard.dr.backup_air_gapped_vault:
    name: ddbguard-air-gapped
    min_retention_days: 7
    max_retention_days: 365
    encryption_key_arn: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
"""

RETURN = r"""
vault:
  description: The vault as C(DescribeBackupVault) answers (its name, ARN, type, state, lock and retention).
  returned: unless a check-mode run would create it
  type: dict
  sample: {"BackupVaultName": "ddbguard-air-gapped", "VaultType": "LOGICALLY_AIR_GAPPED_BACKUP_VAULT",
           "Locked": true, "MinRetentionDays": 7, "MaxRetentionDays": 365}
arn:
  description: The vault's ARN (empty when a check-mode run would create it).
  returned: always
  type: str
"""

import re
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ddbguard.dr.plugins.module_utils import backup_api
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardAWSError
from ansible_collections.ddbguard.dr.plugins.module_utils.times import iso

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    min_retention_days=dict(type="int", required=True),
    max_retention_days=dict(type="int", required=True),
    encryption_key_arn=dict(type="str", default="", no_log=False),
    tags=dict(type="dict", default={}),
)
SUPPORTS_CHECK_MODE = True
AIR_GAPPED = "LOGICALLY_AIR_GAPPED_BACKUP_VAULT"


def validate(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters that the argument spec cannot express (empty when valid)."""
    problems = []
    if not re.fullmatch(r"[A-Za-z0-9_-]{2,50}", params["name"]):
        problems.append(f"name must be 2-50 characters of A-Z a-z 0-9 - _, got {params['name']!r}")
    low, high = params["min_retention_days"], params["max_retention_days"]
    if low < 7:
        problems.append(f"min_retention_days must be at least 7 (AWS's floor), got {low}")
    if not low <= high <= 36500:
        problems.append(f"max_retention_days must be from min_retention_days ({low}) to 36500, got {high}")
    if params["encryption_key_arn"] and not re.match(r"^arn:aws[a-z-]*:kms:", params["encryption_key_arn"]):
        problems.append(f"encryption_key_arn must be a KMS key ARN or empty, got {params['encryption_key_arn']!r}")
    return problems


def differences(vault: dict[str, Any], params: dict[str, Any]) -> list[str]:
    """What the existing vault has that the parameters do not ask for (it cannot change)."""
    found = []
    if vault.get("VaultType") != AIR_GAPPED:
        found.append(f"it is a {vault.get('VaultType') or 'BACKUP_VAULT'}, not a logically air-gapped vault")
    for key, option in (("MinRetentionDays", "min_retention_days"), ("MaxRetentionDays", "max_retention_days")):
        if vault.get(key) != params[option]:
            found.append(f"its {option} is {vault.get(key)}, not {params[option]}")
    if (vault.get("EncryptionKeyArn") or "") != params["encryption_key_arn"] and params["encryption_key_arn"]:
        found.append(f"its key is {vault.get('EncryptionKeyArn') or 'an AWS owned key'}")
    return found


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    client = module.client("backup")
    vault = backup_api.find_vault(client, params["name"])
    if vault is not None:
        found = differences(vault, params)
        if found:
            raise DdbguardAWSError(
                message=f"Vault {params['name']} exists and cannot change: {'; '.join(found)}. "
                "Keep its settings, or name another vault."
            )
        return dict(changed=False, vault=_public(vault), arn=vault["BackupVaultArn"])
    if module.check_mode:
        return dict(changed=True, arn="")
    request = dict(
        BackupVaultName=params["name"],
        MinRetentionDays=params["min_retention_days"],
        MaxRetentionDays=params["max_retention_days"],
        BackupVaultTags=params["tags"],
    )
    if params["encryption_key_arn"]:
        request["EncryptionKeyArn"] = params["encryption_key_arn"]
    backup_api.create_air_gapped_vault(client, request)
    vault = backup_api.find_vault(client, params["name"]) or {}
    return dict(changed=True, vault=_public(vault), arn=vault.get("BackupVaultArn", ""))


def _public(vault: dict[str, Any]) -> dict[str, Any]:
    return {k: iso(v) for k, v in vault.items() if k != "ResponseMetadata"}


def main() -> None:
    run_module(run, validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decision logic of the backup, restore and vault modules: no AWS calls."""

from __future__ import annotations

import json
from typing import Any

from ansible_collections.ddbguard.dr.plugins.module_utils.times import epoch as _epoch

# Denied to everyone but the exempt principals. DeleteBackupVaultAccessPolicy is denied
# too: without it, anyone could remove the policy, then delete the recovery points.
PROTECTED_ACTIONS = (
    "backup:DeleteRecoveryPoint",
    "backup:UpdateRecoveryPointLifecycle",
    "backup:PutBackupVaultAccessPolicy",
    "backup:DeleteBackupVaultAccessPolicy",
)


# The tag the drill puts on the recovery points it makes: they hold canary items, and must
# never be "the latest recovery point before T" of an operator's restore or an incident.
DRILL_TAG = "ddbguard:drill"


def made_by_drill(tags: dict[str, str]) -> bool:
    return DRILL_TAG in tags


def newest_first(points: list[dict[str, Any]], created_before: float | None = None) -> list[dict[str, Any]]:
    """COMPLETED recovery points created strictly before ``created_before`` (epoch), newest first."""
    usable = [p for p in points if p.get("Status") == "COMPLETED"]
    if created_before is not None:
        usable = [p for p in usable if _epoch(p["CreationDate"]) < created_before]
    return sorted(usable, key=lambda p: _epoch(p["CreationDate"]), reverse=True)


def latest_recovery_point(points: list[dict[str, Any]], created_before: float | None = None) -> dict[str, Any] | None:
    """The newest COMPLETED recovery point created strictly before ``created_before`` (epoch), or None."""
    usable = [p for p in points if p.get("Status") == "COMPLETED"]
    if created_before is not None:
        usable = [p for p in usable if _epoch(p["CreationDate"]) < created_before]
    return max(usable, key=lambda p: _epoch(p["CreationDate"]), default=None)


def fresh_recovery_point(points: list[dict[str, Any]], max_age_seconds: float, now: float) -> dict[str, Any] | None:
    """The newest COMPLETED recovery point younger than ``max_age_seconds``, or None."""
    point = latest_recovery_point(points)
    if point is None or now - _epoch(point["CreationDate"]) > max_age_seconds:
        return None
    return point


def vault_access_policy(
    vault_arn: str,
    recovery_point_arn_pattern: str,
    exempt_principal_arns: list[str],
    actions: tuple[str, ...] = PROTECTED_ACTIONS,
) -> dict[str, Any]:
    """A vault access policy that denies ``actions`` to everyone but the exempt principals."""
    statement = {
        "Sid": "DenyRecoveryPointChangesExceptNamedPrincipals",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": sorted(actions),
        "Resource": [vault_arn, recovery_point_arn_pattern],
    }
    if exempt_principal_arns:
        statement["Condition"] = {"ArnNotLike": {"aws:PrincipalArn": sorted(exempt_principal_arns)}}
    return {"Version": "2012-10-17", "Statement": [statement]}


def same_policy(current_text: str | None, desired: dict[str, Any]) -> bool:
    """Whether the stored policy text means the same document as ``desired``."""
    if not current_text:
        return False
    return _canonical(json.loads(current_text)) == _canonical(desired)


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def lock_drift(vault: dict[str, Any], desired: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Lock fields that differ: ``desired`` has min/max retention days (None = not set)."""
    if not vault.get("Locked"):
        return {"Locked": (False, True)}
    out = {}
    for key, field in (("min_retention_days", "MinRetentionDays"), ("max_retention_days", "MaxRetentionDays")):
        if desired.get(key) is not None and vault.get(field) != desired[key]:
            out[field] = (vault.get(field), desired[key])
    return out


def validate_lock(lock: dict[str, Any]) -> list[str]:
    """Problems with the Vault Lock settings (empty when valid)."""
    problems = []
    low, high, changeable = (
        lock.get("min_retention_days"),
        lock.get("max_retention_days"),
        lock.get("changeable_for_days"),
    )
    if low is not None and not 1 <= low <= 36500:
        problems.append(f"lock.min_retention_days must be 1-36500, got {low}")
    if high is not None and not 1 <= high <= 36500:
        problems.append(f"lock.max_retention_days must be 1-36500, got {high}")
    if low is not None and high is not None and low > high:
        problems.append("lock.min_retention_days must not exceed lock.max_retention_days")
    if changeable is not None and changeable < 3:
        problems.append(f"lock.changeable_for_days must be at least 3 (AWS' minimum), got {changeable}")
    return problems

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decision logic of the backup, restore and vault modules: no AWS calls."""

import json

PROTECTED_ACTIONS = (
    "backup:DeleteRecoveryPoint",
    "backup:UpdateRecoveryPointLifecycle",
    "backup:PutBackupVaultAccessPolicy",
)


def _epoch(value):
    """A timestamp as epoch seconds, from a datetime (boto3) or a number."""
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def latest_recovery_point(points, created_before=None):
    """The newest COMPLETED recovery point created strictly before ``created_before`` (epoch), or None."""
    usable = [p for p in points if p.get("Status") == "COMPLETED"]
    if created_before is not None:
        usable = [p for p in usable if _epoch(p["CreationDate"]) < created_before]
    return max(usable, key=lambda p: _epoch(p["CreationDate"]), default=None)


def fresh_recovery_point(points, max_age_seconds, now):
    """The newest COMPLETED recovery point younger than ``max_age_seconds``, or None."""
    point = latest_recovery_point(points)
    if point is None or now - _epoch(point["CreationDate"]) > max_age_seconds:
        return None
    return point


def vault_access_policy(vault_arn, recovery_point_arn_pattern, exempt_principal_arns, actions=PROTECTED_ACTIONS):
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


def same_policy(current_text, desired):
    """Whether the stored policy text means the same document as ``desired``."""
    if not current_text:
        return False
    return _canonical(json.loads(current_text)) == _canonical(desired)


def _canonical(value):
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def lock_drift(vault, desired):
    """Lock fields that differ: ``desired`` has min/max retention days (None = not set)."""
    if not vault.get("Locked"):
        return {"Locked": (False, True)}
    out = {}
    for key, field in (("min_retention_days", "MinRetentionDays"), ("max_retention_days", "MaxRetentionDays")):
        if desired.get(key) is not None and vault.get(field) != desired[key]:
            out[field] = (vault.get(field), desired[key])
    return out


def validate_lock(lock):
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

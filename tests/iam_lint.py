"""Least-privilege checks of IAM policy documents, ours and parliament's.

``problems`` applies our own rules; ``unexplained_findings`` runs parliament (the IAM
linter security teams use) and returns every finding that ``JUSTIFIED`` does not explain.
"""

from __future__ import annotations

import json
from typing import Any

from parliament import analyze_policy_string

# Actions AWS cannot scope to a resource: "Resource": "*" is the only form it accepts (the
# Service Authorization Reference names no resource type for them; parliament's copy agrees).
UNSCOPABLE = {"dynamodb:ListStreams", "backup:DescribeRestoreJob", "backup:PutRestoreValidationResult"}

# (document kind, parliament issue) -> why it is right here. Anything else fails the test.
JUSTIFIED = {
    ("trust", "MALFORMED"): "A role's trust policy is a resource policy: AWS rejects a Resource element in it.",
    ("execution", "PERMISSIONS_MANAGEMENT_ACTIONS"): (
        "iam:PassRole, on the restore role's ARN only and only to backup.amazonaws.com (iam:PassedToService): "
        "escalation must hand that role to AWS Backup."
    ),
    ("key", "RESOURCE_STAR"): 'In a key policy, "Resource": "*" means this key; AWS accepts nothing else there.',
    ("key", "PERMISSIONS_MANAGEMENT_ACTIONS"): (
        "The account administers its own key through IAM (AWS's default key policy); without it the key "
        "could become unmanageable."
    ),
    ("key", "MISMATCHED_TYPE"): (
        "kms:EncryptionContext:aws:logs:arn holds an ARN and AWS documents ArnLike for it; parliament types "
        "every kms:EncryptionContext key as a string."
    ),
    ("operator", "PERMISSIONS_MANAGEMENT_ACTIONS"): (
        "site.yml creates the monitors' and the backup role and writes their policies; the grants are limited "
        "to roles named *-change-monitor and ddbguard-backup (docs/operator-policy.md)."
    ),
    ("recovery", "PERMISSIONS_MANAGEMENT_ACTIONS"): (
        "The recovery account creates its restore role (ddbguard-recovery-restore only), attaches AWS Backup's "
        "restore policy only (iam:PolicyARN) and passes it to backup.amazonaws.com only (docs/operator-policy.md)."
    ),
    ("operator", "CREDENTIALS_EXPOSURE"): (
        "sts:AssumeRole on the break-glass role only (ddbguard-break-glass): the teardown that deletes data "
        "takes its credentials because the vault policy refuses that to everyone else; the role's own trust "
        "policy decides who may."
    ),
    ("operator", "RESOURCE_POLICY_PRIVILEGE_ESCALATION"): (
        "s3:PutBucketPolicy and s3:PutLifecycleConfiguration on the exports bucket only (ddbguard-exports-*): "
        "site.yml sets its lifecycle, then its policy, once; that policy denies both, and deleting an export, "
        "to everyone but the break-glass principals, which parliament cannot see from the identity policy "
        "(test_iam_enforced.py: the operator is refused them)."
    ),
    ("operator", "PRIVILEGE_ESCALATION"): (
        "Whoever may create a role and pass it to Lambda can run code with that role's rights: inherent to "
        "provisioning the change monitor. The names are fixed and PassRole goes to lambda and backup only; "
        "docs/operator-policy.md says how a permissions boundary closes the rest."
    ),
}

# (document kind, action) -> why parliament's RESOURCE_MISMATCH on that action is wrong: the
# Service Authorization Reference gives it more than one resource type, parliament knows one.
RESOURCE_TYPES = {
    ("operator", "states:ListExecutions"): (
        "authorized on the state machine (stateMachine) or on a Map Run (mapRun); the module lists a job's "
        "executions by its state machine"
    ),
    ("operator", "states:DescribeExecution"): (
        "authorized on a standard execution (execution) or an express one (express); the copy-back job is standard"
    ),
    ("execution", "states:DescribeExecution"): (
        "authorized on a standard execution (execution) or an express one (express); a copy-back job's role "
        "follows its map's children, standard executions"
    ),
}


def statements(policy: dict[str, Any]) -> list[dict[str, Any]]:
    found = policy["Statement"]
    return found if isinstance(found, list) else [found]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def problems(policy: dict[str, Any]) -> list[str]:
    """Our rules for an identity policy: no * action, no service:* action, no Resource * where AWS can scope."""
    out = []
    for statement in statements(policy):
        actions = _list(statement.get("Action", []))
        for action in actions:
            if action == "*" or action.endswith(":*"):
                out.append(f"{statement.get('Sid')}: action {action}")
        if "*" in _list(statement.get("Resource", [])) and set(actions) - UNSCOPABLE:
            out.append(f"{statement.get('Sid')}: Resource * on {sorted(set(actions) - UNSCOPABLE)}")
        if "iam:PassRole" in actions and "iam:PassedToService" not in json.dumps(statement.get("Condition", {})):
            out.append(f"{statement.get('Sid')}: iam:PassRole without an iam:PassedToService condition")
    return out


def unexplained_findings(kind: str, policy: dict[str, Any]) -> list[tuple[str, Any]]:
    """parliament's findings on the document that JUSTIFIED does not explain for its kind."""
    analyzed = analyze_policy_string(json.dumps(policy), include_community_auditors=True)
    return [
        (f.issue, f.detail)
        for f in analyzed.findings
        if (kind, f.issue) not in JUSTIFIED and not _other_resource_type(kind, f.issue, f.detail)
    ]


def _other_resource_type(kind: str, issue: str, detail: Any) -> bool:
    """A RESOURCE_MISMATCH only on actions whose other resource type RESOURCE_TYPES names."""
    if issue != "RESOURCE_MISMATCH" or not isinstance(detail, list) or not detail:
        return False
    return all(isinstance(d, dict) and (kind, d.get("action")) in RESOURCE_TYPES for d in detail)

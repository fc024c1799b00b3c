"""AWS Backup: a vault access policy's explicit deny refuses the request.

On AWS, a vault access policy is evaluated for every request on the vault and its
recovery points: an explicit ``Deny`` that applies to the caller refuses the call with
``AccessDeniedException`` (HTTP 403), whatever the caller's own permissions. ministack
stores the policy (``localaws.compat.backup``) but never evaluates it, so a drill could
only check the policy's text, not its effect.

This patch evaluates the explicit denies of the vault's policy for the operations that
ddbguard's policy protects: ``DeleteRecoveryPoint``, ``UpdateRecoveryPointLifecycle``,
``PutBackupVaultAccessPolicy`` and ``DeleteBackupVaultAccessPolicy``. The caller is the
principal ministack resolves from the request's access key; an assumed-role session
counts as its role (``aws:PrincipalArn``), as on AWS.

Supported in a statement: ``Effect: Deny``; ``Principal`` ``"*"`` or ``{"AWS": ...}``;
``Action`` and ``Resource`` with wildcards; conditions ``Arn(Not)Like``,
``Arn(Not)Equals``, ``String(Not)Equals`` and ``String(Not)Like`` on
``aws:PrincipalArn``. A statement with anything else is not applied, and the start-up
log says so: the emulator never denies what it cannot read.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import re
from typing import Any

PROTECTED = {
    ("DELETE", "recovery-point"): "backup:DeleteRecoveryPoint",
    ("POST", "recovery-point"): "backup:UpdateRecoveryPointLifecycle",
    ("PUT", "access-policy"): "backup:PutBackupVaultAccessPolicy",
    ("DELETE", "access-policy"): "backup:DeleteBackupVaultAccessPolicy",
}
_LOG = logging.getLogger("localaws")
_MATCHERS = {
    "ArnLike": (True, True),
    "ArnNotLike": (True, False),
    "ArnEquals": (False, True),
    "ArnNotEquals": (False, False),
    "StringLike": (True, True),
    "StringNotLike": (True, False),
    "StringEquals": (False, True),
    "StringNotEquals": (False, False),
}


def principal_arn(caller_arn: str) -> str:
    """``aws:PrincipalArn`` of a caller: an assumed-role session is its role."""
    match = re.match(r"^arn:([^:]+):sts::(\d+):assumed-role/([^/]+)/.+$", caller_arn)
    return f"arn:{match[1]}:iam::{match[2]}:role/{match[3]}" if match else caller_arn


def _list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _matches(patterns: Any, value: str) -> bool:
    return any(fnmatch.fnmatchcase(value.lower(), str(p).lower()) for p in _list(patterns))


def _condition_holds(condition: dict[str, Any], principal: str) -> bool | None:
    """Whether every condition holds; None when one cannot be evaluated here."""
    for operator, tests in condition.items():
        if operator not in _MATCHERS or set(tests) - {"aws:PrincipalArn"}:
            return None
        wildcards, positive = _MATCHERS[operator]
        values = _list(tests["aws:PrincipalArn"])
        found = any(fnmatch.fnmatchcase(principal, v) for v in values) if wildcards else principal in values
        if found != positive:
            return False
    return True


def denying_statement(policy: dict[str, Any], action: str, principal: str, resource: str) -> str | None:
    """The Sid (or index) of the statement that explicitly denies the request, or None."""
    for index, statement in enumerate(_list(policy.get("Statement", []))):
        if statement.get("Effect") != "Deny":
            continue
        who = statement.get("Principal")
        aws = who.get("AWS") if isinstance(who, dict) else who
        if aws is None or not (aws == "*" or _matches(aws, principal)):
            continue
        if not _matches(statement.get("Action", []), action) or not _matches(statement.get("Resource", "*"), resource):
            continue
        holds = _condition_holds(statement.get("Condition", {}), principal)
        if holds is None:
            _LOG.warning("vault policy statement %s has a condition the local AWS cannot evaluate; not applied", index)
            continue
        if holds:
            return str(statement.get("Sid", index))
    return None


def refusal(policy_text: str | None, action: str, principal: str, resource: str) -> tuple[int, dict, bytes] | None:
    """AWS's AccessDeniedException when the policy denies the request; None otherwise."""
    if not policy_text:
        return None
    if denying_statement(json.loads(policy_text), action, principal, resource) is None:
        return None
    message = (
        f"User: {principal} is not authorized to perform: {action} on resource: {resource} "
        "with an explicit deny in a resource-based policy"
    )
    headers = {"Content-Type": "application/json", "x-amzn-errortype": "AccessDeniedException"}
    return 403, headers, json.dumps({"__type": "AccessDeniedException", "Message": message}).encode()


def caller(headers: dict, query: dict) -> str:
    """The request's principal, as ministack resolves its access key."""
    from ministack.core.iam_evaluator import resolve_caller_identity
    from ministack.core.responses import get_account_id
    from ministack.core.router import extract_access_key_id

    identity = resolve_caller_identity(extract_access_key_id(headers, query) or "")
    return principal_arn(identity["userArn"] if identity else f"arn:aws:iam::{get_account_id()}:root")


def install() -> None:
    """Nothing to install: localaws.compat.backup calls ``refusal`` before the operations above."""

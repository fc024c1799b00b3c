"""IAM: ``aws:PrincipalArn`` of an assumed-role session is its role's ARN.

On AWS, for a request made with an assumed-role session, the global condition key
``aws:PrincipalArn`` is the ARN of the role (with its path), not the session's
``arn:aws:sts::<account>:assumed-role/<role>/<session>``. ministack answers the session's
ARN, so a policy that allows or denies by role (our marker key's policy allows
``kms:GenerateMac`` only when ``aws:PrincipalArn`` is the monitor's role) refuses the
role's own Lambda function.

This patch answers the role's ARN, read from the emulator's IAM (so a role path is kept),
for that one key; every other key and the principal matching of ``Principal`` elements
stay ministack's.
"""

from __future__ import annotations

import re

_SESSION = re.compile(r"^arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/.+$")


def role_arn(principal_arn: str) -> str:
    """``aws:PrincipalArn`` of a caller: an assumed-role session is its role."""
    match = _SESSION.match(principal_arn)
    if not match:
        return principal_arn
    partition, account, name = match.groups()
    try:
        from ministack.services import iam as iam_svc

        role = iam_svc._roles.get_scoped(account, None, name) or {}
    except (ImportError, AttributeError):
        role = {}
    return role.get("Arn") or f"arn:{partition}:iam::{account}:role/{name}"


def install() -> None:
    from ministack.core import iam_evaluator

    original = iam_evaluator._resolve_condition_key
    if getattr(original, "_localaws_patched", False):
        return

    def resolve(key, ctx):
        if key.lower() == "aws:principalarn":
            return role_arn(ctx.principal_arn)
        return original(key, ctx)

    resolve._localaws_patched = True
    iam_evaluator._resolve_condition_key = resolve

"""IAM: ``iam:PolicyARN`` is a condition key of attaching and detaching a managed policy.

On AWS, ``iam:AttachRolePolicy``, ``iam:DetachRolePolicy`` (and their user and group
forms) carry the condition key ``iam:PolicyARN``: the managed policy the request names.
Our operator policy lets only AWS Backup's two managed policies be attached to the backup
role with it. ministack does not set the key, so the condition never holds and the
attachment is refused (it would be allowed on AWS); a condition that named the wrong
policy would be refused the same way, so the test proved nothing either way.

This patch sets the key from the request's ``PolicyArn``.
"""

from __future__ import annotations

from localaws.compat.iam_request import Request, Rule, register

ACTIONS = {
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:DetachUserPolicy",
    "iam:AttachGroupPolicy",
    "iam:DetachGroupPolicy",
}


def resolve(request: Request, action: str) -> Rule | None:
    if action not in ACTIONS:
        return None
    policy = request.param("PolicyArn")
    return Rule(context={"iam:policyarn": policy}) if policy else None


def install() -> None:
    register(resolve)

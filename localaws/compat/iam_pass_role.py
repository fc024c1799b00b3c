"""IAM: a request that hands a role to a service needs ``iam:PassRole`` on that role.

On AWS, ``lambda:CreateFunction`` and ``lambda:UpdateFunctionConfiguration`` with a
``Role``, and AWS Backup's ``CreateBackupSelection``, ``StartBackupJob``,
``StartRestoreJob`` and ``StartCopyJob`` with an ``IamRoleArn``, ``Create/UpdateRestoreTestingSelection``
with one, and Step Functions'
``CreateStateMachine`` and ``UpdateStateMachine`` with a ``roleArn``, are also authorized as ``iam:PassRole`` on the
role, with the condition key ``iam:PassedToService`` naming the service the role is passed
to (``lambda.amazonaws.com``, ``backup.amazonaws.com``, ``states.amazonaws.com``). Without it the request is
refused, whatever the caller may do with the service. ministack makes no such check, so a
policy that forgot ``iam:PassRole``, or scoped it to the wrong service, passed here.

This patch adds the check (``localaws/compat/iam_request.py``), evaluated by ministack's
engine after the request's own action allows.
"""

from __future__ import annotations

from localaws.compat.iam_request import Check, Request, Rule, register

# The action, the request field that names the role, the service it is passed to.
PASSES = {
    "lambda:CreateFunction": ("Role", "lambda.amazonaws.com"),
    "lambda:UpdateFunctionConfiguration": ("Role", "lambda.amazonaws.com"),
    "backup:CreateBackupSelection": ("BackupSelection.IamRoleArn", "backup.amazonaws.com"),
    "backup:StartBackupJob": ("IamRoleArn", "backup.amazonaws.com"),
    "backup:StartRestoreJob": ("IamRoleArn", "backup.amazonaws.com"),
    "backup:StartCopyJob": ("IamRoleArn", "backup.amazonaws.com"),
    "backup:CreateRestoreTestingSelection": ("RestoreTestingSelection.IamRoleArn", "backup.amazonaws.com"),
    "backup:UpdateRestoreTestingSelection": ("RestoreTestingSelection.IamRoleArn", "backup.amazonaws.com"),
    "states:CreateStateMachine": ("roleArn", "states.amazonaws.com"),
    "states:UpdateStateMachine": ("roleArn", "states.amazonaws.com"),
}


def passed_role(doc: dict, field: str) -> str:
    value = doc
    for name in field.split("."):
        value = value.get(name) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


def resolve(request: Request, action: str) -> Rule | None:
    passes = PASSES.get(action)
    if passes is None:
        return None
    role = passed_role(request.json(), passes[0])
    if not role:
        return None
    return Rule(checks=[Check("iam:PassRole", role, {"iam:passedtoservice": passes[1]})])


def install() -> None:
    register(resolve)

"""IAM: the resources AWS authorizes a request on, for the calls our flow makes.

On AWS, each action is authorized on the resources the Service Authorization Reference
names for it: a backup vault, plan or recovery point; the table, topic or key whose ARN
a tagging call carries; each alarm or dashboard a CloudWatch call names; the function
``lambda:CreateFunction`` creates; the export ``DescribeExport`` names; the stream a
DynamoDB Streams call reads (``GetRecords``: the stream its shard iterator was issued for);
the state machine a Step Functions tagging call names (``resourceArn``); the rule an
EventBridge target call names (``Rule``).
ministack builds no ARN for these and authorizes them on
``*``, which a policy scoped to our resources (ours all are) does not match: the operator
was refused what AWS allows it, and a policy scoped to the wrong resource could not be
told from a right one.

Some calls are authorized on more than one resource, and this patch makes those checks
too:

- a KMS alias call (``CreateAlias``, ``UpdateAlias``, ``DeleteAlias``) on the alias and on
  the key it points to (the key's policy applies to the second);
- any other KMS call that names a key by its alias (``KeyId: alias/...``) is authorized on
  the key the alias points to, not on the alias;
- ``dynamodb:RestoreTableToPointInTime`` on the source table, and, on the table it creates,
  the read and write rights DynamoDB's documentation lists (``PutItem``, ``UpdateItem``,
  ``DeleteItem``, ``GetItem``, ``Query``, ``Scan``, ``BatchWriteItem``); the same rights for
  ``RestoreTableFromBackup``'s target.

Each ARN is the one the reference's resource type defines; a vault another account shares
(``backupVaultAccountId``) is its owner's. A plan that does not exist yet
(``CreateBackupPlan``) is ``backup-plan:*``: its id is made by the call. A restore testing
plan is ``restore-testing-plan:<name>-<id>``; before it exists (``CreateRestoreTestingPlan``),
``<name>-*``; its selections' calls are authorized on the plan.
"""

from __future__ import annotations

from urllib.parse import unquote

from localaws.compat.iam_request import Check, Request, Rule, register

RESTORE_TARGET_RIGHTS = (
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:BatchWriteItem",
)


def _backup(request: Request, action: str) -> Rule | None:
    parts = request.parts()
    if not parts:
        return None
    if parts[0] in ("tags", "untag") and len(parts) > 1:
        return Rule("/".join(parts[1:]))
    if parts[0] in ("backup-vaults", "logically-air-gapped-backup-vaults") and len(parts) > 1:
        if len(parts) > 3 and parts[2] == "recovery-points":
            return Rule("/".join(parts[3:]))
        owner = request.param("backupVaultAccountId") or request.account  # a vault shared by its owner
        return Rule(f"arn:aws:backup:{request.region}:{owner}:backup-vault:{parts[1]}")
    if parts[:2] == ["backup", "plans"]:
        plan = parts[2] if len(parts) > 2 else "*"
        return Rule(request.arn("backup", f"backup-plan:{plan}"))
    doc = request.json()
    if parts[:2] == ["restore-testing", "plans"]:
        name = parts[2] if len(parts) > 2 else (doc.get("RestoreTestingPlan") or {}).get("RestoreTestingPlanName")
        return Rule(_restore_testing_plan(request, name)) if isinstance(name, str) and name else None
    if action in ("backup:StartRestoreJob", "backup:StartCopyJob") and isinstance(doc.get("RecoveryPointArn"), str):
        return Rule(doc["RecoveryPointArn"])
    if action == "backup:StartBackupJob" and isinstance(doc.get("BackupVaultName"), str):
        return Rule(request.arn("backup", f"backup-vault:{doc['BackupVaultName']}"))
    return None


def _restore_testing_plan(request: Request, name: str) -> str:
    """A restore testing plan's ARN (``restore-testing-plan:<name>-<id>``, the id made by
    AWS at its creation): the plan's own once it exists, ``<name>-*`` before."""
    from localaws.compat import backup

    plan = backup.STORE.restore_testing_plans.get(f"{request.account}|{request.region}|{name}")
    return plan["RestoreTestingPlanArn"] if plan else request.arn("backup", f"restore-testing-plan:{name}-*")


def _table(request: Request, name: str) -> str:
    return name if name.startswith("arn:") else request.arn("dynamodb", f"table/{name}")


def _dynamodb(request: Request, action: str) -> Rule | None:
    doc = request.json()
    if action in ("dynamodb:ListTagsOfResource", "dynamodb:TagResource", "dynamodb:UntagResource"):
        arn = doc.get("ResourceArn")
        return Rule(arn) if isinstance(arn, str) and arn else None
    if action == "dynamodb:DescribeExport":
        arn = doc.get("ExportArn")
        return Rule(arn) if isinstance(arn, str) and arn else None
    target = doc.get("TargetTableName")
    if not isinstance(target, str) or not target:
        return None
    checks = [Check(right, _table(request, target)) for right in RESTORE_TARGET_RIGHTS]
    if action == "dynamodb:RestoreTableToPointInTime":
        source = doc.get("SourceTableArn") or doc.get("SourceTableName")
        return Rule(_table(request, source) if isinstance(source, str) and source else None, checks=checks)
    if action == "dynamodb:RestoreTableFromBackup" and isinstance(doc.get("BackupArn"), str):
        return Rule(doc["BackupArn"], checks=checks)
    return None


def _names(request: Request, member: str) -> list[str]:
    """The names a query-protocol list parameter (``X.member.N``) or a JSON list carries."""
    names = []
    index = 1
    while name := request.param(f"{member}.member.{index}"):
        names.append(name)
        index += 1
    if not names:
        doc = request.json()  # the JSON protocol of newer clients
        names = [n for n in doc.get(member) or [] if isinstance(n, str)]
    return names


def _dashboard(request: Request, action: str) -> Rule | None:
    """A dashboard's ARN has no region: arn:aws:cloudwatch::<account>:dashboard/<name>."""
    if action == "cloudwatch:DeleteDashboards":
        names = _names(request, "DashboardNames")
    else:
        name = request.param("DashboardName") or request.json().get("DashboardName")
        names = [name] if isinstance(name, str) and name else []
    if not names:
        return None
    arns = [f"arn:aws:cloudwatch::{request.account}:dashboard/{name}" for name in names]
    return Rule(arns[0], checks=[Check(action, arn) for arn in arns[1:]])


def _cloudwatch(request: Request, action: str) -> Rule | None:
    if action in ("cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"):
        return _dashboard(request, action)
    if action not in ("cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"):
        return None
    names = _names(request, "AlarmNames")
    if not names:
        return None
    arns = [request.arn("cloudwatch", f"alarm:{name}") for name in names]
    return Rule(arns[0], checks=[Check(action, arn) for arn in arns[1:]])


def _key_arn(request: Request, key: str) -> str:
    if key.startswith("arn:"):
        return key
    if key.startswith("alias/"):
        return _alias_target(request, key) or request.arn("kms", key)
    return request.arn("kms", f"key/{key}")


def _alias_target(request: Request, alias: str) -> str | None:
    """The key an existing alias points to (ministack keeps alias ARN -> key id)."""
    from ministack.services import kms

    key = kms._aliases.get(request.arn("kms", alias))
    return request.arn("kms", f"key/{key}") if isinstance(key, str) and key else None


ALIAS_ACTIONS = ("kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias")


def _kms(request: Request, action: str) -> Rule | None:
    doc = request.json()
    if action not in ALIAS_ACTIONS:
        # A key named by its alias is authorized on the key the alias points to.
        key = doc.get("KeyId")
        if isinstance(key, str) and key.startswith("alias/"):
            target = _alias_target(request, key)
            return Rule(target) if target else None
        return None
    alias = doc.get("AliasName")
    if not isinstance(alias, str) or not alias:
        return None
    key = doc.get("TargetKeyId") if action != "kms:DeleteAlias" else _alias_target(request, alias)
    checks = [Check(action, _key_arn(request, key))] if isinstance(key, str) and key else []
    return Rule(request.arn("kms", alias), checks=checks)


def _lambda(request: Request, action: str) -> Rule | None:
    if action != "lambda:CreateFunction":
        return None
    name = request.json().get("FunctionName")
    if not isinstance(name, str) or not name:
        return None
    return Rule(name if name.startswith("arn:") else request.arn("lambda", f"function:{name}"))


def _sns(request: Request, action: str) -> Rule | None:
    if action not in ("sns:ListTagsForResource", "sns:TagResource", "sns:UntagResource"):
        return None
    arn = request.param("ResourceArn")
    return Rule(unquote(arn)) if arn else None


def _streams(request: Request, action: str) -> Rule | None:
    """DynamoDB Streams calls are authorized on the stream; GetRecords on the stream its
    shard iterator was issued for."""
    doc = request.json()
    if action in ("dynamodb:DescribeStream", "dynamodb:GetShardIterator"):
        arn = doc.get("StreamArn")
        return Rule(arn) if isinstance(arn, str) and arn else None
    if action == "dynamodb:GetRecords" and isinstance(doc.get("ShardIterator"), str):
        from ministack.services.dynamodb_streams import _decode_iterator

        arn = (_decode_iterator(doc["ShardIterator"]) or {}).get("arn")
        return Rule(arn) if isinstance(arn, str) and arn else None
    return None


def _states(request: Request, action: str) -> Rule | None:
    """Step Functions tagging calls are authorized on the state machine they name."""
    if action not in ("states:ListTagsForResource", "states:TagResource", "states:UntagResource"):
        return None
    arn = request.json().get("resourceArn")
    return Rule(arn) if isinstance(arn, str) and arn else None


def _events(request: Request, action: str) -> Rule | None:
    """EventBridge target calls (``PutTargets``, ``RemoveTargets``, ``ListTargetsByRule``) are
    authorized on the rule their ``Rule`` names: ``rule/<name>`` on the default bus,
    ``rule/<bus>/<name>`` on another."""
    if action not in ("events:PutTargets", "events:RemoveTargets", "events:ListTargetsByRule"):
        return None
    doc = request.json()
    name, bus = doc.get("Rule"), doc.get("EventBusName") or "default"
    if not isinstance(name, str) or not name:
        return None
    if name.startswith("arn:"):
        return Rule(name)
    path = name if bus == "default" else f"{bus}/{name}"
    return Rule(request.arn("events", f"rule/{path}"))


RESOLVERS = {
    "events": _events,
    "backup": _backup,
    "states": _states,
    "dynamodb": _dynamodb,
    "dynamodbstreams": _streams,
    "monitoring": _cloudwatch,
    "kms": _kms,
    "lambda": _lambda,
    "sns": _sns,
}


def resolve(request: Request, action: str) -> Rule | None:
    resolver = RESOLVERS.get(request.service)
    return resolver(request, action) if resolver else None


def install() -> None:
    register(resolve)

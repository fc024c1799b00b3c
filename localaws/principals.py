"""The principals of the local AWS, made by the launcher with the account's root key only.

With IAM evaluation on (``AUTH=true``), every request is allowed or refused by the
caller's policies, as on AWS. The launcher's bootstrap is the only code that uses the
account's root key: it makes, idempotently,

- ``operator``: an IAM user holding exactly ``docs/operator-policy.json`` and nothing
  else. Every play runs as this user (``inventories/local`` reads its key);
- ``writer``: a user that may read and write the items of any table but ddbguard's audit
  tables, and nothing else: an application, careless or hostile. Tests write as it;
- ``auditor``: a user that may read (``Describe*``, ``Get*``, ``List*``) and nothing else.
  Tests check what the plays made as it;
- ``tester``: an administrator of the services our flow uses, for the modules' integration
  targets and the emulator's own tests, which make resources of any name. It proves
  modules and the emulator, never our policies;
- ``ddbguard-break-glass``: the role the operator assumes to delete data (teardown with
  ``ddbguard_teardown_confirm``), trusted by the operator only, allowed only the
  deletions the vault policy reserves for it;
- ``recovery``: in another account, the recovery account (``RECOVERY_ACCOUNT``), a user
  holding exactly ``docs/recovery-policy.json``: what ``playbooks/recover-account.yml`` and
  the drill's account-loss tier need to restore from the air-gapped vault the source
  account shares with it, and nothing in the source account; and ``recovery_auditor``, the
  auditor's read-only policy in that account, with which tests check what it holds.

Their keys are written to ``<target dir>/principals.json`` (mode 0600), which git
ignores with the rest of ``.localaws/``. A restart keeps them (the emulator persists
IAM); a reset or a lost state makes them again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import boto3

ACCOUNT = "000000000000"
# ministack treats a 12-digit access key id as the root of that account.
ROOT_KEY = ACCOUNT
OPERATOR_POLICY = Path(__file__).resolve().parent.parent / "docs" / "operator-policy.json"
# The account that restores when ACCOUNT is lost (inventories/local shares the vault with it).
RECOVERY_ACCOUNT = "222222222222"
RECOVERY_POLICY = Path(__file__).resolve().parent.parent / "docs" / "recovery-policy.json"
FILE_NAME = "principals.json"

# An application: the items of its tables, not ddbguard's audit tables, nothing else.
WRITER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadAndWriteItemsOnly",
            "Effect": "Allow",
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:BatchGetItem",
                "dynamodb:Query",
                "dynamodb:Scan",
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:DescribeTable",
            ],
            "Resource": "arn:aws:dynamodb:*:*:table/*",
        },
        {"Sid": "ListTables", "Effect": "Allow", "Action": "dynamodb:ListTables", "Resource": "*"},
        {
            "Sid": "NotTheAuditTables",
            "Effect": "Deny",
            "Action": "dynamodb:*",
            "Resource": "arn:aws:dynamodb:*:*:table/*-ddbguard-audit",
        },
    ],
}

# Reads what the plays made, to check it: every service's read calls, no write.
AUDITED_SERVICES = ["dynamodb", "backup", "lambda", "iam", "sqs", "sns", "cloudwatch", "logs", "ssm", "kms", "events"]
AUDITOR_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadOnly",
            "Effect": "Allow",
            "Action": [f"{service}:{verb}*" for service in AUDITED_SERVICES for verb in ("Describe", "Get", "List")]
            + [
                "dynamodb:Scan",
                "dynamodb:Query",
                "dynamodb:BatchGetItem",
                "logs:FilterLogEvents",
                "sts:GetCallerIdentity",
            ],
            "Resource": "*",
        }
    ],
}

# The modules' integration targets and the emulator's own tests make resources of any name:
# an administrator of the services our flow uses. Its requests are evaluated (key and vault
# policies, resource ARNs); it proves modules and the emulator, never our policies.
TESTER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AdministerTheServicesOfTheFlow",
            "Effect": "Allow",
            "Action": [
                f"{service}:*"
                for service in (
                    "dynamodb",
                    "backup",
                    "backup-storage",
                    "kms",
                    "lambda",
                    "iam",
                    "sqs",
                    "sns",
                    "cloudwatch",
                    "logs",
                    "ssm",
                    "sts",
                    "s3",
                    "states",
                    "ram",
                    "events",
                )
            ],
            "Resource": "*",
        }
    ],
}

BREAK_GLASS_ROLE = "ddbguard-break-glass"
BREAK_GLASS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DeleteTheRecoveryPointsAndTheVaultPolicy",
            "Effect": "Allow",
            "Action": [
                "backup:ListRecoveryPointsByBackupVault",
                "backup:DescribeRecoveryPoint",
                "backup:DeleteRecoveryPoint",
                "backup:DescribeBackupVault",
                "backup:GetBackupVaultAccessPolicy",
                "backup:PutBackupVaultAccessPolicy",
                "backup:DeleteBackupVaultAccessPolicy",
                "backup:GetBackupVaultNotifications",
            ],
            "Resource": ["arn:aws:backup:*:*:backup-vault:*", "arn:aws:backup:*:*:recovery-point:*"],
        },
        {
            "Sid": "DeleteTheExportsBucket",
            "Effect": "Allow",
            "Action": [
                "s3:ListBucket",
                "s3:ListBucketVersions",
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
                "s3:DeleteBucket",
            ],
            "Resource": ["arn:aws:s3:::ddbguard-exports-*", "arn:aws:s3:::ddbguard-exports-*/*"],
        },
    ],
}


def root_client(service: str, endpoint: str, region: str = "us-east-1", account: str = ACCOUNT):
    """A client with an account's root key: the bootstrap's only."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=account,
        aws_secret_access_key=account,
    )


def _user(iam, name: str, policy: dict, previous: dict | None) -> dict:
    try:
        user = iam.get_user(UserName=name)["User"]
    except iam.exceptions.NoSuchEntityException:
        user = iam.create_user(UserName=name, Tags=[{"Key": "ddbguard:local", "Value": "true"}])["User"]
    iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=json.dumps(policy))
    for extra in iam.list_user_policies(UserName=name)["PolicyNames"]:
        if extra != name:
            iam.delete_user_policy(UserName=name, PolicyName=extra)
    for attached in iam.list_attached_user_policies(UserName=name)["AttachedPolicies"]:
        iam.detach_user_policy(UserName=name, PolicyArn=attached["PolicyArn"])
    keys = [k["AccessKeyId"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]]
    if previous and previous.get("access_key_id") in keys:
        return previous
    for key in keys:
        iam.delete_access_key(UserName=name, AccessKeyId=key)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"arn": user["Arn"], "access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}


def _break_glass(iam, operator_arn: str) -> dict:
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": operator_arn}, "Action": "sts:AssumeRole"}],
    }
    try:
        role = iam.get_role(RoleName=BREAK_GLASS_ROLE)["Role"]
        iam.update_assume_role_policy(RoleName=BREAK_GLASS_ROLE, PolicyDocument=json.dumps(trust))
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName=BREAK_GLASS_ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(
        RoleName=BREAK_GLASS_ROLE, PolicyName=BREAK_GLASS_ROLE, PolicyDocument=json.dumps(BREAK_GLASS_POLICY)
    )
    return {"arn": role["Arn"]}


def path(target_dir: Path) -> Path:
    return target_dir / FILE_NAME


def load(target_dir: Path) -> dict:
    """The principals the bootstrap wrote for this target; {} when none."""
    try:
        return json.loads(path(target_dir).read_text())
    except (OSError, ValueError):
        return {}


def bootstrap(endpoint: str, target_dir: Path, operator_policy_file: Path = OPERATOR_POLICY) -> dict:
    """Make the principals (idempotently) and write their keys; return them."""
    iam = root_client("iam", endpoint)
    previous = load(target_dir)
    operator_policy = json.loads(operator_policy_file.read_text())
    found = {
        "operator": _user(iam, "ddbguard-operator", operator_policy, previous.get("operator")),
        "writer": _user(iam, "ddbguard-writer", WRITER_POLICY, previous.get("writer")),
        "auditor": _user(iam, "ddbguard-auditor", AUDITOR_POLICY, previous.get("auditor")),
        "tester": _user(iam, "ddbguard-tester", TESTER_POLICY, previous.get("tester")),
    }
    found["break_glass"] = _break_glass(iam, found["operator"]["arn"])
    recovery_iam = root_client("iam", endpoint, account=RECOVERY_ACCOUNT)
    recovery_policy = json.loads(RECOVERY_POLICY.read_text())
    found["recovery"] = _user(recovery_iam, "ddbguard-recovery-operator", recovery_policy, previous.get("recovery"))
    found["recovery_auditor"] = _user(
        recovery_iam, "ddbguard-recovery-auditor", AUDITOR_POLICY, previous.get("recovery_auditor")
    )
    if found != previous:
        file = path(target_dir)
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(found, out, indent=2)
        tmp.replace(file)
    return found


def client(target_dir: Path, endpoint: str, who: str, service: str, region: str = "us-east-1"):
    """A client acting as one of the bootstrap's users (``operator``, ``writer``, ``auditor``, ``tester``,
    ``recovery``)."""
    keys = load(target_dir)[who]
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=keys["access_key_id"],
        aws_secret_access_key=keys["secret_access_key"],
    )

"""docs/operator-policy.json is complete: it allows every AWS action that site.yml,
playbooks/verify.yml and playbooks/teardown.yml call, and it is least-privilege.

The calls are recorded by tests/recorder/sitecustomize.py in every Python process of the
runs (ansible-playbook and each module). The local AWS does not evaluate IAM, so this
proves the list of actions, not the resource scoping; the scoping is read in the policy.
"""

from __future__ import annotations

import fnmatch
import json

import pytest

from tests import iam_lint
from tests.integration.conftest import ROOT

pytestmark = pytest.mark.integration

POLICY = json.loads((ROOT / "docs" / "operator-policy.json").read_text())
RECORDER = ROOT / "tests" / "recorder"

# Actions AWS checks on the operator although no client calls them by that name.
DEPENDENT = {
    "iam:PassRole": "CreateFunction passes the execution role; StartBackupJob, CreateBackupSelection the backup role",
    "kms:CreateGrant": "DynamoDB, AWS Backup and CloudWatch Logs take a grant on the key for the operator",
    "kms:DescribeKey": "the same services describe the key they are given",
    "backup-storage:MountCapsule": "CreateBackupVault mounts the vault's storage",
    # A point-in-time restore needs read and write rights on the table it creates.
    "dynamodb:UpdateItem": "RestoreTableToPointInTime writes the restored table",
    "dynamodb:BatchWriteItem": "RestoreTableToPointInTime writes the restored table",
    "dynamodb:Query": "RestoreTableToPointInTime reads the restored table",
}
# Actions that AWS does not let a policy scope to a resource: "Resource": "*" is their only form.
UNSCOPABLE = {
    "sts:GetCallerIdentity",
    "iam:ListAccountAliases",
    "kms:CreateKey",
    "kms:ListAliases",
    "sns:ListTopics",
    "ssm:DescribeParameters",
    "backup:ListBackupPlans",
    "backup:DescribeBackupJob",
    "backup:ListRestoreJobs",
    "backup:DescribeRestoreJob",
    "backup-storage:MountCapsule",
    "lambda:ListEventSourceMappings",
    "lambda:CreateEventSourceMapping",
    "logs:DescribeLogGroups",
}


def allowed(action: str) -> list[str]:
    """Sids of the Allow statements whose actions match ``action``."""
    return [
        s["Sid"]
        for s in iam_lint.statements(POLICY)
        if s["Effect"] == "Allow" and any(fnmatch.fnmatchcase(action, a) for a in iam_lint._list(s["Action"]))
    ]


@pytest.fixture(scope="module")
def recorded(local_aws, tmp_path_factory):
    # verify.yml's drill restores through the dr_restore role, as playbooks/restore.yml does.
    calls = tmp_path_factory.mktemp("calls") / "calls.txt"
    env = {"PYTHONPATH": str(RECORDER), "DDBGUARD_RECORD_API_CALLS": str(calls)}
    reports = tmp_path_factory.mktemp("reports")
    local_aws.playbook("site.yml", env=env)
    local_aws.playbook("playbooks/verify.yml", "-e", f"ddbguard_report_dir={reports}", env=env)
    local_aws.playbook("playbooks/teardown.yml", env=env)
    local_aws.playbook("site.yml", env=env)
    # The vault policy lets only the break-glass role (the local inventory names it) delete data.
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "sts:AssumeRole"}
        ],
    }
    role = local_aws.client("iam").create_role(
        RoleName="ddbguard-break-glass", AssumeRolePolicyDocument=json.dumps(trust)
    )
    confirm = {"ddbguard_teardown_confirm": ["ddbguard-demo"], "ddbguard_break_glass_role_arn": role["Role"]["Arn"]}
    local_aws.playbook("playbooks/teardown.yml", "-e", json.dumps(confirm), env=env)
    return set(calls.read_text().split())


def test_the_recorder_saw_every_kind_of_call(recorded):
    services = {action.split(":")[0] for action in recorded}
    assert services >= {"dynamodb", "kms", "iam", "lambda", "logs", "sqs", "ssm", "cloudwatch", "sns", "backup", "sts"}
    assert {"dynamodb:CreateTable", "dynamodb:PutItem", "backup:StartBackupJob", "backup:DeleteBackupVault"} <= recorded


def test_the_published_policy_allows_every_recorded_action(recorded):
    missing = sorted(a for a in recorded if not allowed(a))
    assert missing == [], f"not allowed by docs/operator-policy.json: {' '.join(missing)}"


def test_the_published_policy_allows_what_aws_checks_besides(recorded):
    assert sorted(a for a in DEPENDENT if not allowed(a)) == []


def test_the_published_policy_is_least_privilege():
    for statement in iam_lint.statements(POLICY):
        actions = iam_lint._list(statement["Action"])
        assert not [a for a in actions if a == "*" or a.endswith(":*")], statement["Sid"]
        if "*" in iam_lint._list(statement["Resource"]):
            assert set(actions) <= UNSCOPABLE, statement["Sid"]
        if "iam:PassRole" in actions:
            assert "iam:PassedToService" in json.dumps(statement["Condition"]), statement["Sid"]
    assert iam_lint.unexplained_findings("operator", POLICY) == []

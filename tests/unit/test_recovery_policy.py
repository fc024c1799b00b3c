"""docs/recovery-policy.json, the recovery account's, is least privilege: no wildcard action,
Resource "*" only where AWS cannot scope, the recovery role passed to AWS Backup only, and
every parliament finding explained (tests/iam_lint.py). Its being enough is proven by
tests/integration/test_recover_account.py, which runs as it."""

from __future__ import annotations

import json
from pathlib import Path

from tests import iam_lint

POLICY = json.loads((Path(__file__).resolve().parents[2] / "docs" / "recovery-policy.json").read_text())
# AWS cannot scope these to a resource (Service Authorization Reference).
UNSCOPABLE = {
    "iam:ListAccountAliases",
    "ram:GetResourceShareInvitations",
    "backup:DescribeRestoreJob",
    "backup:ListRestoreJobs",
}


def test_no_wildcard_action_and_resource_star_only_where_aws_cannot_scope():
    for statement in iam_lint.statements(POLICY):
        actions = iam_lint._list(statement["Action"])
        assert not [a for a in actions if a == "*" or a.endswith(":*")], statement["Sid"]
        if "*" in iam_lint._list(statement["Resource"]):
            assert set(actions) <= UNSCOPABLE, statement["Sid"]


def test_the_recovery_role_is_passed_to_aws_backup_only_and_holds_its_restore_policy_only():
    passing = [s for s in iam_lint.statements(POLICY) if "iam:PassRole" in iam_lint._list(s["Action"])]
    assert passing and all(
        s["Condition"] == {"StringEquals": {"iam:PassedToService": "backup.amazonaws.com"}} for s in passing
    )
    attaching = [s for s in iam_lint.statements(POLICY) if "iam:AttachRolePolicy" in iam_lint._list(s["Action"])]
    assert [s["Condition"]["ArnEquals"]["iam:PolicyARN"] for s in attaching] == [
        "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"
    ]
    for statement in passing + attaching:
        assert statement["Resource"] == ["arn:aws:iam::*:role/ddbguard-recovery-restore"]


def test_nothing_deletes_but_the_drills_scratch_tables():
    deleting = [a for s in iam_lint.statements(POLICY) for a in iam_lint._list(s["Action"]) if "Delete" in a]
    assert deleting == ["dynamodb:DeleteTable"]  # and community.aws.dynamodb_table reads the tags first
    [statement] = [s for s in iam_lint.statements(POLICY) if "dynamodb:DeleteTable" in s["Action"]]
    assert statement["Resource"] == ["arn:aws:dynamodb:*:*:table/*-drill-*"]


def test_parliament_finds_nothing_unexplained():
    assert iam_lint.unexplained_findings("recovery", POLICY) == []

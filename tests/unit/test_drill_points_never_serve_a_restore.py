"""A drill's recovery point holds canary items: it must never be "the latest recovery point
before T" of an operator's restore (``backup_restore_job``) or of an incident (the monitor's
escalation). Both skip recovery points tagged ``ddbguard:drill`` unless asked."""

from __future__ import annotations

import datetime

import pytest
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardAWSError
from ansible_collections.ddbguard.dr.plugins.modules import backup_restore_job

from change_monitor.incidents import Escalation

T0 = datetime.datetime(2026, 12, 5, tzinfo=datetime.UTC)
TABLE_ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/orders"


class FakeBackup:
    """ListRecoveryPointsByBackupVault (one page) and ListTags, with a NextToken on tags."""

    def __init__(self, points):
        self.points, self.tag_calls = points, []

    def get_paginator(self, name):
        assert name == "list_recovery_points_by_backup_vault"
        points = self.points

        class Paginator:
            def paginate(self, **kwargs):
                before = kwargs.get("ByCreatedBefore")
                page = [p for p in points if before is None or p["CreationDate"] < before]
                return Pages([{"RecoveryPoints": page}])

        return Paginator()

    def list_tags(self, ResourceArn, NextToken=None):  # noqa: N803 - boto3's shape
        self.tag_calls.append(ResourceArn)
        tags = next(p["_tags"] for p in self.points if p["RecoveryPointArn"] == ResourceArn)
        items = sorted(tags.items())
        if NextToken is None and len(items) > 1:
            return {"Tags": dict(items[:1]), "NextToken": "2"}
        return {"Tags": dict(items[1:] if NextToken else items)}


class Pages(list):
    def build_full_result(self):
        return {"RecoveryPoints": [p for page in self for p in page["RecoveryPoints"]]}


def point(name, minutes, tags=None, status="COMPLETED"):
    return {
        "RecoveryPointArn": f"arn:aws:backup:us-east-1:000000000000:recovery-point:{name}",
        "CreationDate": T0 + datetime.timedelta(minutes=minutes),
        "Status": status,
        "_tags": tags or {},
    }


POINTS = [
    point("scheduled-old", 0, {"owner": "plan"}),
    point("scheduled", 10),
    point("drill", 20, {"owner": "ops", "ddbguard:drill": "run-1"}),  # its tags come in two pages
    point("drill-2", 25, {"ddbguard:drill": "run-2"}),
    point("failed", 28, status="FAILED"),
]
BEFORE = T0 + datetime.timedelta(minutes=30)


def test_the_monitors_escalation_skips_the_drills_recovery_points():
    backup = FakeBackup(POINTS)
    chosen = Escalation(backup, "vault", "role").latest_point_before(TABLE_ARN, BEFORE.timestamp())
    assert chosen["RecoveryPointArn"].endswith(":scheduled")
    only_drills = FakeBackup([p for p in POINTS if "drill" in p["RecoveryPointArn"]])
    assert Escalation(only_drills, "v", "r").latest_point_before(TABLE_ARN, BEFORE.timestamp()) is None


def params(**extra):
    base = dict(
        recovery_point_arn=None,
        backup_vault_name="vault",
        resource_arn=TABLE_ARN,
        include_drill_points=False,
    )
    return base | extra


def test_an_operators_restore_skips_the_drills_recovery_points_and_says_so():
    chosen = backup_restore_job.choose_point(FakeBackup(POINTS), params(), BEFORE)
    assert chosen["RecoveryPointArn"].endswith(":scheduled")
    assert [a.rsplit(":", 1)[1] for a in chosen["skipped_drill_points"]] == ["drill-2", "drill"]


def test_the_drill_may_ask_for_its_own_recovery_point():
    chosen = backup_restore_job.choose_point(FakeBackup(POINTS), params(include_drill_points=True), BEFORE)
    assert chosen["RecoveryPointArn"].endswith(":drill-2") and chosen["skipped_drill_points"] == []


def test_only_drill_points_before_the_time_is_an_error_that_says_why():
    backup = FakeBackup([p for p in POINTS if "drill" in p["RecoveryPointArn"]])
    with pytest.raises(DdbguardAWSError, match="2 made by the drill were skipped: include_drill_points"):
        backup_restore_job.choose_point(backup, params(), BEFORE)

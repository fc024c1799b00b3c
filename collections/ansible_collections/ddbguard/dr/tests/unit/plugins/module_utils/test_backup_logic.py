"""Decision logic of the backup, restore and vault modules."""

from __future__ import annotations

import datetime
import json

from ansible_collections.ddbguard.dr.plugins.module_utils import backup as bk

T0 = datetime.datetime(2026, 11, 24, 10, 0, tzinfo=datetime.UTC)


def point(minutes, status="COMPLETED", arn=None):
    return {
        "RecoveryPointArn": arn or f"rp-{minutes}",
        "Status": status,
        "CreationDate": T0 + datetime.timedelta(minutes=minutes),
    }


def test_the_latest_completed_point_before_a_time_is_chosen():
    points = [point(0), point(10), point(20, status="PARTIAL"), point(30)]
    cut = (T0 + datetime.timedelta(minutes=25)).timestamp()
    assert bk.latest_recovery_point(points, cut)["RecoveryPointArn"] == "rp-10"
    assert bk.latest_recovery_point(points)["RecoveryPointArn"] == "rp-30"
    assert bk.latest_recovery_point(points, T0.timestamp()) is None  # strictly before


def test_a_point_created_exactly_at_the_cut_is_not_before_it():
    cut = (T0 + datetime.timedelta(minutes=10)).timestamp()
    assert bk.latest_recovery_point([point(10)], cut) is None


def test_a_fresh_point_is_reused_only_within_the_age():
    now = (T0 + datetime.timedelta(minutes=40)).timestamp()
    assert bk.fresh_recovery_point([point(0), point(30)], 15 * 60, now)["RecoveryPointArn"] == "rp-30"
    assert bk.fresh_recovery_point([point(0), point(30)], 5 * 60, now) is None
    assert bk.fresh_recovery_point([], 5 * 60, now) is None


def test_the_vault_policy_denies_the_three_actions_to_all_but_the_exempt():
    policy = bk.vault_access_policy("arn:vault", "arn:rp:*", ["arn:aws:iam::1:role/b", "arn:aws:iam::1:role/a"])
    [statement] = policy["Statement"]
    assert statement["Effect"] == "Deny" and statement["Principal"] == {"AWS": "*"}
    assert set(statement["Action"]) == set(bk.PROTECTED_ACTIONS)
    assert statement["Resource"] == ["arn:vault", "arn:rp:*"]
    assert statement["Condition"]["ArnNotLike"]["aws:PrincipalArn"] == [
        "arn:aws:iam::1:role/a",
        "arn:aws:iam::1:role/b",
    ]
    assert "Condition" not in bk.vault_access_policy("arn:vault", "arn:rp:*", [])["Statement"][0]


def test_policies_compare_as_documents_not_text():
    desired = bk.vault_access_policy("arn:vault", "arn:rp:*", ["arn:aws:iam::1:role/a"])
    reordered = json.loads(json.dumps(desired))
    reordered["Statement"][0]["Action"] = list(reversed(reordered["Statement"][0]["Action"]))
    assert bk.same_policy(json.dumps(reordered, indent=4), desired)
    assert not bk.same_policy(None, desired)
    other = bk.vault_access_policy("arn:vault", "arn:rp:*", ["arn:aws:iam::1:role/z"])
    assert not bk.same_policy(json.dumps(other), desired)


def test_lock_drift_compares_only_the_days_given():
    assert bk.lock_drift({"Locked": False}, {"min_retention_days": 7}) == {"Locked": (False, True)}
    vault = {"Locked": True, "MinRetentionDays": 7, "MaxRetentionDays": 35}
    assert bk.lock_drift(vault, {"min_retention_days": 7, "max_retention_days": None}) == {}
    assert bk.lock_drift(vault, {"min_retention_days": 1, "max_retention_days": 35}) == {"MinRetentionDays": (7, 1)}


def test_lock_settings_are_checked_against_aws_limits():
    assert bk.validate_lock({"min_retention_days": 7, "max_retention_days": 35, "changeable_for_days": 3}) == []
    problems = " ".join(
        bk.validate_lock({"min_retention_days": 40, "max_retention_days": 35, "changeable_for_days": 2})
    )
    assert "must not exceed" in problems and "at least 3" in problems

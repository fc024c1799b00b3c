"""Decision logic of dynamodb_table_protection: what changes, in which order, and what is refused."""

from __future__ import annotations

import pytest
from ansible_collections.ddbguard.dr.plugins.module_utils import table_protection as tp

BARE_TABLE = {"TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/t", "TableStatus": "ACTIVE"}
PROTECTED_TABLE = {
    **BARE_TABLE,
    "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    "DeletionProtectionEnabled": True,
    "SSEDescription": {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": "arn:key/1"},
}
PITR_ON = {"PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED", "RecoveryPeriodInDays": 35}}
TTL_ON = {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}

FULL_PARAMS = {
    "stream": {"enabled": True, "view_type": "NEW_AND_OLD_IMAGES"},
    "point_in_time_recovery": {"enabled": True, "recovery_period_in_days": 35},
    "deletion_protection": True,
    "sse": {"type": "customer_managed", "kms_key": "alias/k"},
    "ttl": {"enabled": True, "attribute_name": "expires_at"},
}


def plan_for(table, params, pitr=None, ttl=None, key_manager="CUSTOMER", key_arn="arn:key/1", **kwargs):
    current = tp.current_settings(table, pitr, ttl, sse_key_manager=key_manager)
    desired = tp.desired_settings(params, resolved_kms_key_arn=key_arn)
    return tp.plan("t", current, desired, **kwargs), current, desired


def test_a_bare_table_gets_one_step_per_setting_in_a_safe_order():
    steps, _current, _desired = plan_for(BARE_TABLE, FULL_PARAMS)
    assert [s["api"] for s in steps] == [
        "update_table",
        "update_table",
        "update_table",
        "update_continuous_backups",
        "update_time_to_live",
    ]
    assert steps[0]["params"]["SSESpecification"] == {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "arn:key/1"}
    assert steps[1]["params"]["DeletionProtectionEnabled"] is True
    assert steps[2]["params"]["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert steps[3]["params"]["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True,
        "RecoveryPeriodInDays": 35,
    }
    assert all(len([k for k in s["params"] if k != "TableName"]) == 1 for s in steps)


def test_a_fully_protected_table_needs_nothing():
    steps, _current, _desired = plan_for(PROTECTED_TABLE, FULL_PARAMS, pitr=PITR_ON, ttl=TTL_ON)
    assert steps == []


def test_options_not_given_are_left_alone():
    steps, _current, _desired = plan_for(PROTECTED_TABLE, {"deletion_protection": False}, pitr=PITR_ON, ttl=TTL_ON)
    assert [s["description"] for s in steps] == ["deletion protection -> False"]


def test_a_new_recovery_period_is_applied_to_enabled_pitr():
    params = {"point_in_time_recovery": {"enabled": True, "recovery_period_in_days": 7}}
    steps, _current, _desired = plan_for(PROTECTED_TABLE, params, pitr=PITR_ON)
    assert steps[0]["params"]["PointInTimeRecoverySpecification"]["RecoveryPeriodInDays"] == 7


def test_changing_the_stream_view_type_is_refused_unless_allowed():
    params = {"stream": {"enabled": True, "view_type": "NEW_IMAGE"}}
    with pytest.raises(tp.PlanError, match="allow_replacement"):
        plan_for(PROTECTED_TABLE, params)
    steps, _current, _desired = plan_for(PROTECTED_TABLE, params, allow_stream_replacement=True)
    assert [s["params"]["StreamSpecification"]["StreamEnabled"] for s in steps] == [False, True]


def test_switching_the_ttl_attribute_is_refused_with_the_way_out():
    params = {"ttl": {"enabled": True, "attribute_name": "other"}}
    with pytest.raises(tp.PlanError, match="Disable TTL first"):
        plan_for(PROTECTED_TABLE, params, ttl=TTL_ON)


def test_another_customer_key_is_a_change_and_aws_managed_drops_the_key():
    steps, _current, _desired = plan_for(
        PROTECTED_TABLE, {"sse": {"type": "customer_managed", "kms_key": "k2"}}, key_arn="arn:key/2"
    )
    assert steps[0]["params"]["SSESpecification"]["KMSMasterKeyId"] == "arn:key/2"
    steps, _current, _desired = plan_for(PROTECTED_TABLE, {"sse": {"type": "aws_managed"}})
    assert steps[0]["params"]["SSESpecification"] == {"Enabled": True, "SSEType": "KMS"}


def test_the_aws_managed_key_is_recognised_by_its_key_manager():
    steps, current, _desired = plan_for(PROTECTED_TABLE, {"sse": {"type": "aws_managed"}}, key_manager="AWS")
    assert current["sse_type"] == tp.AWS_MANAGED and current["sse_kms_key_arn"] is None
    assert steps == []


def test_predicted_settings_match_what_the_plan_does():
    steps, current, desired = plan_for(BARE_TABLE, FULL_PARAMS)
    after = tp.predicted_settings(current, desired)
    assert after == {
        "stream_enabled": True,
        "stream_view_type": "NEW_AND_OLD_IMAGES",
        "pitr_enabled": True,
        "pitr_recovery_period_in_days": 35,
        "deletion_protection": True,
        "sse_type": "customer_managed",
        "sse_kms_key_arn": "arn:key/1",
        "ttl_enabled": True,
        "ttl_attribute_name": "expires_at",
    }
    assert steps

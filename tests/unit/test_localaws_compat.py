"""The compatibility layer's decisions, in-process (no server)."""

from __future__ import annotations

import json

import pytest

from localaws import MINISTACK_VERSION
from localaws.compat import pitr
from localaws.server import check_version


def test_the_pitr_period_is_added_only_while_pitr_is_on():
    on = {"ContinuousBackupsDescription": {"PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "ENABLED"}}}
    off = {
        "ContinuousBackupsDescription": {"PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": "DISABLED"}}
    }
    _, _, body = pitr._with_period((200, {}, json.dumps(on).encode()), {pitr._PERIOD_KEY: 7})
    assert (
        json.loads(body)["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 7
    )
    _, _, body = pitr._with_period((200, {}, json.dumps(on).encode()), {})
    assert (
        json.loads(body)["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 35
    )
    _, _, body = pitr._with_period((200, {}, json.dumps(off).encode()), {pitr._PERIOD_KEY: 7})
    assert (
        "RecoveryPeriodInDays" not in json.loads(body)["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    )


def test_the_server_refuses_another_ministack_version():
    check_version(MINISTACK_VERSION)
    with pytest.raises(SystemExit, match="compatibility layer"):
        check_version("0.0.1")

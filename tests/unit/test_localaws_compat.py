"""The compatibility layer's decisions, in-process (no server)."""

from __future__ import annotations

import json

import pytest

from localaws import MINISTACK_VERSION
from localaws.compat import backup, pitr
from localaws.server import check_version


class FakeBackupModule:
    _vaults = {"existing": {"BackupVaultName": "existing"}}


def test_describing_a_missing_vault_answers_access_denied_as_aws_does():
    status, headers, body = backup.describe_vault_as_aws(FakeBackupModule, "GET", "/backup-vaults/missing")
    assert status == 403
    assert headers["x-amzn-errortype"] == "AccessDeniedException"
    assert json.loads(body)["__type"] == "AccessDeniedException"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/backup-vaults/existing"),
        ("PUT", "/backup-vaults/missing"),
        ("GET", "/backup-vaults"),
        ("GET", "/backup-vaults/missing/recovery-points"),
    ],
)
def test_every_other_backup_request_goes_to_ministack(method, path):
    assert backup.describe_vault_as_aws(FakeBackupModule, method, path) is None


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

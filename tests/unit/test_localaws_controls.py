"""The local target's controls that are faults for tests (docs/emulator.md, settings of the
local target): a vault whose copies come out corrupted."""

from __future__ import annotations

import json

import pytest

from localaws import controls
from localaws.compat import backup_copy_jobs
from tests.unit.test_localaws_backup_copy_jobs import DR, World, backed_up, copy, vault_arn


def test_only_the_items_under_the_prefix_are_corrupted():
    snapshot = {
        "ddbguard-canary#1": {"": {"pk": {"S": "ddbguard-canary#1"}}},
        "order-7": {"": {"pk": {"S": "order-7"}}},
    }
    assert controls.corrupt(snapshot, "ddbguard-canary#") == 1
    assert controls.CORRUPTED in snapshot["ddbguard-canary#1"][""]
    assert controls.CORRUPTED not in snapshot["order-7"][""]


@pytest.mark.parametrize("param", [{"vault": "not-an-arn"}, {"vault": vault_arn(DR), "corrupt": "maybe"}])
def test_the_control_refuses_what_it_cannot_apply(param):
    status, _, body = controls.corrupt_copies(param)
    assert status == 400 and "vault must be a backup vault ARN" in json.loads(body)["error"]


def test_the_control_is_turned_on_and_off():
    status, _, body = controls.corrupt_copies({"vault": vault_arn(DR), "key_prefix": "x"})
    assert status == 200 and json.loads(body)["corrupted"] == [vault_arn(DR)]
    _, _, body = controls.corrupt_copies({"vault": vault_arn(DR), "corrupt": "false"})
    assert json.loads(body)["corrupted"] == []


def test_each_copy_is_handed_to_the_hooks_with_its_vault_and_backup(monkeypatch):
    seen = []
    monkeypatch.setattr(backup_copy_jobs, "AFTER_COPY", [lambda *args: seen.append(args)])
    world = World()
    job = copy(world, backed_up(world)["RecoveryPointArn"])
    point = world.store.recovery_points[job["DestinationRecoveryPointArn"]]
    assert seen == [(vault_arn(DR), point["_DynamoDbBackupArn"], "000000000000", DR)]

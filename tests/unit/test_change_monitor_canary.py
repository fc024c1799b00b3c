"""The scheduled canary: a protected change to a canary item, undone by the monitor, measured."""

from __future__ import annotations

import dataclasses
import json

import pytest

from change_monitor import canary
from change_monitor.config import load_policy
from change_monitor.writes import DynamoDbActions
from tests.fakes import FakeAudit, StreamTable

ENV = {"DDBGUARD_TABLE": "orders", "DDBGUARD_MARKER_KEY": "alias/ddbguard/orders/marker"}


def policy(**env):
    return dataclasses.replace(load_policy({**ENV, **env}), marker_key=b"s" * 32)


class MonitoredTable(StreamTable):
    """A table whose stream a monitor reads after every write, unless its trigger is off."""

    def __init__(self, handler, pol, trigger_enabled=True):
        super().__init__()
        self.handler, self.policy, self.trigger_enabled = handler, pol, trigger_enabled
        self.memory, self.audit = handler.Memory(), FakeAudit()

    def _emit(self, key, old, new):
        super()._emit(key, old, new)
        if self.trigger_enabled and self.stream:
            batch, self.stream[:] = list(self.stream), []
            actions = DynamoDbActions(self, self.policy.marker)
            self.handler.process({"Records": batch}, actions, self.policy, memory=self.memory, audit=self.audit)


def lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


@pytest.mark.parametrize(
    ("events", "expected"), [("REMOVE,MODIFY", "MODIFY"), ("REMOVE", "REMOVE"), ("INSERT", "INSERT")]
)
def test_the_canary_makes_a_protected_change_and_sees_it_undone(handler, capsys, events, expected):
    pol = policy(DDBGUARD_PROTECTED_EVENTS=events)
    table = MonitoredTable(handler, pol)
    result = canary.run({"ddbguard": "canary", "table": "orders"}, table, pol)
    assert result["status"] == "pass" and result["event"] == expected, result
    assert isinstance(result["undo_ms"], int) and result["undo_ms"] >= 0
    assert table.items == {}, "the canary removes its item"
    out = lines(capsys)
    [metrics] = [line for line in out if "ProtectionVerified" in line]
    assert metrics["ProtectionVerified"] == 1 and metrics["UndoLatency"] == result["undo_ms"]
    [decision] = [line for line in out if line.get("operation") == "canary"]
    assert decision["status"] == "pass" and decision["outcome"] == "applied"


def test_a_change_nobody_undoes_fails_the_canary_and_says_so(handler, capsys):
    pol = policy(DDBGUARD_PROTECTED_EVENTS="REMOVE,MODIFY")
    table = MonitoredTable(handler, pol, trigger_enabled=False)  # the trigger is disabled
    result = canary.run({"ddbguard": "canary", "table": "orders", "wait_seconds": 0.3}, table, pol)
    assert result["status"] == "fail" and "was not undone within 0.3 s" in result["reason"]
    assert result["undo_ms"] is None and table.items == {}, "the canary is removed all the same"
    # The trigger enabled again reads the stream from where it stopped: the canary stays deleted.
    table.trigger_enabled = True
    table._emit(None, None, None)
    assert table.items == {}, "a late read of the stream must not bring the canary back"
    [metrics] = [line for line in lines(capsys) if "ProtectionVerified" in line]
    assert metrics["ProtectionVerified"] == 0 and "UndoLatency" not in metrics


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"mode": "audit"}, "mode audit"),
        ({"protected_events": frozenset()}, "no event is protected"),
        ({"scope": "key-prefix", "key_prefix": "order#"}, "outside the protected key prefix"),
    ],
)
def test_a_policy_with_nothing_the_canary_can_test_is_said_never_passed(handler, capsys, changes, reason):
    pol = dataclasses.replace(policy(), **changes)
    table = MonitoredTable(handler, pol)
    result = canary.run({"ddbguard": "canary", "table": "orders"}, table, pol)
    assert result["status"] == "untestable" and reason in result["reason"], result
    assert table.items == {} and table.calls == [], "nothing is written"
    [metrics] = [line for line in lines(capsys) if "ProtectionVerified" in line]
    assert metrics["ProtectionVerified"] == 0


def test_under_a_flag_scope_the_canary_carries_the_flag():
    pol = policy(DDBGUARD_SCOPE="attribute-flag", DDBGUARD_FLAG_ATTRIBUTE="protected")
    key = canary.canary_key(pol, {"sort_key": {"name": "sk", "type": "N"}}, 1_800_000_000.0)
    assert key["pk"]["S"].startswith(pol.canary_prefix + "scheduled#") and key["sk"] == {"N": "0"}
    item = canary.canary_item(pol, key, 1_800_000_000.0, "expires_at")
    assert item["protected"] == {"BOOL": True} and item["expires_at"] == {"N": str(1_800_000_000 + 86400)}

"""The maintenance window opens only within its limits; anything else keeps protection on."""

from __future__ import annotations

import datetime
import json

import pytest

from change_monitor import maintenance

NOW = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=datetime.UTC).timestamp()
DAY = 86400


@pytest.mark.parametrize(
    ("value", "state"),
    [
        ("2026-11-25T13:00:00Z", maintenance.OPEN),
        ("2026-11-25T14:00:00+01:00", maintenance.OPEN),  # 13:00 UTC
        ("2026-11-26T11:59:00Z", maintenance.OPEN),  # just under 24 h ahead
        ("2026-11-26T12:01:00Z", maintenance.TOO_FAR_AHEAD),
        ("2099-01-01T00:00:00Z", maintenance.TOO_FAR_AHEAD),
        ("2099-01-01", maintenance.NO_TIME_ZONE),
        ("2026-11-25T13:00:00", maintenance.NO_TIME_ZONE),
        ("tomorrow", maintenance.UNREADABLE),
        ("2026-11-25T11:59:30Z", maintenance.CLOSED),  # ended less than a minute ago
        ("2026-11-24T13:00:00Z", maintenance.ENDED),
        ("1970-01-01T00:00:00Z", maintenance.CLOSED),  # the value the role creates
        ("closed", maintenance.CLOSED),
        ("", maintenance.CLOSED),
        (None, maintenance.CLOSED),
    ],
)
def test_window_state(value, state):
    assert maintenance.window_state(value, NOW, DAY) == state


def test_the_maximum_is_configurable():
    assert maintenance.window_state("2026-11-27T12:00:00Z", NOW, 3 * DAY) == maintenance.OPEN
    assert maintenance.window_state("2026-11-25T12:02:00Z", NOW, 60) == maintenance.TOO_FAR_AHEAD


class FakeSsm:
    class exceptions:  # noqa: N801 - boto3's shape
        class ParameterNotFound(Exception):
            pass

    def __init__(self, value):
        self.value, self.calls = value, 0

    def get_parameter(self, Name):  # noqa: N803 - boto3's shape
        self.calls += 1
        if self.value is None:
            raise self.exceptions.ParameterNotFound()
        return {"Parameter": {"Value": self.value}}


def test_a_refused_value_keeps_protection_on_and_says_so(capsys):
    window = maintenance.MaintenanceWindow(FakeSsm("2099-01-01T00:00:00Z"), "/p", DAY, "orders", clock=lambda: NOW)
    assert not window.is_open()
    line = json.loads(capsys.readouterr().out)
    assert line == {
        "kind": "maintenance",
        "table": "orders",
        "outcome": "refused",
        "reason": "too-far-ahead",
        "parameter": "/p",
        "value": "2099-01-01T00:00:00Z",
    }


def test_the_answer_is_cached_and_a_missing_parameter_is_closed(capsys):
    ssm = FakeSsm(None)
    clock = [NOW]
    window = maintenance.MaintenanceWindow(ssm, "/p", DAY, clock=lambda: clock[0])
    assert window.state() == maintenance.CLOSED
    assert window.state() == maintenance.CLOSED and ssm.calls == 1
    clock[0] += maintenance.CACHE_SECONDS
    ssm.value = "2026-11-25T13:00:00Z"
    assert window.is_open() and ssm.calls == 2
    assert capsys.readouterr().out == ""


def test_refusals_are_counted_in_the_invocations_metrics(handler, record, capsys):
    from change_monitor.config import Policy
    from change_monitor.writes import DynamoDbActions
    from tests.fakes import FakeDynamoDb

    window = maintenance.MaintenanceWindow(FakeSsm("2099-01-01"), "/p", DAY, clock=lambda: NOW)
    policy = Policy(marker_key=b"s" * 32)
    result = handler.process(
        {"Records": [record("remove")]}, DynamoDbActions(FakeDynamoDb(), policy.marker), policy, window=window
    )
    assert result == {"batchItemFailures": []}
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines[0]["reason"] == "no-time-zone"
    assert lines[1]["action"] == "restore-deleted", "protection stays on"
    assert lines[-1]["MaintenanceRefused"] == 1


def test_prefetch_reads_again_once_the_answer_is_half_as_old_as_the_cache():
    ssm = FakeSsm("closed")
    clock = [NOW]
    window = maintenance.MaintenanceWindow(ssm, "/p", DAY, clock=lambda: clock[0])
    window.prefetch()  # nothing cached yet: read
    assert ssm.calls == 1
    clock[0] += maintenance.PREFETCH_SECONDS - 0.1
    window.prefetch()
    assert ssm.calls == 1, "a fresh answer is not read again"
    clock[0] += 0.1
    ssm.value = "2026-11-25T13:00:00Z"
    window.prefetch()
    assert ssm.calls == 2
    clock[0] += maintenance.CACHE_SECONDS - 0.1  # past the first answer's life, within the prefetched one's
    assert window.is_open() and ssm.calls == 2


def test_a_prefetch_that_fails_is_logged_and_the_next_batch_reads_again(capsys):
    class Failing(FakeSsm):
        def get_parameter(self, Name):  # noqa: N803 - boto3's shape
            self.calls += 1
            raise RuntimeError("throttled")

    ssm = Failing("closed")
    window = maintenance.MaintenanceWindow(ssm, "/p", DAY, "orders", clock=lambda: NOW)
    window.prefetch()  # does not raise: the batch it follows is done
    line = json.loads(capsys.readouterr().out)
    assert line["kind"] == "maintenance" and line["outcome"] == "failed" and "throttled" in line["error"]
    with pytest.raises(RuntimeError):
        window.state()  # not served from a cache: the batch fails and Lambda retries it
    assert ssm.calls == 2


def test_a_batch_undoes_before_it_reads_the_window_for_the_next(handler, record, capsys):
    from change_monitor.config import Policy
    from change_monitor.writes import DynamoDbActions
    from tests.fakes import FakeDynamoDb

    client = FakeDynamoDb()
    seen: list[int] = []

    class Watching(FakeSsm):
        def get_parameter(self, Name):  # noqa: N803 - boto3's shape
            seen.append(len(client.items))  # items back in the table when SSM is read
            return super().get_parameter(Name)

    clock = [NOW]
    window = maintenance.MaintenanceWindow(Watching("closed"), "/p", DAY, clock=lambda: clock[0])
    policy = Policy(marker_key=b"s" * 32)
    actions = DynamoDbActions(client, policy.marker)
    first, second = record("remove"), record("remove")
    for r, pk in ((first, "order#a"), (second, "order#b")):
        r["dynamodb"]["Keys"]["pk"]["S"] = r["dynamodb"]["OldImage"]["pk"]["S"] = pk
    handler.process({"Records": [first]}, actions, policy, window=window)
    assert seen == [0], "a cold cache is read before the first batch's decisions"
    clock[0] += maintenance.PREFETCH_SECONDS
    handler.process({"Records": [second]}, actions, policy, window=window)
    assert seen == [0, 2], "the second batch undid its delete with the cached answer, then read the window"


def test_an_open_window_escalates_nothing_and_counts_nothing(handler, record):
    """5,000 deletes in a window opened an incident and started a restore job: on AWS every
    planned migration would have started a full-table restore. A window is audit only."""
    from change_monitor.config import Policy
    from change_monitor.writes import DynamoDbActions
    from tests.fakes import FakeAudit, FakeDynamoDb
    from tests.unit.test_change_monitor_handler import FakeEscalation, burst

    window = maintenance.MaintenanceWindow(FakeSsm("2026-11-25T13:00:00Z"), "/p", DAY, clock=lambda: NOW)
    policy = Policy(mode="undo+escalate", escalation_threshold=5, audit_table="audit", marker_key=b"s" * 32)
    audit, escalation = FakeAudit(), FakeEscalation([])
    records = burst(record, 50)
    actions = DynamoDbActions(FakeDynamoDb(), policy.marker)
    result = handler.process({"Records": records}, actions, policy, window=window, audit=audit, escalation=escalation)
    assert result == {"batchItemFailures": []}
    assert audit.incidents == {} and escalation.restores == [] and audit.counters == {}
    window_closed = maintenance.MaintenanceWindow(FakeSsm("closed"), "/p", DAY, clock=lambda: NOW)
    handler.process(
        {"Records": burst(record, 6, start=100)},
        actions,
        policy,
        window=window_closed,
        audit=audit,
        escalation=escalation,
    )
    assert len(audit.incidents) == 1, "once the window is closed, protected changes count again"

"""The compatibility layer's decisions, in-process (no server)."""

from __future__ import annotations

import json

import pytest

from localaws import MINISTACK_VERSION
from localaws.compat import (
    alarm_evaluation,
    backup_plan_versions,
    backup_selection_conditions,
    pitr,
    pitr_history,
    ttl_update_limit,
)
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


def _answer(doc: dict) -> tuple[int, dict, bytes]:
    return 200, {}, json.dumps(doc).encode()


def test_a_selection_without_conditions_reports_the_four_empty_lists():
    response = backup_selection_conditions.with_condition_lists(
        _answer({"BackupSelection": {"SelectionName": "s", "Conditions": {}}})
    )
    conditions = json.loads(response[2])["BackupSelection"]["Conditions"]
    assert conditions == {"StringEquals": [], "StringNotEquals": [], "StringLike": [], "StringNotLike": []}
    given = {"StringEquals": [{"ConditionKey": "aws:ResourceTag/x", "ConditionValue": "y"}]}
    response = backup_selection_conditions.with_condition_lists(_answer({"BackupSelection": {"Conditions": given}}))
    assert json.loads(response[2])["BackupSelection"]["Conditions"]["StringEquals"] == given["StringEquals"]
    error = (404, {}, b'{"__type": "ResourceNotFoundException"}')
    assert backup_selection_conditions.with_condition_lists(error) == error


def test_an_updated_plan_reports_its_newest_version_date():
    record = {"CreationDate": 100.0, "Versions": [{"CreationDate": 100.0}, {"CreationDate": 250.0}]}
    response = backup_plan_versions.follow_newest_version(record, _answer({"CreationDate": 100.0, "VersionId": "v2"}))
    assert json.loads(response[2])["CreationDate"] == 250.0 and record["CreationDate"] == 250.0


@pytest.mark.parametrize(
    ("current", "spec", "changed_at", "reason"),
    [
        ({"TimeToLiveStatus": "DISABLED"}, {"Enabled": True, "AttributeName": "ttl"}, None, None),
        ({"TimeToLiveStatus": "DISABLED"}, {"Enabled": True, "AttributeName": "ttl"}, 0.0, None),
        (
            {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"},
            {"Enabled": False, "AttributeName": "ttl"},
            9000.0,
            "multiple times",
        ),
        (
            {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"},
            {"Enabled": True, "AttributeName": "ttl"},
            None,
            "already enabled",
        ),
        (
            {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"},
            {"Enabled": True, "AttributeName": "exp"},
            None,
            "different AttributeName",
        ),
        ({"TimeToLiveStatus": "DISABLED"}, {"Enabled": False, "AttributeName": "ttl"}, None, "already disabled"),
    ],
)
def test_ttl_updates_are_refused_as_aws_refuses_them(current, spec, changed_at, reason):
    found = ttl_update_limit.refusal(current, spec, changed_at, now=10000.0, interval=3600.0)
    assert (found is None) if reason is None else (reason in found)


def test_point_in_time_items_are_rebuilt_from_the_base_and_the_log():
    history = pitr_history.new_history({"a": {None: {"pk": {"S": "a"}, "v": {"N": "0"}}}}, now=100.0)
    pitr_history.record(history, "a", None, {"pk": {"S": "a"}, "v": {"N": "1"}}, now=110.0)
    pitr_history.record(history, "b", None, {"pk": {"S": "b"}}, now=120.0)
    pitr_history.record(history, "a", None, None, now=130.0)
    assert pitr_history.items_at(history, 105.0) == {"a": {None: {"pk": {"S": "a"}, "v": {"N": "0"}}}}
    assert pitr_history.items_at(history, 125.0) == {
        "a": {None: {"pk": {"S": "a"}, "v": {"N": "1"}}},
        "b": {None: {"pk": {"S": "b"}}},
    }
    assert pitr_history.items_at(history, 130.0) == {"b": {None: {"pk": {"S": "b"}}}}
    pitr_history.compact(history, horizon=105.0)
    assert history["base_at"] == 100.0 and len(history["log"]) == 3, "nothing that old: nothing folded"
    pitr_history.compact(history, horizon=125.0)
    assert history["base_at"] == 125.0 and len(history["log"]) == 1
    pitr_history.compact(history, horizon=130.0)
    assert history["base_at"] == 130.0 and history["log"] == [] and history["base"] == {"b": {None: {"pk": {"S": "b"}}}}
    assert pitr_history.items_at(history, 130.0) == {"b": {None: {"pk": {"S": "b"}}}}


def test_the_restorable_window_moves_with_the_recovery_period():
    history = pitr_history.new_history({}, now=1000.0)
    assert pitr_history.window(history, 35, now=2000.0) == (1000.0, 2000.0)
    later = 1000.0 + 40 * 86400
    assert pitr_history.window(history, 35, now=later) == (later - 35 * 86400, later)
    assert pitr_history.window(history, 1, now=later) == (later - 86400, later)


def test_an_alarm_reads_only_the_metric_with_its_own_dimensions():
    ae = alarm_evaluation

    def dims_key(d):
        return "|".join(f"{k}={v}" for k, v in sorted(d.items()))

    alarm = {"Namespace": "AWS/Lambda", "MetricName": "Errors", "Dimensions": [{"Name": "FunctionName", "Value": "a"}]}
    assert ae.metric_key(alarm, dims_key) == ("AWS/Lambda", "Errors", "FunctionName=a")


def test_an_alarm_state_follows_its_statistic_over_the_evaluation_range():
    ae = alarm_evaluation
    alarm = {
        "Period": 60,
        "EvaluationPeriods": 1,
        "Statistic": "Sum",
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": 1.0,
    }

    def total(points, _name):
        return sum(p["Value"] for p in points)

    errors = [{"Timestamp": 990.0, "Value": 1.0}, {"Timestamp": 995.0, "Value": 0.0}]
    assert ae.state(alarm, errors, now=1000.0, statistic=total) == ("ALARM", 1.0)
    assert ae.state(alarm, [{"Timestamp": 995.0, "Value": 0.0}], now=1000.0, statistic=total) == ("OK", 0.0)
    assert ae.state(alarm, errors, now=2000.0, statistic=total) is None  # out of range: the state stays


def test_an_emf_line_becomes_one_datapoint_per_metric_and_dimension_set():
    from localaws.compat.embedded_metrics import metrics_of

    line = json.dumps(
        {
            "_aws": {
                "Timestamp": 1,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "ddbguard",
                        "Dimensions": [["Table"], []],
                        "Metrics": [{"Name": "NotUndone", "Unit": "Count"}, {"Name": "Undone", "Unit": "Count"}],
                    }
                ],
            },
            "Table": "orders",
            "NotUndone": 2,
            "Undone": [1, 3],
        }
    )
    assert metrics_of(line) == [
        ("ddbguard", "NotUndone", 2.0, "Count", {"Table": "orders"}),
        ("ddbguard", "NotUndone", 2.0, "Count", {}),
        ("ddbguard", "Undone", 1.0, "Count", {"Table": "orders"}),
        ("ddbguard", "Undone", 3.0, "Count", {"Table": "orders"}),
        ("ddbguard", "Undone", 1.0, "Count", {}),
        ("ddbguard", "Undone", 3.0, "Count", {}),
    ]


@pytest.mark.parametrize(
    "line",
    [
        "START RequestId: 1",
        '{"kind": "decision", "outcome": "applied"}',
        json.dumps(
            {
                "_aws": {"CloudWatchMetrics": [{"Namespace": "n", "Dimensions": [["T"]], "Metrics": [{"Name": "X"}]}]},
                "X": 1,
            }
        ),
        '{"_aws": {"CloudWatchMetrics": [{"Namespace": "n", "Metrics": [{"Name": "X"}]}]}, "X": "one"}',
        '{"_aws": {"CloudWatchMetrics": [{"Namespace": "n", "Metrics": [{"Name": "X"}]}]}, "X": true}',
    ],
)
def test_lines_that_are_not_valid_emf_declare_nothing(line):
    from localaws.compat.embedded_metrics import metrics_of

    assert metrics_of(line) == []


def test_a_queue_publishes_its_three_message_counts():
    from localaws.compat.sqs_metrics import datapoints

    queue = {"name": "q", "attributes": {"ApproximateNumberOfMessages": "3", "ApproximateNumberOfMessagesDelayed": "1"}}
    assert datapoints(queue) == [
        ("ApproximateNumberOfMessagesVisible", 3.0, {"QueueName": "q"}),
        ("ApproximateNumberOfMessagesNotVisible", 0.0, {"QueueName": "q"}),
        ("ApproximateNumberOfMessagesDelayed", 1.0, {"QueueName": "q"}),
    ]

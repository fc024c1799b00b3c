"""The handler: decisions carried out, partial batch failures reported correctly."""

from __future__ import annotations

import base64
import json

import pytest

from change_monitor import adapter, marker
from tests.fakes import FakeDynamoDb


@pytest.fixture
def handler(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    from change_monitor import handler as module

    return module


def test_a_deleted_item_is_put_back_exactly_with_binary_as_bytes(handler, record):
    rec = record("remove")
    client = FakeDynamoDb()
    result = handler.process({"Records": [rec]}, adapter.DynamoDbActions(client))
    assert result == {"batchItemFailures": []}
    stored = client.items[repr({"S": "order#1"})]
    assert marker.strip(stored, "_ddbguard_undo")["amount"] == {"N": "12345678901234567890123456789012345678"}
    assert stored["blob"] == {"B": base64.b64decode("ZGRiZ3VhcmQ=")}
    assert stored["nested"]["M"]["list"]["L"][0] == {"BS": [b"\x01\x02", b"\x03\x04"]}


def test_an_item_recreated_before_the_undo_is_left_alone(handler, record, capsys):
    rec = record("remove")
    client = FakeDynamoDb()
    newer = {"pk": {"S": "order#1"}, "amount": {"N": "7"}}
    client.items[repr({"S": "order#1"})] = newer
    handler.process({"Records": [rec]}, adapter.DynamoDbActions(client))
    assert client.items[repr({"S": "order#1"})] == newer
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["outcome"] == adapter.SUPERSEDED


def test_one_log_line_per_record_with_the_decision(handler, record, capsys):
    handler.process({"Records": [record("remove"), record("insert")]}, adapter.DynamoDbActions(FakeDynamoDb()))
    lines = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    assert [(x["event"], x["action"], x["outcome"]) for x in lines] == [
        ("REMOVE", "restore-deleted", "applied"),
        ("INSERT", "skip", "nothing-to-do"),
    ]
    assert all({"event_id", "table", "key", "lag_ms", "reason"} <= set(x) for x in lines)


def test_a_failing_record_is_reported_and_stops_the_batch(handler, record):
    first, second, third = record("remove"), record("remove"), record("remove")
    second["dynamodb"]["Keys"] = second["dynamodb"]["OldImage"]["pk"] = {"S": "order#bad"}
    second["dynamodb"]["Keys"] = {"pk": {"S": "order#bad"}}
    second["dynamodb"]["SequenceNumber"] = "200"
    third["dynamodb"]["Keys"] = {"pk": {"S": "order#3"}}
    third["dynamodb"]["OldImage"]["pk"] = {"S": "order#3"}
    third["dynamodb"]["SequenceNumber"] = "300"
    client = FakeDynamoDb(fail_on={repr({"S": "order#bad"})})
    result = handler.process({"Records": [first, second, third]}, adapter.DynamoDbActions(client))
    assert result == {"batchItemFailures": [{"itemIdentifier": "200"}]}
    assert repr({"S": "order#1"}) in client.items
    assert repr({"S": "order#3"}) not in client.items  # left for the retry from sequence 200

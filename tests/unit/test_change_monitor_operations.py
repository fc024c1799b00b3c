"""Sanctioned writes asked by invoking the monitor: restore copy-back and canary retirement."""

from __future__ import annotations

import dataclasses

import pytest

from change_monitor import marker, operations
from change_monitor.config import load_policy
from tests.fakes import FakeDynamoDb

ENV = {"DDBGUARD_TABLE": "orders", "DDBGUARD_MARKER_KEY": "alias/ddbguard/orders/marker"}
POLICY = dataclasses.replace(load_policy({**ENV, "DDBGUARD_PROTECTED_EVENTS": "REMOVE,MODIFY"}), marker_key=b"s" * 32)
SIGNER = POLICY.marker


def item(pk: str, **values) -> dict:
    return {"pk": {"S": pk}, **{k: {"N": str(v)} for k, v in values.items()}}


def stored(fake: FakeDynamoDb, pk: str) -> dict | None:
    return fake.items.get(fake.key_of({"pk": {"S": pk}}))


def test_a_restored_image_goes_back_while_the_live_item_is_as_planned(handler):
    fake = FakeDynamoDb()
    fake.put_item(TableName="orders", Item=item("a", v=9))  # damaged
    event = {
        "ddbguard": "restore-items",
        "table": "orders",
        "items": [
            {"key": {"pk": {"S": "a"}}, "image": item("a", v=1), "expected": item("a", v=9)},
            {"key": {"pk": {"S": "b"}}, "image": item("b", v=2), "expected": None},
        ],
    }
    memory = handler.Memory()
    answer = handler.run_operation(event, fake, POLICY, memory)
    assert [r["outcome"] for r in answer["results"]] == ["applied", "applied"]
    restored = stored(fake, "a")
    assert SIGNER.strip(restored) == item("a", v=1)
    assert SIGNER.is_echo(restored, item("a", v=9), marker.UNDO), "the echo of a sanctioned write must be skipped"
    assert memory.get('orders|{"pk": {"S": "a"}}') == item("a", v=1), "the restored image is the new good state"


def test_a_write_made_since_planning_wins(handler):
    fake = FakeDynamoDb()
    fake.put_item(TableName="orders", Item=item("a", v=10))  # changed after the plan saw v=9
    event = {
        "ddbguard": "restore-items",
        "table": "orders",
        "items": [{"key": {"pk": {"S": "a"}}, "image": item("a", v=1), "expected": item("a", v=9)}],
    }
    answer = handler.run_operation(event, fake, POLICY, handler.Memory())
    assert answer["results"][0]["outcome"] == "superseded"
    assert stored(fake, "a") == item("a", v=10)


def test_canaries_are_retired_with_the_monitors_delete_marker(handler):
    fake = FakeDynamoDb()
    fake.put_item(TableName="orders", Item=item("ddbguard-canary#1", v=1))
    event = {"ddbguard": "retire-canaries", "table": "orders", "keys": [{"pk": {"S": "ddbguard-canary#1"}}]}
    answer = handler.run_operation(event, fake, POLICY, handler.Memory())
    assert answer["results"][0]["outcome"] == "applied" and stored(fake, "ddbguard-canary#1") is None
    update = next(kwargs for name, kwargs in fake.calls if name == "update_item")
    value = update["ExpressionAttributeValues"][":m"]["S"]
    assert value.startswith("ddbguard-delete:"), "the REMOVE echo must carry the delete marker"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"ddbguard": "retire-canaries", "table": "orders", "keys": [{"pk": {"S": "customer#1"}}]}, "canary prefix"),
        ({"ddbguard": "restore-items", "table": "invoices", "items": []}, "protects 'orders'"),
        ({"ddbguard": "drop-table", "table": "orders"}, "ddbguard must be one of"),
    ],
)
def test_operations_outside_their_bounds_are_refused_and_write_nothing(handler, event, message):
    fake = FakeDynamoDb()
    fake.put_item(TableName="orders", Item=item("customer#1", v=1))
    answer = handler.run_operation(event, fake, POLICY, handler.Memory())
    assert message in answer["error"]
    assert [name for name, _ in fake.calls] == ["put_item"]


def test_stream_events_are_not_operations():
    assert not operations.is_operation({"Records": []})
    assert operations.is_operation({"ddbguard": "retire-canaries"})


def test_a_copy_back_delete_is_marked_so_that_the_monitor_does_not_restore_it(handler):
    fake = FakeDynamoDb()
    fake.put_item(TableName="orders", Item=item("later", v=3))
    event = {
        "ddbguard": "restore-items",
        "table": "orders",
        "items": [{"key": {"pk": {"S": "later"}}, "image": None, "expected": item("later", v=3)}],
    }
    answer = handler.run_operation(event, fake, POLICY, handler.Memory())
    assert answer["results"][0]["outcome"] == "applied" and stored(fake, "later") is None
    mark = next(kwargs for name, kwargs in fake.calls if name == "update_item")["ExpressionAttributeValues"][":m"]["S"]
    assert mark.startswith("ddbguard-delete:"), "the REMOVE echo must carry the delete marker"


def test_health_answers_with_the_running_policy_and_writes_nothing(handler):
    fake = FakeDynamoDb()
    answer = handler.run_operation({"ddbguard": "health", "table": "orders"}, fake, POLICY, handler.Memory())
    assert answer == {
        "operation": "health",
        "table": "orders",
        "mode": "undo",
        "protected_events": ["MODIFY", "REMOVE"],
        "scope": "all",
        "marker_key": "derived",
    }
    assert fake.calls == []
    assert "error" in handler.run_operation({"ddbguard": "health", "table": "other"}, fake, POLICY)

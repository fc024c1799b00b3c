"""Undos in waves and transactions: fewer requests, same guarantees.

A wave of restores on distinct items goes to DynamoDB in transactions of up to 100
conditional puts. What the single writes guaranteed must still hold: a newer legitimate
write always wins (also one made while the transaction is on its way), a key's records
are undone in stream order, types are kept exactly, and a failure is reported for the
record it belongs to, the others going on.
"""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor

from change_monitor import images, waves
from change_monitor.audit import AuditTrail
from change_monitor.config import Policy
from change_monitor.writes import DynamoDbActions
from tests.fakes import FakeAudit, FakeDynamoDb

ATTR = "_ddbguard_undo"
POLICY = Policy(protected_events=frozenset({"REMOVE", "MODIFY"}), marker_key=b"s" * 32, concurrency=4)
ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2026-11-24T19:33:53.150"


def image(pk: str, amount: str = "12345678901234567890123456789012345678") -> dict:
    return {"pk": {"S": pk}, "amount": {"N": amount}, "tags": {"SS": ["b", "a"]}, "blob": {"B": "ZGRiZ3VhcmQ="}}


def remove(pk: str, seq: int, old: dict | None = None) -> dict:
    return {
        "eventID": f"e{seq}",
        "eventName": "REMOVE",
        "eventSourceARN": ARN,
        "dynamodb": {"Keys": {"pk": {"S": pk}}, "SequenceNumber": str(seq), "OldImage": old or image(pk)},
    }


def modify(pk: str, seq: int, old: dict, new: dict) -> dict:
    return {
        "eventID": f"e{seq}",
        "eventName": "MODIFY",
        "eventSourceARN": ARN,
        "dynamodb": {"Keys": {"pk": {"S": pk}}, "SequenceNumber": str(seq), "OldImage": old, "NewImage": new},
    }


def key(pk: str) -> tuple:
    return (repr({"S": pk}),)


def run(handler, records, client, **kwargs):
    actions = DynamoDbActions(client, POLICY.marker, **kwargs)
    return handler.process({"Records": records}, actions, POLICY, memory=handler.Memory(), audit=FakeAudit())


def requests(client) -> list[str]:
    return [name for name, _kwargs in client.calls if name != "get_item"]


def test_a_burst_of_deletes_is_undone_in_transactions_of_100(handler):
    client = FakeDynamoDb()
    records = [remove(f"item-{i:03d}", i + 1) for i in range(250)]
    assert run(handler, records, client) == {"batchItemFailures": []}
    assert sorted(requests(client)) == ["transact_write_items"] * 3
    sizes = sorted(len(kwargs["TransactItems"]) for name, kwargs in client.calls)
    assert sizes == [50, 100, 100]
    for i in range(250):
        stored = POLICY.marker.strip(client.items[key(f"item-{i:03d}")])
        # Exact types: 38-digit numbers, sets, binary as bytes.
        assert stored == {**image(f"item-{i:03d}"), "blob": {"B": b"ddbguard"}}


def test_a_legitimate_write_made_while_the_transaction_is_on_its_way_wins(handler):
    """The application re-creates one item after the monitor decided and before DynamoDB
    evaluates the transaction: its condition fails, DynamoDB cancels the transaction, the
    other restores go again, and the re-created item is left as the application wrote it."""
    newer = {"pk": {"S": "item-007"}, "amount": {"N": "1"}}

    class Racing(FakeDynamoDb):
        raced = False

        def transact_write_items(self, **kwargs):
            if not self.raced:
                self.raced = True
                self.items[key("item-007")] = copy.deepcopy(newer)  # the legitimate write
            return super().transact_write_items(**kwargs)

    client = Racing()
    records = [remove(f"item-{i:03d}", i + 1) for i in range(20)]
    assert run(handler, records, client) == {"batchItemFailures": []}
    assert client.items[key("item-007")] == newer
    assert all(POLICY.marker.strip(client.items[key(f"item-{i:03d}")])["amount"] for i in range(20) if i != 7)
    # Cancelled; the item it names takes the single path (superseded); the 19 others go again.
    assert requests(client) == ["transact_write_items", "put_item", "transact_write_items"]
    assert sorted(len(k["TransactItems"]) for n, k in client.calls if n == "transact_write_items") == [19, 20]


def test_a_newer_write_wins_over_a_batched_revert_too(handler):
    """MODIFY reverts in one transaction: the one whose item changed again is superseded."""
    client = FakeDynamoDb()
    records, olds = [], {}
    for i in range(5):
        pk = f"m-{i}"
        olds[pk] = image(pk, "1")
        bad = image(pk, "666")
        records.append(modify(pk, i + 1, olds[pk], bad))
        client.items[key(pk)] = images.to_wire(bad)
    later = images.to_wire(image("m-3", "42"))
    client.items[key("m-3")] = later  # written after the bad change, before the monitor ran
    assert run(handler, records, client) == {"batchItemFailures": []}
    assert client.items[key("m-3")] == later
    for pk in ("m-0", "m-1", "m-2", "m-4"):
        assert POLICY.marker.strip(client.items[key(pk)])["amount"] == {"N": "1"}


def test_a_keys_records_stay_in_stream_order_across_waves(handler):
    """Two bad modifications of one key and a delete of another: the key's second undo
    waits for the wave after its first, and ends at the good state, not the first bad one."""
    client = FakeDynamoDb()
    good, bad1, bad2 = image("a", "1"), image("a", "2"), image("a", "3")
    client.items[key("a")] = images.to_wire(bad2)
    records = [modify("a", 1, good, bad1), remove("b", 2), modify("a", 3, bad1, bad2)]
    assert run(handler, records, client) == {"batchItemFailures": []}
    assert POLICY.marker.strip(client.items[key("a")])["amount"] == {"N": "1"}
    assert key("b") in client.items


def test_an_item_throttled_in_a_transaction_fails_alone_and_its_later_records_wait(handler):
    client = FakeDynamoDb(fail_on={repr({"S": "item-002"})})
    records = [remove(f"item-{i:03d}", i + 1) for i in range(5)] + [remove("item-002", 9, image("item-002", "5"))]
    result = run(handler, records, client)
    assert result == {"batchItemFailures": [{"itemIdentifier": "3"}]}
    assert [i for i in range(5) if key(f"item-{i:03d}") in client.items] == [0, 1, 3, 4]


def test_an_item_too_large_for_the_marker_sends_its_transaction_down_the_single_path(handler):
    client = FakeDynamoDb(max_item_bytes=2000)
    big = {**image("big"), "payload": {"S": "z" * (2000 - 200)}}
    records = [remove("small-1", 1), remove("big", 2, big), remove("small-2", 3)]
    assert run(handler, records, client) == {"batchItemFailures": []}
    assert client.items[key("big")]["payload"] == big["payload"] and ATTR not in client.items[key("big")]
    assert ATTR in client.items[key("small-1")] and ATTR in client.items[key("small-2")]


def test_one_item_per_transaction_means_single_conditional_writes(handler):
    client = FakeDynamoDb()
    assert run(handler, [remove(f"item-{i}", i + 1) for i in range(3)], client, transaction_items=1) == {
        "batchItemFailures": []
    }
    assert requests(client) == ["put_item"] * 3


def test_waves_decide_a_keys_next_record_only_after_its_undo_was_written():
    order = []

    class Decision:
        def __init__(self, action, name):
            self.action, self.remember, self.name = action, None, name

    def decide(record):
        order.append(("decide", record["n"]))
        return Decision("restore-deleted", record["n"])

    def execute_many(decisions):
        order.append(("write", sorted(d.name for d in decisions)))
        return ["applied"] * len(decisions)

    groups = [[(0, {"n": "a1"}), (2, {"n": "a2"})], [(1, {"n": "b1"})]]
    steps = waves.run(groups, decide, lambda d: "nothing", execute_many, memory=None)
    assert order == [
        ("decide", "a1"),
        ("decide", "b1"),
        ("write", ["a1", "b1"]),
        ("decide", "a2"),
        ("write", ["a2"]),
    ]
    assert [s.outcome for s in steps] == ["applied", "applied", "applied"]


def test_the_audit_trail_writes_25_records_a_request_resends_what_is_left_and_keeps_the_last_state():
    client = FakeDynamoDb(key_names=("pk", "sk"))
    client.unprocessed = 30  # DynamoDB leaves these for a second request
    with ThreadPoolExecutor(max_workers=4) as pool:
        trail = AuditTrail(client, "orders-audit").with_pool(pool)
        trail.record_undos(
            [
                {"table": "orders", "at": 1.0 + i, "event_id": f"e{i}", "key": {"pk": {"S": f"k{i}"}}}
                | {"event": "REMOVE", "action": "restore-deleted", "outcome": "applied", "lag_ms": None}
                for i in range(60)
            ],
            [
                {"table": "orders", "keys": {"pk": {"S": "a"}}, "good": {"v": {"N": str(n)}}, "after": "x"}
                for n in (1, 2)
            ],
        )
    writes = [kwargs for name, kwargs in client.calls if name == "batch_write_item"]
    assert all(len(w["RequestItems"]["orders-audit"]) <= 25 for w in writes)
    undos = [item for (pk, _sk), item in client.items.items() if pk == repr({"S": "orders#undo"})]
    assert len(undos) == 60 and all(u["lag_ms"] == {"N": "-1"} for u in undos)
    [state] = [item for (pk, _sk), item in client.items.items() if pk == repr({"S": "orders#state"})]
    assert state["good"] == {"S": '{"v": {"N": "2"}}'}  # one request may not name a key twice: the last wins


def test_an_undo_and_the_good_state_it_leaves_are_audited_in_one_request(handler):
    """After a single change's undo, one BatchWriteItem carries its audit record and the
    good state another container would recall; a burst's go out 25 records a request."""
    audit_client = FakeDynamoDb(key_names=("pk", "sk"))
    trail = AuditTrail(audit_client, "orders-audit")
    client = FakeDynamoDb()
    actions = DynamoDbActions(client, POLICY.marker)

    def run_audited(records):
        return handler.process({"Records": records}, actions, POLICY, memory=handler.Memory(), audit=trail)

    run_audited([remove("a", 1)])
    writes = [kw["RequestItems"]["orders-audit"] for name, kw in audit_client.calls if name == "batch_write_item"]
    assert len(writes) == 1
    kinds = sorted(w["PutRequest"]["Item"]["pk"]["S"] for w in writes[0])
    assert kinds == ["orders#state", "orders#undo"]
    audit_client.calls.clear()
    run_audited([remove(f"b{i}", 10 + i) for i in range(30)])
    writes = [kw["RequestItems"]["orders-audit"] for name, kw in audit_client.calls if name == "batch_write_item"]
    assert [len(w) for w in writes] == [25, 25, 10], "60 records: 30 undos and 30 good states"
    state = audit_client.items[(repr({"S": "orders#state"}), repr({"S": '{"pk": {"S": "b7"}}'}))]
    assert state["after"]["S"], "the good state is there to recall, with the digest of the state it left"

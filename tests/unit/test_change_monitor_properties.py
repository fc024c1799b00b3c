"""Property: whatever the interleaving, the table ends as the legitimate writes left it.

A simulated table writes a stream record for every change, the monitor's own writes
included, as DynamoDB does. Hypothesis generates interleavings of:

- legitimate writes: an application creates an item that is absent (INSERT, not protected);
- unintended changes: deletes, whole-item replacements, and single-attribute updates
  (which keep any stale marker) of present items (REMOVE and MODIFY, protected);
- monitor invocations on the next batch of records, of random size.

Then the stream is drained. The model says every item ends as its last legitimate write,
and the monitor never overwrites a legitimate write. Draining must end: the monitor's own
writes cost at most one more record each, and never loop.
"""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from change_monitor import adapter
from change_monitor.config import Policy
from tests.fakes import FakeDynamoDb

ATTR = "_ddbguard_undo"
STREAM_ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2026-01-01T00:00:00.000"
KEYS = ["k0", "k1", "k2"]
POLICY = Policy(protected_events=frozenset({"REMOVE", "MODIFY"}), concurrency=4, marker_key=b"s" * 32)


class StreamTable(FakeDynamoDb):
    """A fake table that appends a stream record for each change (none when nothing changes)."""

    def __init__(self):
        super().__init__()
        self.stream: list[dict] = []
        self._seq = 0

    def _emit(self, key, old, new):
        if old == new:
            return
        self._seq += 1
        event = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        ddb = {"Keys": {"pk": (new or old)["pk"]}, "SequenceNumber": str(self._seq), "ApproximateCreationDateTime": 1}
        if old is not None:
            ddb["OldImage"] = copy.deepcopy(old)
        if new is not None:
            ddb["NewImage"] = copy.deepcopy(new)
        self.stream.append(
            {"eventID": f"e{self._seq}", "eventName": event, "dynamodb": ddb, "eventSourceARN": STREAM_ARN}
        )

    def _write(self, method, kwargs, key):
        before = copy.deepcopy(self.items.get(key))
        getattr(FakeDynamoDb, method)(self, **kwargs)
        self._emit(key, before, copy.deepcopy(self.items.get(key)))

    def put_item(self, **kwargs):
        self._write("put_item", kwargs, self.key_of(kwargs["Item"]))
        return {}

    def update_item(self, **kwargs):
        self._write("update_item", kwargs, self.key_of(kwargs["Key"]))
        return {}

    def delete_item(self, **kwargs):
        self._write("delete_item", kwargs, self.key_of(kwargs["Key"]))
        return {}

    def app_update(self, pk: str, value: str) -> None:
        """An application UpdateItem of one attribute: the other attributes, marker included, stay."""
        key = (repr({"S": pk}),)
        before = copy.deepcopy(self.items[key])
        self.items[key] = {**before, "v": {"S": value}}
        self._emit(key, before, copy.deepcopy(self.items[key]))


steps = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), st.sampled_from(KEYS), st.text("abc", min_size=1, max_size=3)),
        st.tuples(st.just("delete"), st.sampled_from(KEYS)),
        st.tuples(st.just("replace"), st.sampled_from(KEYS), st.text("xyz", min_size=1, max_size=3)),
        st.tuples(st.just("update"), st.sampled_from(KEYS), st.text("xyz", min_size=1, max_size=3)),
        st.tuples(st.just("monitor"), st.integers(min_value=1, max_value=6)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(initial=st.sets(st.sampled_from(KEYS)), ops=steps)
def test_the_table_ends_as_the_legitimate_writes_left_it(handler, initial, ops):
    table = StreamTable()
    actions = adapter.DynamoDbActions(table, POLICY.marker)
    memory = handler.Memory()
    model: dict[str, str] = {}
    for pk in sorted(initial):
        table.items[(repr({"S": pk}),)] = {"pk": {"S": pk}, "v": {"S": "initial"}}
        model[pk] = "initial"
    processed = 0

    def invoke(count: int) -> None:
        nonlocal processed
        batch, table.stream[:] = table.stream[:count], table.stream[count:]
        if batch:
            processed += len(batch)
            result = handler.process({"Records": batch}, actions, POLICY, memory=memory)
            assert result == {"batchItemFailures": []}

    for op in ops:
        kind, pk = op[0], op[1]
        key = (repr({"S": pk}),) if kind != "monitor" else None
        present = key in table.items if key else False
        if kind == "insert" and not present:
            table.put_item(Item={"pk": {"S": pk}, "v": {"S": op[2]}})
            model[pk] = op[2]
        elif kind == "delete" and present:
            table.delete_item(Key={"pk": {"S": pk}})
        elif kind == "replace" and present:
            table.put_item(Item={"pk": {"S": pk}, "v": {"S": op[2]}})
        elif kind == "update" and present:
            table.app_update(pk, op[2])
        elif kind == "monitor":
            invoke(op[1])

    writes = len(table.stream) + processed
    while table.stream:
        invoke(5)
        assert processed <= 3 * writes + 10, "the monitor keeps producing records: a loop"

    final = {item["pk"]["S"]: POLICY.marker.strip(item)["v"]["S"] for item in table.items.values()}
    assert final == model

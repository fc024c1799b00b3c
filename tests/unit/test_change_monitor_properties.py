"""Property: whatever the interleaving, the table ends as the legitimate writes left it.

A simulated table writes a stream record for every change, the monitor's own writes
included, as DynamoDB does. Hypothesis generates interleavings of:

- legitimate writes: an application creates an item that is absent (INSERT, not protected);
- unintended changes: deletes, whole-item replacements, and single-attribute updates
  (which keep any stale marker) of present items (REMOVE and MODIFY, protected);
- monitor invocations on the next batch of records, of random size;
- attacks, on present items: a replacement carrying a marker made with a guessed key
  (forged), or a genuine marked image the monitor wrote earlier, written back (replayed);
- cold starts: the next invocation runs in a new container (empty memory; the audit
  table, with the persisted good states, stays);
- throttling: every write of the next invocation fails; Lambda retries the batch from its
  lowest failed record, as it does with partial batch failures.

Then the stream is drained. The model says every item ends as its last legitimate write,
and the monitor never overwrites a legitimate write. Draining must end: the monitor's own
writes cost at most one more record each, and never loop.
"""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from change_monitor import adapter, marker
from change_monitor.config import Policy
from tests.fakes import FakeAudit, FakeDynamoDb

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

    def _store(self, key, item):
        """A transaction's put: one stream record per item, as DynamoDB writes them."""
        before = copy.deepcopy(self.items.get(key))
        super()._store(key, item)
        self._emit(key, before, copy.deepcopy(item))

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
        st.tuples(st.just("forge"), st.sampled_from(KEYS), st.binary(max_size=8)),
        st.tuples(st.just("replay"), st.sampled_from(KEYS), st.integers(min_value=0, max_value=5)),
        st.tuples(st.just("cold"), st.just(None)),
        st.tuples(st.just("throttle"), st.just(None)),
    ),
    max_size=40,
)


# Derandomized: CI runs the same 500 interleavings every time (a red build must be reproducible);
# explore further with `pytest --hypothesis-seed=N`.
@settings(
    max_examples=500, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(initial=st.sets(st.sampled_from(KEYS)), ops=steps)
def test_the_table_ends_as_the_legitimate_writes_left_it(handler, initial, ops):
    table = StreamTable()
    actions = adapter.DynamoDbActions(table, POLICY.marker)
    audit = FakeAudit()
    memory = handler.Memory()
    model: dict[str, str] = {}
    for pk in sorted(initial):
        table.items[(repr({"S": pk}),)] = {"pk": {"S": pk}, "v": {"S": "initial"}}
        model[pk] = "initial"
    processed = 0
    throttled = False
    genuine: dict[str, list[dict]] = {pk: [] for pk in KEYS}  # marked images the monitor wrote

    def invoke(count: int) -> None:
        nonlocal processed, throttled
        batch, table.stream[:] = table.stream[:count], table.stream[count:]
        if not batch:
            return
        processed += len(batch)
        for rec in batch:
            image = rec["dynamodb"].get("NewImage")
            if image and POLICY.marker.parse(image, marker.UNDO):
                genuine[image["pk"]["S"]].append(copy.deepcopy(image))
        table.fail_on = {repr({"S": pk}) for pk in KEYS} if throttled else set()
        try:
            result = handler.process({"Records": batch}, actions, POLICY, memory=memory, audit=audit)
        finally:
            table.fail_on, throttled = set(), False
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        if failed:  # Lambda retries from the lowest failed record, later ones included
            first = min(i for i, rec in enumerate(batch) if rec["dynamodb"]["SequenceNumber"] in failed)
            table.stream[:0] = batch[first:]

    for op in ops:
        kind, pk = op[0], op[1]
        key = (repr({"S": pk}),) if kind in ("insert", "delete", "replace", "update", "forge", "replay") else None
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
        elif kind == "forge" and present:
            bad = {"pk": {"S": pk}, "v": {"S": "forged"}}
            guessed = marker.Marker(POLICY.marker_attribute, op[2])
            table.put_item(Item=guessed.mark(bad, marker.UNDO, "1", replaced=table.items[key]))
        elif kind == "replay" and present and genuine[pk]:
            table.put_item(Item=copy.deepcopy(genuine[pk][op[2] % len(genuine[pk])]))
        elif kind == "monitor":
            invoke(op[1])
        elif kind == "cold":
            memory = handler.Memory()
        elif kind == "throttle":
            throttled = True

    writes = len(table.stream) + processed
    while table.stream:
        invoke(5)
        assert processed <= 4 * writes + 10, "the monitor keeps producing records: a loop"

    final = {item["pk"]["S"]: POLICY.marker.strip(item)["v"]["S"] for item in table.items.values()}
    assert final == model

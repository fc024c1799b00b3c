"""Property: whatever the interleaving, the table ends as the legitimate writes left it.

A simulated table writes a stream record for every change, the monitor's own writes
included, as DynamoDB does. Hypothesis generates interleavings of:

- legitimate writes: an application creates an item that is absent (INSERT, not protected),
  unless the item is absent only because of a protected delete not yet undone: that
  re-creation is a modification of the protected item (protected), whoever is faster;
- unintended changes: deletes, whole-item replacements, and single-attribute updates
  (which keep any stale marker) of present items (REMOVE and MODIFY, protected);
- monitor invocations on the next batch of records, of random size;
- attacks, on present items: a replacement carrying a marker made with a guessed key
  (forged), a genuine marked image the monitor wrote earlier, written back (replayed), or
  a marker that does not parse (poisoned: it must neither fail the batch nor hide the change);
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

from change_monitor import marker
from change_monitor.config import Policy
from change_monitor.writes import DynamoDbActions
from tests.fakes import FakeAudit, StreamTable

ATTR = "_ddbguard_undo"
KEYS = ["k0", "k1", "k2"]
POLICY = Policy(protected_events=frozenset({"REMOVE", "MODIFY"}), concurrency=4, marker_key=b"s" * 32)


# Marker bodies (after the prefix) that a writer may set and that are not the monitor's:
# digits that are not ASCII (a superscript two), more digits than Python converts, digests
# and MACs that are not ASCII hex, and anything at all.
MALFORMED_BODIES = st.tuples(
    st.one_of(
        st.text(st.characters(categories=("Nd", "No")), min_size=1, max_size=4),
        st.integers(min_value=41, max_value=6000).map(lambda n: "7" * n),
        st.text(max_size=6),
    ),
    st.one_of(st.just("absent"), st.text(max_size=6), st.just("\u00e9" * 32)),
    st.one_of(st.text(max_size=6), st.just("a" * 63 + "\u00e9"), st.just("a" * 64)),
).map(":".join)

steps = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), st.sampled_from(KEYS), st.text("abc", min_size=1, max_size=3)),
        st.tuples(st.just("delete"), st.sampled_from(KEYS)),
        st.tuples(st.just("replace"), st.sampled_from(KEYS), st.text("xyz", min_size=1, max_size=3)),
        st.tuples(st.just("update"), st.sampled_from(KEYS), st.text("xyz", min_size=1, max_size=3)),
        st.tuples(st.just("monitor"), st.integers(min_value=1, max_value=6)),
        st.tuples(st.just("forge"), st.sampled_from(KEYS), st.binary(max_size=8)),
        st.tuples(st.just("replay"), st.sampled_from(KEYS), st.integers(min_value=0, max_value=5)),
        st.tuples(st.just("poison"), st.sampled_from(KEYS), MALFORMED_BODIES),
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
    actions = DynamoDbActions(table, POLICY.marker)
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
        key = (
            (repr({"S": pk}),)
            if kind in ("insert", "delete", "replace", "update", "forge", "replay", "poison")
            else None
        )
        present = key in table.items if key else False
        if kind == "insert" and not present:
            table.put_item(Item={"pk": {"S": pk}, "v": {"S": op[2]}})
            if pk not in model:  # else a re-creation after a protected delete: a protected change
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
        elif kind == "poison" and present:  # a marker that does not parse: a change like any other
            bad = {"pk": {"S": pk}, "v": {"S": "poisoned"}, ATTR: {"S": f"ddbguard-undo:v2:{op[2]}"}}
            table.put_item(Item=bad)
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

"""The handler: decisions carried out with conditions, failures reported, audit, escalation."""

from __future__ import annotations

import base64
import copy
import datetime
import json

from change_monitor import core, images
from change_monitor.config import Policy
from change_monitor.outcomes import Outcome
from change_monitor.writes import DynamoDbActions
from tests.fakes import FakeAudit, FakeDynamoDb

ATTR = "_ddbguard_undo"
ALL = Policy(protected_events=frozenset({"REMOVE", "MODIFY", "INSERT"}), marker_key=b"s" * 32)
SIGNER = ALL.marker
ORDERS = Policy(protected_events=ALL.protected_events, marker_key=ALL.marker_key, table="orders")


def run(handler, records, client, policy=ALL, **kwargs):
    kwargs.setdefault("memory", handler.Memory())
    return handler.process({"Records": records}, DynamoDbActions(client, policy.marker), policy, **kwargs)


def lines(capsys):
    return [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]


def test_a_deleted_item_is_put_back_exactly_with_binary_as_bytes(handler, record):
    client = FakeDynamoDb()
    assert run(handler, [record("remove")], client) == {"batchItemFailures": []}
    stored = client.items[(repr({"S": "order#1"}),)]
    assert SIGNER.strip(stored)["amount"] == {"N": "12345678901234567890123456789012345678"}
    assert stored["blob"] == {"B": base64.b64decode("ZGRiZ3VhcmQ=")}
    assert stored["nested"]["M"]["list"]["L"][0] == {"BS": [b"\x01\x02", b"\x03\x04"]}


def test_an_item_recreated_before_the_undo_is_left_alone(handler, record, capsys):
    client = FakeDynamoDb()
    newer = {"pk": {"S": "order#1"}, "amount": {"N": "7"}}
    client.items[(repr({"S": "order#1"}),)] = newer
    run(handler, [record("remove")], client)
    assert client.items[(repr({"S": "order#1"}),)] == newer
    assert lines(capsys)[0]["outcome"] == Outcome.SUPERSEDED


def test_a_modification_is_reverted_unless_the_item_changed_again(handler, record):
    rec = record("modify")
    client = FakeDynamoDb()
    client.items[(repr({"S": "order#3"}),)] = copy.deepcopy(rec["dynamodb"]["NewImage"])
    run(handler, [rec], client)
    assert SIGNER.strip(client.items[(repr({"S": "order#3"}),)]) == rec["dynamodb"]["OldImage"]
    later = {"pk": {"S": "order#3"}, "status": {"S": "shipped"}}
    client.items[(repr({"S": "order#3"}),)] = later
    run(handler, [rec], client)  # redelivered: the newer write wins
    assert client.items[(repr({"S": "order#3"}),)] == later


def test_an_insert_is_deleted_and_its_delete_echo_is_not_restored(handler, record):
    rec = record("insert")
    client = FakeDynamoDb()
    client.items[(repr({"S": "order#2"}),)] = copy.deepcopy(rec["dynamodb"]["NewImage"])
    run(handler, [rec], client)
    assert (repr({"S": "order#2"}),) not in client.items
    [(_, mark), (_, delete)] = [c for c in client.calls if c[0] in ("update_item", "delete_item")]
    marked = {**rec["dynamodb"]["NewImage"], ATTR: mark["ExpressionAttributeValues"][":m"]}
    echo = record("remove")
    echo["dynamodb"]["Keys"] = rec["dynamodb"]["Keys"]
    echo["dynamodb"]["OldImage"] = marked
    assert core.decide(echo, ALL).reason == "own-write"
    assert delete["ConditionExpression"] == "#m = :m"


def test_a_failing_record_is_reported_its_key_waits_and_other_keys_go_on(handler, record):
    bad_first, bad_later, other = record("remove"), record("remove"), record("remove")
    for rec, seq in ((bad_first, "100"), (bad_later, "300")):
        rec["dynamodb"]["Keys"] = {"pk": {"S": "order#bad"}}
        rec["dynamodb"]["OldImage"]["pk"] = {"S": "order#bad"}
        rec["dynamodb"]["SequenceNumber"] = seq
    other["dynamodb"]["SequenceNumber"] = "200"
    client = FakeDynamoDb(fail_on={repr({"S": "order#bad"})})
    result = run(handler, [bad_first, other, bad_later], client)
    assert result == {"batchItemFailures": [{"itemIdentifier": "100"}]}
    assert (repr({"S": "order#1"}),) in client.items
    bad = [item for item in written(client) if item["pk"] == {"S": "order#bad"}]
    assert bad and all(item[ATTR]["S"].startswith("ddbguard-undo:v2:100:") for item in bad)  # 300 waits


def written(client: FakeDynamoDb) -> list[dict]:
    """Every item the monitor tried to put, alone or in a transaction."""
    items = [kwargs["Item"] for name, kwargs in client.calls if name == "put_item"]
    for name, kwargs in client.calls:
        if name == "transact_write_items":
            items += [action["Put"]["Item"] for action in kwargs["TransactItems"]]
    return items


def test_one_log_line_per_decision_and_one_metrics_line(handler, record, capsys):
    run(handler, [record("remove"), record("remove_ttl")], FakeDynamoDb())
    out = lines(capsys)
    decisions, emf = out[:-1], out[-1]
    assert [(x["event"], x["action"], x["reason"], x["outcome"]) for x in decisions] == [
        ("REMOVE", "restore-deleted", "protected-change", "applied"),
        ("REMOVE", "skip", "ttl-delete", "nothing-to-do"),
    ]
    assert all({"event_id", "table", "key", "lag_ms", "sequence"} <= set(x) for x in decisions)
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ddbguard"
    assert (emf["Undone"], emf["Skipped"], emf["Failed"], emf["Table"]) == (1, 1, 0, "orders")


def test_many_keys_are_undone_in_parallel_and_all_come_back(handler, record):
    records = []
    for i in range(200):
        rec = record("remove")
        rec["dynamodb"]["Keys"] = {"pk": {"S": f"order#{i}"}}
        rec["dynamodb"]["OldImage"]["pk"] = {"S": f"order#{i}"}
        rec["dynamodb"]["SequenceNumber"] = str(1000 + i)
        records.append(rec)
    client = FakeDynamoDb()
    assert run(handler, records, client, Policy(concurrency=8)) == {"batchItemFailures": []}
    assert len(client.items) == 200


class FakeEscalation:
    def __init__(self, points):
        self.points, self.restores = points, []

    def latest_point_before(self, resource_arn, before):
        usable = [p for p in self.points if p["CreationDate"].timestamp() < before]
        return max(usable, key=lambda p: p["CreationDate"], default=None)

    def restore(self, point_arn, target):
        self.restores.append((point_arn, target))
        return f"job-{len(self.restores)}"


def burst(record, count, start=0, created=1795548836):
    out = []
    for i in range(start, start + count):
        rec = record("remove")
        rec["dynamodb"]["Keys"] = {"pk": {"S": f"order#{i}"}}
        rec["dynamodb"]["OldImage"]["pk"] = {"S": f"order#{i}"}
        rec["dynamodb"]["SequenceNumber"] = str(5000 + i)
        rec["dynamodb"]["ApproximateCreationDateTime"] = created
        out.append(rec)
    return out


def test_every_undo_gets_an_audit_record(handler, record):
    audit = FakeAudit()
    run(handler, burst(record, 3), FakeDynamoDb(), audit=audit)
    assert [(u["event"], u["action"], u["outcome"]) for u in audit.undos] == [
        ("REMOVE", "restore-deleted", "applied")
    ] * 3


def test_a_burst_past_the_threshold_opens_one_incident_and_one_restore_job(handler, record, capsys):
    policy = Policy(mode="undo+escalate", escalation_threshold=5, escalation_window_seconds=300, audit_table="audit")
    created = 1795548836
    point_time = datetime.datetime.fromtimestamp(created - 600, tz=datetime.UTC)
    late_point = datetime.datetime.fromtimestamp(created + 600, tz=datetime.UTC)
    escalation = FakeEscalation(
        [
            {"RecoveryPointArn": "rp-before", "CreationDate": point_time},
            {"RecoveryPointArn": "rp-after", "CreationDate": late_point},
        ]
    )
    audit = FakeAudit()
    client = FakeDynamoDb()
    for batch in range(4):  # 12 deletes over four batches: one incident
        run(
            handler,
            burst(record, 3, start=batch * 3, created=created),
            client,
            policy,
            audit=audit,
            escalation=escalation,
        )
    assert escalation.restores == [("rp-before", "orders-incident-20261124T193000Z")]
    [incident] = audit.incidents.values()
    assert incident["status"] == "restoring" and incident["restore_job_id"] == "job-1"
    assert len(client.items) == 12  # item undo went on
    opened = [x for x in lines(capsys) if x.get("incident") == "opened"]
    assert len(opened) == 1 and opened[0]["next_steps"]
    command = next(step for step in opened[0]["next_steps"] if "playbooks/restore.yml" in step)
    assert "-e dr_restore_from_table=orders-incident-20261124T193000Z" in command
    assert_a_real_restore_command(command)


def assert_a_real_restore_command(command: str) -> None:
    """The command the incident gives operators names restore.yml's real variables and values."""
    import re

    import yaml

    from tests.conftest import ROOT

    assert (ROOT / "playbooks" / "restore.yml").is_file()
    specs = ROOT / "collections/ansible_collections/ddbguard/dr/roles/dr_restore/meta/argument_specs.yml"
    options = yaml.safe_load(specs.read_text())["argument_specs"]["main"]["options"]
    for name, value in re.findall(r"-e (\w+)=(\S+)", command):
        assert name in options, f"{name} is not a variable of dr_restore"
        if "choices" in options[name]:
            assert value in options[name]["choices"], f"{name}={value}"


def test_below_the_threshold_nothing_escalates(handler, record):
    policy = Policy(mode="undo+escalate", escalation_threshold=50, audit_table="audit")
    escalation = FakeEscalation([])
    run(handler, burst(record, 10), FakeDynamoDb(), policy, audit=FakeAudit(), escalation=escalation)
    assert escalation.restores == []


def test_the_canarys_changes_never_count_toward_an_incident(handler, record):
    """Its hourly check must neither open an incident nor be the first change one goes back to."""
    policy = Policy(mode="undo+escalate", escalation_threshold=5, audit_table="audit")
    canaries = burst(record, 10)
    for rec in canaries:
        key = {"pk": {"S": policy.canary_prefix + rec["dynamodb"]["Keys"]["pk"]["S"]}}
        rec["dynamodb"]["Keys"] = key
        rec["dynamodb"]["OldImage"]["pk"] = key["pk"]
    escalation, audit, client = FakeEscalation([]), FakeAudit(), FakeDynamoDb()
    run(handler, canaries, client, policy, audit=audit, escalation=escalation)
    assert escalation.restores == [] and audit.incidents == {}
    assert len(client.items) == 10, "the canaries' deletes are undone all the same"


def test_records_that_cannot_be_undone_count_toward_an_incident(handler, record, capsys):
    policy = Policy(mode="undo+escalate", escalation_threshold=3, audit_table="audit")
    escalation = FakeEscalation([])
    audit = FakeAudit()
    client = FakeDynamoDb(fail_on={repr({"S": f"order#{i}"}) for i in range(3)})
    result = run(handler, burst(record, 3), client, policy, audit=audit, escalation=escalation)
    assert len(result["batchItemFailures"]) == 3
    [incident] = audit.incidents.values()
    assert incident["status"] == "no-recovery-point"
    [opened] = [x for x in lines(capsys) if x.get("incident") == "opened"]
    assert_a_real_restore_command(opened["next_steps"][0])


def test_an_item_too_large_for_the_marker_is_restored_unmarked(handler, record):
    rec = record("remove")
    rec["dynamodb"]["OldImage"] = {"pk": {"S": "order#1"}, "big": {"S": "x" * 1000}}
    client = FakeDynamoDb(
        max_item_bytes=len("pk") + len(repr({"S": "order#1"})) + len("big") + len(repr({"S": "x" * 1000}))
    )
    assert run(handler, [rec], client) == {"batchItemFailures": []}
    assert client.items[(repr({"S": "order#1"}),)] == rec["dynamodb"]["OldImage"]  # exact, without the marker


def test_a_protected_change_that_cannot_be_undone_is_never_a_quiet_skip(handler, record, capsys):
    """Too many attributes for a condition, or a stream without both images: logged as
    not-undone, counted (NotUndone, which has its alarm), kept with its images in the audit
    table, and counted toward an incident."""
    wide = record("modify")
    wide["dynamodb"]["NewImage"].update({f"attribute_{i:03d}": {"N": str(i)} for i in range(300)})
    blind = record("remove")
    blind["dynamodb"]["Keys"] = {"pk": {"S": "order#blind"}}
    del blind["dynamodb"]["OldImage"]
    audit = FakeAudit()
    client = FakeDynamoDb()
    policy = Policy(
        protected_events=frozenset({"REMOVE", "MODIFY"}),
        mode="undo+escalate",
        escalation_threshold=2,
        audit_table="audit",
        marker_key=b"s" * 32,
    )
    result = run(handler, [wide, blind], client, policy, audit=audit, escalation=FakeEscalation([]))
    assert result == {"batchItemFailures": []}, "a retry cannot undo it either"
    assert client.calls == []
    out = lines(capsys)
    decisions = [x for x in out if x.get("kind") == "decision"]
    assert [(d["reason"], d["outcome"]) for d in decisions] == [
        ("too-many-attributes", "not-undone"),
        ("image-missing", "not-undone"),
    ]
    assert out[-1]["NotUndone"] == 2
    assert [(e["reason"], e["new_image"] is not None) for e in audit.not_undone] == [
        ("too-many-attributes", True),
        ("image-missing", False),
    ]
    assert audit.not_undone[0]["old_image"] == wide["dynamodb"]["OldImage"]
    assert sum(total for total, _first in audit.counters.values()) == 2, "both count toward an incident"


def test_a_failed_undo_is_kept_with_its_decision_and_replayed_once_the_fault_is_gone(handler, record, capsys):
    """Throttled past every retry: the failure queue gets sequence numbers only, the audit
    table keeps the images and the decision; replay-failed redoes it, conditionally, once."""
    deleted = record("remove")
    deleted["dynamodb"]["SequenceNumber"] = "100"
    modified = record("modify")
    modified["dynamodb"]["SequenceNumber"] = "999"
    audit = FakeAudit()
    broken = FakeDynamoDb(fail_on={repr({"S": "order#1"}), repr({"S": "order#3"})})
    broken.items[(repr({"S": "order#3"}),)] = copy.deepcopy(modified["dynamodb"]["NewImage"])
    result = run(handler, [deleted, modified], broken, audit=audit)
    assert len(result["batchItemFailures"]) == 2
    kept = audit.failed("orders")
    assert [k["decision"]["action"] for k in kept] == ["restore-deleted", "revert-modified"]
    assert kept[0]["record"] == deleted, "the images outlive the stream"

    healthy = FakeDynamoDb()
    healthy.items = broken.items
    actions = DynamoDbActions(healthy, ALL.marker)
    event = {"ddbguard": "replay-failed", "table": "orders"}
    answer = handler.run_operation(event, healthy, ORDERS, handler.Memory(), audit=audit, actions=actions)
    assert [r["outcome"] for r in answer["results"]] == ["applied", "applied"]
    assert SIGNER.strip(healthy.items[(repr({"S": "order#1"}),)]) == images.to_wire(deleted["dynamodb"]["OldImage"])
    assert SIGNER.strip(healthy.items[(repr({"S": "order#3"}),)]) == images.to_wire(modified["dynamodb"]["OldImage"])
    assert audit.failed("orders") == []
    again = handler.run_operation(event, healthy, ORDERS, handler.Memory(), audit=audit, actions=actions)
    assert again["results"] == [], "nothing is redone twice"


def test_a_replay_gives_way_to_a_write_made_since(handler, record):
    deleted = record("remove")
    audit = FakeAudit()
    client = FakeDynamoDb(fail_on={repr({"S": "order#1"})})
    run(handler, [deleted], client, audit=audit)
    client.fail_on.clear()
    newer = {"pk": {"S": "order#1"}, "amount": {"N": "1"}}
    client.items[(repr({"S": "order#1"}),)] = newer  # the application re-created it meanwhile
    actions = DynamoDbActions(client, ALL.marker)
    answer = handler.run_operation(
        {"ddbguard": "replay-failed", "table": "orders"}, client, ORDERS, handler.Memory(), audit=audit, actions=actions
    )
    assert [r["outcome"] for r in answer["results"]] == ["superseded"]
    assert client.items[(repr({"S": "order#1"}),)] == newer and audit.failed("orders") == []


def test_a_retry_that_succeeds_forgets_the_kept_failure(handler, record):
    deleted = record("remove")
    audit = FakeAudit()
    client = FakeDynamoDb(fail_on={repr({"S": "order#1"})})
    run(handler, [deleted], client, audit=audit)
    assert len(audit.failed("orders")) == 1
    client.fail_on.clear()
    assert run(handler, [deleted], client, audit=audit) == {"batchItemFailures": []}
    assert audit.failed("orders") == []


def test_a_chain_of_bad_changes_across_a_cold_start_returns_to_the_good_state(handler, record):
    """v0 -> b1 -> b2, the two records seen by two containers: the second must return to v0,
    not to the bad intermediate b1 (its OldImage). The first persisted what it knew."""
    v0, b1, b2 = ({"pk": {"S": "order#3"}, "status": {"S": s}} for s in ("paid", "bad-1", "bad-2"))
    first, second = record("modify"), record("modify")
    for rec, (old, new, seq) in ((first, (v0, b1, "1")), (second, (b1, b2, "2"))):
        rec["dynamodb"].update(OldImage=old, NewImage=new, SequenceNumber=seq)
    audit = FakeAudit()
    client = FakeDynamoDb()
    client.items[(repr({"S": "order#3"}),)] = copy.deepcopy(b2)
    run(handler, [first], client, audit=audit, memory=handler.Memory())  # superseded: the item is b2
    run(handler, [second], client, audit=audit, memory=handler.Memory())  # a cold container
    assert SIGNER.strip(client.items[(repr({"S": "order#3"}),)]) == v0


def test_a_persisted_state_that_no_longer_applies_is_ignored(handler, record):
    """A legitimate change the persisting container did not record came in between: the
    next record does not start from the persisted after-state, so its OldImage is good."""
    v0, b1, legit, bad = ({"pk": {"S": "order#3"}, "status": {"S": s}} for s in ("paid", "bad", "legit", "bad-2"))
    first, later = record("modify"), record("modify")
    first["dynamodb"].update(OldImage=v0, NewImage=b1, SequenceNumber="1")
    later["dynamodb"].update(OldImage=legit, NewImage=bad, SequenceNumber="5")
    audit = FakeAudit()
    client = FakeDynamoDb()
    client.items[(repr({"S": "order#3"}),)] = copy.deepcopy(b1)
    run(handler, [first], client, audit=audit, memory=handler.Memory())
    client.items[(repr({"S": "order#3"}),)] = copy.deepcopy(bad)
    run(handler, [later], client, audit=audit, memory=handler.Memory())
    assert SIGNER.strip(client.items[(repr({"S": "order#3"}),)]) == legit


def test_every_line_the_monitor_prints_has_one_shape(handler, record, capsys):
    """kind, table and outcome on every line (the EMF metrics line aside), whatever its kind."""
    policy = Policy(mode="undo+escalate", escalation_threshold=1, audit_table="audit", table="orders")
    from change_monitor import maintenance

    window = maintenance.MaintenanceWindow(
        type("Ssm", (), {"get_parameter": lambda self, Name: {"Parameter": {"Value": "2099-01-01"}}})(),
        "/p",
        86400,
        "orders",
    )
    run(
        handler,
        [record("remove")],
        FakeDynamoDb(),
        policy,
        audit=FakeAudit(),
        escalation=FakeEscalation([]),
        window=window,
    )
    handler.run_operation({"ddbguard": "retire-canaries", "table": "other"}, FakeDynamoDb(), policy)
    out = [x for x in lines(capsys) if "_aws" not in x]
    assert {x["kind"] for x in out} == {"decision", "incident", "maintenance", "operation"}
    assert all({"kind", "table", "outcome"} <= set(x) for x in out), out

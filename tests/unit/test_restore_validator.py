"""The restore-test validation function: its digest and its comparison, against fakes of
the three services it reads (the local AWS run is in tests/integration/test_restore_testing.py)."""

from __future__ import annotations

import gzip
import io
import json
import random
from datetime import UTC, datetime

import pytest
from restore_validator import validate
from restore_validator.digest import Digest, canonical

PLAN = "arn:aws:backup:us-east-1:000000000000:restore-testing-plan:ddbguard_restore_test-abc"
SOURCE = "arn:aws:dynamodb:us-east-1:000000000000:table/orders"
RESTORED = "arn:aws:dynamodb:us-east-1:000000000000:table/awsbackup-restore-test-1"


def _items(n: int) -> list[dict]:
    return [
        {"pk": {"S": f"k{i}"}, "n": {"N": str(i)}, "tags": {"SS": ["a", "b", f"t{i}"]}, "b": {"B": bytes([i % 256, 1])}}
        for i in range(n)
    ]


def _exported(item: dict) -> dict:
    """An item as an export writes it: binary values in base64."""
    import base64

    out = {}
    for name, value in item.items():
        if "B" in value:
            out[name] = {"B": base64.b64encode(value["B"]).decode()}
        elif "BS" in value:
            out[name] = {"BS": [base64.b64encode(v).decode() for v in value["BS"]]}
        else:
            out[name] = value
    return out


def test_a_binary_value_read_by_scan_and_by_export_is_the_same_item():
    item = {"pk": {"B": b"\x00\xff"}, "set": {"BS": [b"\x02", b"\x01"]}}
    assert canonical(item) == canonical(_exported(item))


def test_a_binary_key_carried_to_the_next_invocation_comes_back_as_bytes():
    from restore_validator.digest import from_json_key, to_json_key

    key = {"pk": {"B": b"\x00\xff"}, "sk": {"S": "x"}}
    assert from_json_key(json.loads(json.dumps(to_json_key(key)))) == key


def test_the_digest_does_not_depend_on_order_split_or_equivalent_forms():
    items = _items(50)
    whole = Digest()
    whole.add_all(items)
    shuffled = items[:]
    random.Random(7).shuffle(shuffled)
    halves = Digest()
    halves.add_all(shuffled[:20])
    other = Digest()
    other.add_all(shuffled[20:])
    halves.merge(other)
    assert halves == whole
    assert Digest.of(whole.state()) == whole
    # set members in another order, a number in another decimal form, map keys reordered: same item
    assert canonical({"s": {"SS": ["b", "a"]}, "n": {"N": "1.50"}}) == canonical(
        {"n": {"N": "1.5"}, "s": {"SS": ["a", "b"]}}
    )


@pytest.mark.parametrize(
    "change",
    ["one attribute changed", "one item missing", "one item more", "a list reordered"],
)
def test_the_digest_changes_with_any_change_of_content(change):
    items = _items(20) + [{"pk": {"S": "list"}, "l": {"L": [{"N": "1"}, {"N": "2"}]}}]
    before = Digest()
    before.add_all(items)
    changed = [dict(i) for i in items]
    if change == "one attribute changed":
        changed[3]["n"] = {"N": "1000"}
    elif change == "one item missing":
        del changed[5]
    elif change == "one item more":
        changed.append({"pk": {"S": "new"}})
    else:
        changed[-1] = {"pk": {"S": "list"}, "l": {"L": [{"N": "2"}, {"N": "1"}]}}
    after = Digest()
    after.add_all(changed)
    assert after != before


class _Fakes:
    """The backup, dynamodb and s3 calls the function makes, over in-memory tables."""

    def __init__(self, source_items, restored_items, export_status="COMPLETED", plan=PLAN, files=3):
        self.tables = {"awsbackup-restore-test-1": restored_items}
        self.source_items = source_items
        self.export_status = export_status
        self.plan = plan
        self.files = files
        self.results = []
        self.objects = {}
        self.scans = 0
        self.backup, self.dynamodb, self.s3 = self, self, self

    # backup
    def describe_restore_job(self, RestoreJobId):
        return {
            "RestoreJobId": RestoreJobId,
            "Status": "COMPLETED",
            "ResourceType": "DynamoDB",
            "CreatedBy": {"RestoreTestingPlanArn": self.plan},
            "SourceResourceArn": SOURCE,
            "CreatedResourceArn": RESTORED,
            "RecoveryPointCreationDate": datetime(2026, 12, 6, tzinfo=UTC),
        }

    def put_restore_validation_result(self, **kwargs):
        self.results.append(kwargs)

    # dynamodb
    def export_table_to_point_in_time(self, **kwargs):
        self.export_request = kwargs
        prefix = f"{kwargs['S3Prefix']}/AWSDynamoDB/e1"
        keys = []
        for f in range(self.files):
            lines = "".join(json.dumps({"Item": _exported(i)}) + "\n" for i in self.source_items[f :: self.files])
            key = f"{prefix}/data/{f}.json.gz"
            self.objects[key] = gzip.compress(lines.encode())
            keys.append(key)
        self.objects[f"{prefix}/manifest-files.json"] = "\n".join(
            json.dumps({"dataFileS3Key": k}) for k in keys
        ).encode()
        return {"ExportDescription": {"ExportArn": "arn:export/e1", "ExportStatus": "IN_PROGRESS"}}

    def describe_export(self, ExportArn):
        return {
            "ExportDescription": {
                "ExportStatus": self.export_status,
                "S3Bucket": "b",
                "ExportManifest": f"{self.export_request['S3Prefix']}/AWSDynamoDB/e1/manifest-summary.json",
                "FailureCode": "PointInTimeRecoveryUnavailable" if self.export_status == "FAILED" else None,
            }
        }

    def scan(self, TableName, Segment, TotalSegments, Limit, ConsistentRead, ExclusiveStartKey=None):
        self.scans += 1
        mine = [i for n, i in enumerate(self.tables[TableName]) if n % TotalSegments == Segment]
        start = ExclusiveStartKey["at"]["N"] if ExclusiveStartKey else "0"
        page = mine[int(start) : int(start) + Limit]
        answer = {"Items": page}
        if int(start) + Limit < len(mine):
            answer["LastEvaluatedKey"] = {"at": {"N": str(int(start) + Limit)}}
        return answer

    # s3
    def get_object(self, Bucket, Key):
        return {"Body": io.BytesIO(self.objects[Key])}


SETTINGS = validate.Settings(
    plan_arns=frozenset([PLAN]), export_bucket="b", export_key_arn="k", page_size=7, poll_seconds=0
)


def _run(fakes, deadline_steps=None):
    state = validate.begin("JOB-1", fakes, SETTINGS)
    while True:
        outcome = validate.step(state, fakes, SETTINGS, deadline=float("inf") if deadline_steps is None else 0)
        if outcome:
            validate.report("JOB-1", outcome, fakes)
            return outcome, state
        state = json.loads(json.dumps(state))  # as handed to the next invocation


def test_an_equal_restore_is_validated_successful_and_the_export_is_of_the_recovery_points_time():
    items = _items(100)
    fakes = _Fakes(items, list(reversed(items)))
    (status, message), _ = _run(fakes)
    assert status == "SUCCESSFUL", message
    assert "100 items" in message
    assert [r["ValidationStatus"] for r in fakes.results] == ["VALIDATING", "SUCCESSFUL"]
    assert fakes.export_request["ExportTime"] == datetime(2026, 12, 6, tzinfo=UTC)
    assert fakes.export_request["S3SseAlgorithm"] == "KMS" and fakes.export_request["ClientToken"] == "JOB-1"


def test_one_changed_item_fails_the_validation_and_says_both_counts():
    items = _items(100)
    restored = [dict(i) for i in items]
    restored[42]["n"] = {"N": "-1"}
    fakes = _Fakes(items, restored)
    (status, message), _ = _run(fakes)
    assert status == "FAILED"
    assert "restored 100 items" in message and "held 100 items" in message
    assert fakes.results[-1]["ValidationStatus"] == "FAILED"


def test_a_validation_cut_by_every_deadline_resumes_page_by_page_to_the_same_verdict():
    items = _items(60)
    fakes = _Fakes(items, items)
    state = validate.begin("JOB-1", fakes, SETTINGS)
    steps = 0
    outcome = None
    while outcome is None:
        steps += 1
        # a deadline already past: each step reads one page per open segment, or one export
        # line block, and hands the state on
        outcome = validate.step(state, fakes, SETTINGS, deadline=0)
        state = json.loads(json.dumps(state))
        assert steps < 100
    assert outcome[0] == "SUCCESSFUL"
    assert steps > 2


def test_no_reference_is_a_failure_never_a_pass():
    fakes = _Fakes(_items(10), _items(10), export_status="FAILED")
    (status, message), _ = _run(fakes)
    assert status == "FAILED" and "no reference" in message


def test_a_restore_job_of_another_plan_is_ignored_and_never_validated():
    fakes = _Fakes(_items(3), _items(3), plan="arn:aws:backup:us-east-1:000000000000:restore-testing-plan:other")
    with pytest.raises(validate.Ignored):
        validate.begin("JOB-1", fakes, SETTINGS)
    assert fakes.results == []

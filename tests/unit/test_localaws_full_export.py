"""A full export at a point in time holds the items of that time (localaws/compat/full_export.py)."""

from __future__ import annotations

import gzip
import json

import pytest

from localaws.compat import full_export, pitr_history
from localaws.compat import incremental_export as ie

T0 = 1_700_000_000.0


def _history():
    history = pitr_history.new_history({"a": {None: {"pk": {"S": "a"}, "v": {"N": "1"}}}}, T0)
    pitr_history.record(history, "b", None, {"pk": {"S": "b"}}, T0 + 10)
    pitr_history.record(history, "a", None, {"pk": {"S": "a"}, "v": {"N": "2"}}, T0 + 20)
    pitr_history.record(history, "b", None, None, T0 + 30)
    return history


@pytest.mark.parametrize(
    ("moment", "expected"),
    [(T0 + 5, {"a": "1"}), (T0 + 15, {"a": "1", "b": None}), (T0 + 25, {"a": "2", "b": None}), (T0 + 35, {"a": "2"})],
)
def test_the_lines_are_the_items_at_the_export_time(moment, expected):
    lines = full_export.items(_history(), moment)
    got = {line["Item"]["pk"]["S"]: line["Item"].get("v", {}).get("N") for line in lines}
    assert got == expected


def test_a_time_in_the_future_or_before_the_window_is_refused_as_aws_does():
    assert full_export.check_time(None, T0, T0 + 100) == T0 + 100
    assert full_export.check_time(T0 + 50, T0, T0 + 100) == T0 + 50
    for bad in (T0 + 101, T0 - 1):
        with pytest.raises(ie.ExportError) as err:
            full_export.check_time(bad, T0, T0 + 100)
        assert err.value.code == "InvalidExportTimeException"


def test_the_layout_is_a_full_exports():
    desc = {
        "ExportArn": "arn:aws:dynamodb:us-east-1:000000000000:table/t/export/01700000000000-abcd1234",
        "StartTime": T0,
        "TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/t",
        "S3Bucket": "b",
        "S3Prefix": "restore-tests/j",
    }
    found = full_export.items(_history(), T0 + 25)
    fields = {"exportTime": ie.iso(T0 + 25), "outputView": "NEW_IMAGE", "exportType": "FULL_EXPORT"}
    objects = ie.layout(desc, "id", found, fields)
    root = "restore-tests/j/AWSDynamoDB/01700000000000-abcd1234"
    summary = json.loads(objects[f"{root}/manifest-summary.json"])
    assert summary["exportType"] == "FULL_EXPORT" and summary["itemCount"] == 2
    files = [json.loads(x) for x in objects[f"{root}/manifest-files.json"].decode().splitlines()]
    data = [json.loads(x) for f in files for x in gzip.decompress(objects[f["dataFileS3Key"]]).decode().splitlines()]
    assert sorted(d["Item"]["pk"]["S"] for d in data) == ["a", "b"]

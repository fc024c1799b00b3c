"""The local AWS's incremental export (``localaws.compat.incremental_export``), in-process."""

from __future__ import annotations

import gzip
import json

import pytest

from localaws.compat import incremental_export as ie
from localaws.compat import pitr_history

T0 = 1_000_000.0
MIN = 60.0


def _item(pk: str, **attrs) -> dict:
    return {"pk": {"S": pk}, **{k: {"N": str(v)} for k, v in attrs.items()}}


def _history() -> dict:
    history = pitr_history.new_history({"a": {None: _item("a", v=0)}, "d": {None: _item("d", v=0)}}, now=T0)
    pitr_history.record(history, "a", None, _item("a", v=1), now=T0 + 5 * MIN)  # before the window
    pitr_history.record(history, "a", None, _item("a", v=2), now=T0 + 10 * MIN)  # start: inclusive
    pitr_history.record(history, "a", None, _item("a", v=3), now=T0 + 20 * MIN)
    pitr_history.record(history, "b", None, _item("b", v=1), now=T0 + 12 * MIN)  # created in the window
    pitr_history.record(history, "c", None, _item("c", v=1), now=T0 + 13 * MIN)  # created and deleted: no line
    pitr_history.record(history, "c", None, None, now=T0 + 14 * MIN)
    pitr_history.record(history, "d", None, None, now=T0 + 15 * MIN)  # deleted in the window
    pitr_history.record(history, "e", None, _item("e", v=1), now=T0 + 30 * MIN)  # end: exclusive
    return history


def test_a_line_per_item_written_in_the_window_with_its_state_at_both_ends():
    found = ie.changes(_history(), T0 + 10 * MIN, T0 + 30 * MIN)
    by_key = {line["Keys"]["pk"]["S"]: line for line in ie.lines(found, ["pk"], "NEW_AND_OLD_IMAGES")}
    assert sorted(by_key) == ["a", "b", "d"]
    assert by_key["a"]["OldImage"] == _item("a", v=1) and by_key["a"]["NewImage"] == _item("a", v=3)
    assert by_key["a"]["Metadata"] == {"WriteTimestampMicros": {"N": str(int((T0 + 20 * MIN) * 1_000_000))}}
    assert "OldImage" not in by_key["b"] and by_key["b"]["NewImage"] == _item("b", v=1)
    assert by_key["d"]["OldImage"] == _item("d", v=0) and "NewImage" not in by_key["d"]


def test_new_image_view_has_no_old_images():
    found = ie.changes(_history(), T0 + 10 * MIN, T0 + 30 * MIN)
    assert all("OldImage" not in line for line in ie.lines(found, ["pk"], "NEW_IMAGE"))


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        ({"ExportFromTime": T0 + 10 * MIN, "ExportToTime": T0 + 20 * MIN}, "ValidationException"),  # 10 min
        ({"ExportFromTime": T0 + 20 * MIN, "ExportToTime": T0 + 10 * MIN}, "ValidationException"),
        ({"ExportFromTime": T0 + 10 * MIN, "ExportToTime": T0 + 100 * MIN}, "InvalidExportTimeException"),  # future
        ({"ExportFromTime": T0 - 20 * MIN, "ExportToTime": T0 + 5 * MIN}, "InvalidExportTimeException"),  # before PITR
        ({"ExportToTime": T0 + 30 * MIN}, "ValidationException"),
        ({"ExportFromTime": T0, "ExportToTime": T0 + 30 * MIN, "ExportViewType": "KEYS_ONLY"}, "ValidationException"),
    ],
)
def test_the_window_rules(spec, code):
    with pytest.raises(ie.ExportError) as caught:
        ie.check_window(spec, earliest=T0, now=T0 + 60 * MIN)
    assert caught.value.code == code


def test_a_window_over_a_day_is_refused():
    with pytest.raises(ie.ExportError, match="15 minutes and 24 hours"):
        ie.check_window({"ExportFromTime": T0, "ExportToTime": T0 + 25 * 3600}, earliest=T0, now=T0 + 30 * 3600)


def test_the_window_defaults():
    assert ie.check_window({"ExportFromTime": T0}, earliest=T0, now=T0 + 60 * MIN) == (
        T0,
        T0 + 60 * MIN,
        "NEW_AND_OLD_IMAGES",
    )


def test_the_layout_is_aws_s():
    found = ie.lines(ie.changes(_history(), T0 + 10 * MIN, T0 + 30 * MIN), ["pk"], "NEW_AND_OLD_IMAGES")
    desc = {
        "ExportArn": "arn:aws:dynamodb:us-east-1:000000000000:table/t/export/01700000000000-abcd1234",
        "StartTime": T0 + 61 * MIN,
        "TableArn": "arn:aws:dynamodb:us-east-1:000000000000:table/t",
        "S3Bucket": "b",
        "S3Prefix": "exports/t",
    }
    fields = {"exportFromTime": ie.iso(T0 + 10 * MIN), "exportToTime": ie.iso(T0 + 30 * MIN)}
    objects = ie.layout(
        desc, "id", found, {**fields, "outputView": "NEW_AND_OLD_IMAGES", "exportType": "INCREMENTAL_EXPORT"}
    )
    root = "exports/t/AWSDynamoDB/01700000000000-abcd1234"
    assert objects[f"{root}/_started"] == b""
    summary = json.loads(objects[f"{root}/manifest-summary.json"])
    assert summary["exportType"] == "INCREMENTAL_EXPORT" and summary["itemCount"] == 3
    assert summary["manifestFilesS3Key"] == f"{root}/manifest-files.json"
    files = [json.loads(x) for x in objects[f"{root}/manifest-files.json"].decode().splitlines()]
    assert [f["dataFileS3Key"].startswith("exports/t/AWSDynamoDB/data/") for f in files] == [True]
    data = gzip.decompress(objects[files[0]["dataFileS3Key"]]).decode().splitlines()
    assert len(data) == files[0]["itemCount"] == 3
    assert sorted(json.loads(x)["Keys"]["pk"]["S"] for x in data) == ["a", "b", "d"]


def test_the_age_control_moves_the_whole_history_back():
    from localaws import controls

    history = _history()
    times = [entry[0] for entry in history["log"]]
    controls.age(history, 1200.0)
    assert history["enabled_at"] == T0 - 1200.0 and history["base_at"] == T0 - 1200.0
    assert [entry[0] for entry in history["log"]] == [t - 1200.0 for t in times]
    found = ie.changes(history, T0 + 10 * MIN - 1200.0, T0 + 30 * MIN - 1200.0)
    assert len(ie.lines(found, ["pk"], "NEW_AND_OLD_IMAGES")) == 3, "the same lines, only earlier"

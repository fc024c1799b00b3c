"""DynamoDB full export to S3 at a point in time: the table's items as they were then.

AWS's ``ExportTableToPointInTime`` (``ExportType: FULL_EXPORT``, the default) writes every
item the table held at ``ExportTime`` (default: now), one ``{"Item": {...}}`` line each in
``DYNAMODB_JSON``, gzipped data files under ``<prefix>/AWSDynamoDB/<ExportId>/data/``, with
``manifest-summary.json`` (``exportType``, ``exportTime``, ``itemCount``) and
``manifest-files.json`` (one line per data file: ``dataFileS3Key``, ``itemCount``). The rules:
point-in-time recovery on (``PointInTimeRecoveryUnavailableException``) and ``ExportTime``
within its window, not in the future (``InvalidExportTimeException``); the caller needs
``s3:PutObject`` on what it writes and, with SSE-KMS, ``kms:GenerateDataKey`` (the rule of
``incremental_export``, which applies to both types).

ministack accepts the request and writes nothing to S3, whatever the time. This patch takes
the items at ``ExportTime`` from the point-in-time history that ``pitr_history`` keeps and
writes the objects as ``incremental_export`` does (the data files hold the items of the
export's own time, not the table's current ones). ION stays ministack's (docs/emulator.md).
"""

from __future__ import annotations

import json
import time
from typing import Any

from localaws.compat import incremental_export as ie
from localaws.compat import pitr_history

DATA_FOLDER = "data"  # a full export's data files are under its own ExportId (AWS's layout)


def items(history: dict[str, Any], moment: float) -> list[dict[str, Any]]:
    """The export's lines: every item the table held at ``moment``."""
    return [{"Item": item} for by_sort in pitr_history.items_at(history, moment).values() for item in by_sort.values()]


def check_time(requested: Any, earliest: float, now: float) -> float:
    """The export's time, or ie.ExportError as AWS answers it."""
    moment = now if requested is None else float(requested)
    if moment > now:
        raise ie.ExportError("InvalidExportTimeException", "ExportTime cannot be in the future")
    if moment < earliest:
        raise ie.ExportError(
            "InvalidExportTimeException",
            f"ExportTime is before the earliest point-in-time recovery time of the table ({earliest:.3f})",
        )
    return moment


def install() -> None:
    from ministack.core.responses import error_response_json, json_response
    from ministack.services import dynamodb as ddb
    from ministack.services import s3

    if getattr(ddb._export_table_to_point_in_time, "_localaws_full", False):
        return
    original_export = ddb._export_table_to_point_in_time  # incremental_export's, installed before

    def export(data: dict[str, Any]):
        if (data.get("ExportType") or "FULL_EXPORT") != "FULL_EXPORT":
            return original_export(data)
        if (data.get("ExportFormat") or "DYNAMODB_JSON") != "DYNAMODB_JSON":
            return original_export(data)
        found = ie.source(ddb, data)
        if found is None:
            return original_export(data)
        table, history, refusal = found
        if refusal is not None:
            return refusal
        now = time.time()
        earliest = max(history["enabled_at"], now - table.get(ie._PERIOD_KEY, 35) * ie.DAY)
        try:
            moment = check_time(data.get("ExportTime"), earliest, now)
        except ie.ExportError as exc:
            return error_response_json(exc.code, exc.message, 400)
        response = original_export(data)
        if response[0] != 200:
            return response
        doc = json.loads(response[2])
        desc = doc["ExportDescription"]
        desc["ExportTime"] = moment
        ddb._exports[desc["ExportArn"]]["ExportTime"] = moment
        found = items(history, moment)
        fields = {"exportTime": ie.iso(moment), "outputView": "NEW_IMAGE", "exportType": "FULL_EXPORT"}
        objects = ie.layout(desc, desc.get("TableId", ""), found, fields)
        ie.publish(s3, desc, objects, found)
        return json_response(doc)

    export._localaws_full = True
    ddb._export_table_to_point_in_time = export

"""DynamoDB incremental export to S3: the items changed in a window, with their state at both ends.

AWS's ``ExportTableToPointInTime`` with ``ExportType: INCREMENTAL_EXPORT`` and an
``IncrementalExportSpecification`` (``ExportFromTime`` inclusive, ``ExportToTime`` exclusive,
``ExportViewType`` ``NEW_AND_OLD_IMAGES`` by default or ``NEW_IMAGE``) writes, for every item
written in the window, one line: ``Metadata.WriteTimestampMicros`` (its last write in the
window), ``Keys``, ``NewImage`` (its state at the window's end; absent when it was deleted)
and, with ``NEW_AND_OLD_IMAGES``, ``OldImage`` (its state at the window's start; absent when
it did not exist). An item created and deleted within the window gives no line. The layout:

    <prefix>/AWSDynamoDB/<ExportId>/_started
    <prefix>/AWSDynamoDB/<ExportId>/manifest-summary.json   (exportType, exportFromTime, ...)
    <prefix>/AWSDynamoDB/<ExportId>/manifest-files.json     (JSON lines: dataFileS3Key, itemCount, md5Checksum)
    <prefix>/AWSDynamoDB/data/<file>.json.gz                (incremental exports share this folder)

The rules: PITR on (``PointInTimeRecoveryUnavailableException``); a window of 15 minutes to
24 hours (``ValidationException``); both ends within the point-in-time recovery window, the
end not in the future (``InvalidExportTimeException``). The caller also needs
``s3:PutObject`` on the objects it writes (and, with SSE-KMS, ``kms:GenerateDataKey`` on the
key): AWS writes the export with the caller's permissions.

ministack accepts the request, writes nothing to S3 and reports the table's whole item count.
This patch computes the lines from the point-in-time history that ``pitr_history`` keeps,
writes the objects through ministack's own S3 (the bucket's default encryption applies) and
reports the export's own item count. Full exports and the ION format stay ministack's
(``docs/emulator.md``, known differences).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import time
import uuid
from typing import Any

from localaws.compat.iam_request import Check, Request, Rule, register

_HISTORY_KEY = "_localaws_pitr_history"  # kept by localaws.compat.pitr_history
_PERIOD_KEY = "_localaws_pitr_recovery_period_in_days"  # kept by localaws.compat.pitr
MIN_WINDOW = 15 * 60.0
MAX_WINDOW = 24 * 3600.0
DAY = 86400.0
LINES_PER_FILE = 10000  # AWS writes at least one file per partition; here a file per this many lines
VIEWS = ("NEW_AND_OLD_IMAGES", "NEW_IMAGE")
_RESULTS: dict[str, dict[str, Any]] = {}  # export ARN -> item count and size, for DescribeExport


class ExportError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def check_window(spec: dict[str, Any], earliest: float, now: float) -> tuple[float, float, str]:
    """(from, to, view) of an incremental export, or ExportError as AWS answers it."""
    view = spec.get("ExportViewType") or "NEW_AND_OLD_IMAGES"
    if view not in VIEWS:
        raise ExportError("ValidationException", f"Invalid ExportViewType: {view}. Valid values: {', '.join(VIEWS)}")
    if spec.get("ExportFromTime") is None:
        raise ExportError("ValidationException", "ExportFromTime is required for an incremental export")
    start = float(spec["ExportFromTime"])
    end = float(spec["ExportToTime"]) if spec.get("ExportToTime") is not None else now
    if end > now:
        raise ExportError("InvalidExportTimeException", "ExportToTime cannot be in the future")
    if end <= start:
        raise ExportError("ValidationException", "ExportFromTime must be before ExportToTime")
    if not MIN_WINDOW <= end - start <= MAX_WINDOW:
        raise ExportError(
            "ValidationException", "The incremental export period must be between 15 minutes and 24 hours"
        )
    if start < earliest:
        raise ExportError(
            "InvalidExportTimeException",
            f"ExportFromTime is before the earliest point-in-time recovery time of the table ({earliest:.3f})",
        )
    return start, end, view


def changes(history: dict[str, Any], start: float, end: float) -> dict[tuple, tuple[float, Any, Any]]:
    """Per item written in [start, end): (last write time, state at start, state at end)."""
    window: dict[tuple, list[Any]] = {}
    for at, pk, sk, item in history["log"]:
        if start <= at < end:
            entry = window.setdefault((json.dumps(pk, sort_keys=True), json.dumps(sk, sort_keys=True)), [at, None])
            entry[0], entry[1] = at, item
    if not window:
        return {}
    before: dict[tuple, Any] = {}
    if history["base_at"] <= start:
        for pk, by_sort in history["base"].items():
            for sk, item in by_sort.items():
                ident = (json.dumps(pk, sort_keys=True), json.dumps(sk, sort_keys=True))
                if ident in window:
                    before[ident] = item
    for at, pk, sk, item in history["log"]:
        if at >= start:
            break
        ident = (json.dumps(pk, sort_keys=True), json.dumps(sk, sort_keys=True))
        if ident in window:
            before[ident] = item
    return {ident: (at, before.get(ident), new) for ident, (at, new) in window.items()}


def lines(found: dict[tuple, tuple[float, Any, Any]], key_names: list[str], view: str) -> list[dict[str, Any]]:
    """The export's lines: items created and deleted within the window give none."""
    out = []
    for at, old, new in found.values():
        if old is None and new is None:
            continue
        image = new if new is not None else old
        line: dict[str, Any] = {
            "Metadata": {"WriteTimestampMicros": {"N": str(int(at * 1_000_000))}},
            "Keys": {name: image[name] for name in key_names if name in image},
        }
        if new is not None:
            line["NewImage"] = new
        if old is not None and view == "NEW_AND_OLD_IMAGES":
            line["OldImage"] = old
        out.append(line)
    return out


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def layout(
    desc: dict[str, Any], table_id: str, found_lines: list[dict[str, Any]], fields: dict[str, Any]
) -> dict[str, bytes]:
    """The export's objects, key -> body, as AWS lays them out; ``fields``: the summary's
    members of this type of export (its times, ``exportType``, ``outputView``)."""
    export_id = desc["ExportArn"].rsplit("/", 1)[-1]
    prefix = (desc.get("S3Prefix") or "").rstrip("/")
    root = f"{prefix}/AWSDynamoDB" if prefix else "AWSDynamoDB"
    objects: dict[str, bytes] = {f"{root}/{export_id}/_started": b""}
    manifest_lines = []
    size = 0
    for first in range(0, max(len(found_lines), 1), LINES_PER_FILE):
        chunk = found_lines[first : first + LINES_PER_FILE]
        text = "".join(json.dumps(line) + "\n" for line in chunk).encode()
        size += len(text)
        body = gzip.compress(text, mtime=0)
        name = base64.b32encode(uuid.uuid4().bytes).decode().lower().rstrip("=")
        key = f"{root}/data/{name}.json.gz"
        objects[key] = body
        manifest_lines.append(
            {
                "itemCount": len(chunk),
                "md5Checksum": base64.b64encode(hashlib.md5(body).digest()).decode(),  # noqa: S324 (AWS's field)
                "etag": hashlib.md5(body).hexdigest(),  # noqa: S324
                "dataFileS3Key": key,
            }
        )
    files_key = f"{root}/{export_id}/manifest-files.json"
    objects[files_key] = "".join(json.dumps(m) + "\n" for m in manifest_lines).encode()
    summary = {
        "version": "2023-08-01",
        "exportArn": desc["ExportArn"],
        "startTime": iso(desc["StartTime"]),
        "endTime": iso(time.time()),
        "tableArn": desc["TableArn"],
        "tableId": table_id,
        "s3Bucket": desc["S3Bucket"],
        "s3Prefix": desc.get("S3Prefix"),
        "s3SseAlgorithm": desc.get("S3SseAlgorithm", "AES256"),
        "s3SseKmsKeyId": desc.get("S3SseKmsKeyId"),
        "manifestFilesS3Key": files_key,
        "billedSizeBytes": size,
        "itemCount": len(found_lines),
        "outputFormat": "DYNAMODB_JSON",
        **fields,
    }
    objects[f"{root}/{export_id}/manifest-summary.json"] = json.dumps(summary).encode()
    return objects


def publish(s3: Any, desc: dict[str, Any], objects: dict[str, bytes], found: list[dict[str, Any]]) -> None:
    """Writes the export's objects through ministack's S3 (with the export's SSE-KMS key) and
    keeps what DescribeExport reports of it once COMPLETED (a failed write fails it)."""
    headers = {}
    if desc.get("S3SseKmsKeyId"):
        headers = {
            "x-amz-server-side-encryption": "aws:kms",
            "x-amz-server-side-encryption-aws-kms-key-id": desc["S3SseKmsKeyId"],
        }
    result: dict[str, Any] = {"ItemCount": len(found), "BilledSizeBytes": sum(len(json.dumps(x)) for x in found)}
    for key, body in objects.items():
        status = s3._put_object(desc["S3Bucket"], key, body, dict(headers))[0]
        if status >= 300:
            result = {
                "FailureCode": "S3PutObjectFailed",
                "FailureMessage": f"could not write s3://{desc['S3Bucket']}/{key}",
            }
            break
    root = f"{desc['S3Prefix'].rstrip('/')}/AWSDynamoDB" if desc.get("S3Prefix") else "AWSDynamoDB"
    result["ExportManifest"] = f"{root}/{desc['ExportArn'].rsplit('/', 1)[-1]}/manifest-summary.json"
    _RESULTS[desc["ExportArn"]] = result


def source(ddb: Any, data: dict[str, Any]) -> Any:
    """What an export written from the point-in-time history starts from: (table, history, None),
    or (table, None, AWS's refusal) when the table has no point-in-time recovery; None when
    ministack answers itself (the same request again, a table not found). Both export types use it."""
    from ministack.core.responses import error_response_json

    token = data.get("ClientToken")
    if token and any(d.get("ClientToken") == token for d in ddb._exports.values()):
        return None  # the same request again: the same export, nothing rewritten
    name = ddb._table_name_from_arn(data.get("TableArn") or "")
    table = ddb._tables.get(name) if name else None
    if table is None:
        return None  # ministack's own "not found" answer
    history = table.get(_HISTORY_KEY)
    if history is None:
        message = f"Point in time recovery is not enabled for table '{name}'"
        return table, None, error_response_json("PointInTimeRecoveryUnavailableException", message, 400)
    return table, history, None


def _resolve(request: Request, action: str) -> Rule | None:
    """AWS writes an export with the caller's rights: s3:PutObject on what it writes, and
    kms:GenerateDataKey on the key it encrypts with."""
    if action != "dynamodb:ExportTableToPointInTime":
        return None
    doc = request.json()
    bucket, table = doc.get("S3Bucket"), doc.get("TableArn")
    if not isinstance(bucket, str) or not isinstance(table, str):
        return None
    prefix = (doc.get("S3Prefix") or "").rstrip("/")
    checks = [Check("s3:PutObject", f"arn:aws:s3:::{bucket}/{prefix + '/' if prefix else ''}AWSDynamoDB/*")]
    key = doc.get("S3SseKmsKeyId")
    if isinstance(key, str) and key:
        arn = key if key.startswith("arn:") else request.arn("kms", f"key/{key}")
        # S3 asks KMS on the caller's behalf: the key's use carries kms:ViaService.
        checks.append(Check("kms:GenerateDataKey", arn, {"kms:viaservice": f"s3.{request.region}.amazonaws.com"}))
    return Rule(table, checks=checks)


def install() -> None:
    from ministack.core.responses import error_response_json, json_response
    from ministack.services import dynamodb as ddb
    from ministack.services import s3

    register(_resolve)
    if getattr(ddb._export_table_to_point_in_time, "_localaws_incremental", False):
        return
    original_export, original_describe = ddb._export_table_to_point_in_time, ddb._describe_export

    def export(data: dict[str, Any]):
        if (data.get("ExportType") or "FULL_EXPORT") != "INCREMENTAL_EXPORT":
            return original_export(data)
        if (data.get("ExportFormat") or "DYNAMODB_JSON") != "DYNAMODB_JSON":
            return original_export(data)
        found = source(ddb, data)
        if found is None:
            return original_export(data)
        table, history, refusal = found
        if refusal is not None:
            return refusal
        if data.get("ExportTime") is not None:
            return error_response_json(
                "ValidationException", "ExportTime cannot be used with an incremental export", 400
            )
        now = time.time()
        earliest = max(history["enabled_at"], now - table.get(_PERIOD_KEY, 35) * DAY)
        try:
            start, end, view = check_window(data.get("IncrementalExportSpecification") or {}, earliest, now)
        except ExportError as exc:
            return error_response_json(exc.code, exc.message, 400)
        response = original_export(data)
        if response[0] != 200:
            return response
        doc = json.loads(response[2])
        desc = doc["ExportDescription"]
        desc["IncrementalExportSpecification"] = {"ExportFromTime": start, "ExportToTime": end, "ExportViewType": view}
        key_names = [k["AttributeName"] for k in table.get("KeySchema", [])]
        found = lines(changes(history, start, end), key_names, view)
        fields = {
            "exportFromTime": iso(start),
            "exportToTime": iso(end),
            "outputView": view,
            "exportType": "INCREMENTAL_EXPORT",
        }
        publish(s3, desc, layout(desc, desc.get("TableId", ""), found, fields), found)
        ddb._exports[desc["ExportArn"]]["IncrementalExportSpecification"] = desc["IncrementalExportSpecification"]
        return json_response(doc)

    def describe(data: dict[str, Any]):
        response = original_describe(data)
        result = _RESULTS.get(data.get("ExportArn") or "")
        if response[0] != 200 or result is None:
            return response
        doc = json.loads(response[2])
        desc = doc["ExportDescription"]
        if desc.get("ExportStatus") == "COMPLETED":
            if "FailureCode" in result:
                desc["ExportStatus"] = "FAILED"
                desc.pop("ItemCount", None)
            desc.update(result)
        return json_response(doc)

    export._localaws_incremental = True
    ddb._export_table_to_point_in_time = export
    ddb._describe_export = describe

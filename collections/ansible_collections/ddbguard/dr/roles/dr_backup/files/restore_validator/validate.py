"""One restore test validated: the restored table's content against its source's at the
recovery point's time.

The reference is a full export of the source table at the recovery point's creation time
(``ExportTableToPointInTime`` with ``ExportTime``: the table's point-in-time recovery
gives what it held then), read from S3; the restored table is read with a parallel Scan.
Both give a ``Digest`` (item count and an order-free content digest, ``digest.py``); the
validation is SUCCESSFUL when they are equal, FAILED otherwise or when there is no
reference, and the result is sent with ``PutRestoreValidationResult``.

The work is resumable: ``step`` does what fits before ``deadline`` and returns the state
to carry on from (the handler hands it to its next invocation), so a table of any size is
validated by as many invocations as its reading needs, one page in memory at a time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from restore_validator.digest import Digest, export_items, from_json_key, gzip_lines, to_json_key

SUCCESSFUL, FAILED, VALIDATING = "SUCCESSFUL", "FAILED", "VALIDATING"


@dataclass(frozen=True)
class Settings:
    plan_arns: frozenset[str]
    export_bucket: str
    export_key_arn: str
    segments: int = 4
    page_size: int = 1000
    poll_seconds: float = 10.0


@dataclass
class Clients:
    backup: Any
    dynamodb: Any
    s3: Any


class Ignored(Exception):
    """A restore job this function does not validate (said in its log line, never validated)."""


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


def begin(job_id: str, clients: Clients, settings: Settings) -> dict[str, Any]:
    """The state of a new validation: the job read back and checked, the reference export started."""
    job = clients.backup.describe_restore_job(RestoreJobId=job_id)
    plan = (job.get("CreatedBy") or {}).get("RestoreTestingPlanArn", "")
    if plan not in settings.plan_arns:
        raise Ignored(f"restore job {job_id} was not started by a restore testing plan of ours ({plan or 'none'})")
    if job.get("ResourceType") != "DynamoDB":
        raise Ignored(f"restore job {job_id} restored a {job.get('ResourceType')}, not a DynamoDB table")
    if job.get("Status") != "COMPLETED":
        raise Ignored(f"restore job {job_id} is {job.get('Status')}, not COMPLETED")
    source = job.get("SourceResourceArn") or ""
    restored = job.get("CreatedResourceArn") or ""
    point_time = _epoch(job["RecoveryPointCreationDate"])
    clients.backup.put_restore_validation_result(
        RestoreJobId=job_id,
        ValidationStatus=VALIDATING,
        ValidationStatusMessage=f"comparing {restored.rsplit('/', 1)[-1]} with {source.rsplit('/', 1)[-1]}"
        f" at {_iso(point_time)}",
    )
    export = clients.dynamodb.export_table_to_point_in_time(
        TableArn=source,
        ExportTime=datetime.fromtimestamp(point_time, UTC),
        S3Bucket=settings.export_bucket,
        S3Prefix=f"restore-tests/{job_id}",
        S3SseAlgorithm="KMS",
        S3SseKmsKeyId=settings.export_key_arn,
        ExportFormat="DYNAMODB_JSON",
        ExportType="FULL_EXPORT",
        ClientToken=job_id[:64],
    )["ExportDescription"]
    return {
        "restore_job_id": job_id,
        "source_table_arn": source,
        "restored_table": restored.split("/")[-1],
        "point_time": point_time,
        "export_arn": export["ExportArn"],
        "segments": {str(s): {"digest": None, "next": None, "done": False} for s in range(settings.segments)},
        "reference": None,
    }


def _scan_segment(clients: Clients, settings: Settings, table: str, segment: int, mine: dict, deadline: float) -> dict:
    digest = Digest.of(mine["digest"])
    start = from_json_key(mine["next"])
    while True:  # one page at least, so that every invocation moves on
        request = {
            "TableName": table,
            "Segment": segment,
            "TotalSegments": settings.segments,
            "Limit": settings.page_size,
            "ConsistentRead": True,
        }
        if start:
            request["ExclusiveStartKey"] = start
        page = clients.dynamodb.scan(**request)
        digest.add_all(page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return {"digest": digest.state(), "next": None, "done": True}
        if time.time() >= deadline:
            return {"digest": digest.state(), "next": to_json_key(start), "done": False}


def read_restored(state: dict, clients: Clients, settings: Settings, deadline: float) -> None:
    """The restored table's segments, in parallel, each until it ends or the deadline comes."""
    open_segments = [s for s, mine in state["segments"].items() if not mine["done"]]
    if not open_segments:
        return
    with ThreadPoolExecutor(max_workers=len(open_segments)) as pool:
        done = pool.map(
            lambda s: (
                s,
                _scan_segment(clients, settings, state["restored_table"], int(s), state["segments"][s], deadline),
            ),
            open_segments,
        )
        for segment, mine in list(done):
            state["segments"][segment] = mine


def _export_files(clients: Clients, bucket: str, manifest_key: str) -> list[str]:
    body = clients.s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read().decode()
    return [json.loads(line)["dataFileS3Key"] for line in body.splitlines() if line.strip()]


def reference_ready(state: dict, clients: Clients, settings: Settings, deadline: float) -> str:
    """COMPLETED once the export is there (its data files listed in the state), else its status."""
    if state["reference"] is not None:
        return "COMPLETED"
    while True:
        export = clients.dynamodb.describe_export(ExportArn=state["export_arn"])["ExportDescription"]
        status = export["ExportStatus"]
        if status == "COMPLETED":
            manifest = export["ExportManifest"]  # manifest-summary.json; the files' list is beside it
            files_key = manifest.rsplit("/", 1)[0] + "/manifest-files.json"
            state["reference"] = {
                "files": _export_files(clients, export["S3Bucket"], files_key),
                "bucket": export["S3Bucket"],
                "file": 0,
                "line": 0,
                "digest": None,
            }
            return status
        if status != "IN_PROGRESS":
            state["reference_failure"] = f"{status}: {export.get('FailureCode', '')} {export.get('FailureMessage', '')}"
            return status
        if time.time() + settings.poll_seconds >= deadline:
            return status
        time.sleep(settings.poll_seconds)


def read_reference(state: dict, clients: Clients, deadline: float) -> bool:
    """The export's items, file by file; True once every file is read."""
    ref = state["reference"]
    digest = Digest.of(ref["digest"])
    while ref["file"] < len(ref["files"]):
        body = clients.s3.get_object(Bucket=ref["bucket"], Key=ref["files"][ref["file"]])["Body"]
        for number, item in enumerate(export_items(gzip_lines(body))):
            if number < ref["line"]:
                continue
            digest.add(item)
            ref["line"] = number + 1
            if ref["line"] % 1000 == 0 and time.time() >= deadline:
                ref["digest"] = digest.state()
                return False
        ref["file"], ref["line"] = ref["file"] + 1, 0
    ref["digest"] = digest.state()
    return True


def verdict(state: dict) -> tuple[str, str]:
    """SUCCESSFUL or FAILED, and the message AWS keeps with it."""
    when = _iso(state["point_time"])
    source = state["source_table_arn"].split("/")[-1]
    if state.get("reference_failure"):
        return FAILED, f"no reference: the export of {source} at {when} ended {state['reference_failure']}"[:1000]
    restored = Digest()
    for mine in state["segments"].values():
        restored.merge(Digest.of(mine["digest"]))
    reference = Digest.of(state["reference"]["digest"])
    if restored == reference:
        return SUCCESSFUL, f"{restored.count} items, content digest {restored.hex()[:16]} equal to {source}'s at {when}"
    return FAILED, (
        f"restored {restored.count} items, digest {restored.hex()[:16]}; "
        f"{source} held {reference.count} items at {when}, digest {reference.hex()[:16]}"
    )


def step(state: dict, clients: Clients, settings: Settings, deadline: float) -> tuple[str, str] | None:
    """As much of the validation as fits before ``deadline``: its verdict, or None to carry on."""
    read_restored(state, clients, settings, deadline)
    if not all(mine["done"] for mine in state["segments"].values()):
        return None
    status = reference_ready(state, clients, settings, deadline)
    if status == "IN_PROGRESS":
        return None
    if status == "COMPLETED" and not read_reference(state, clients, deadline):
        return None
    return verdict(state)


def report(job_id: str, outcome: tuple[str, str], clients: Clients) -> None:
    status, message = outcome
    clients.backup.put_restore_validation_result(
        RestoreJobId=job_id, ValidationStatus=status, ValidationStatusMessage=message
    )


Remaining = Callable[[], float]

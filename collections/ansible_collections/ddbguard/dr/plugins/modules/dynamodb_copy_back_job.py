#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dynamodb_copy_back_job
version_added: 0.3.0
short_description: Copy back every item that differs, as a distributed job in the account (Step Functions)
description:
  - The full difference of M(ddbguard.dr.dynamodb_copy_back) at any table size. Starts the
    live table's copy-back state machine (made by the role C(ddbguard.dr.dr_monitor)); a Distributed
    Map runs one child execution per Scan segment of O(source_table); each invokes the
    table's change monitor (operation C(copy-back-segment)) page by page, which compares
    the page with the live items (C(BatchGetItem)) and writes the differences back
    conditionally, through its marker. This module holds no item; it starts the job,
    follows it, and reads the segments' records in the monitor's audit table.
  - A job is named by its inputs (O(job_id) overrides); running the module again with the
    same inputs follows the running execution, reports a finished one, or, after a failed
    or stopped one, starts the next attempt, in which finished segments answer at once
    and an unfinished one resumes after its last recorded page. No item is written twice;
    each write is conditional on the live item the page read.
  - With O(plan), the job compares and counts, and writes nothing to the live table. In
    check mode nothing is started; the job's recorded state is reported.
  - Fills a gap, since no amazon.aws or community.aws module starts and follows a Step
    Functions execution or reads DynamoDB items.
author:
  - ddbguard maintainers (@ddbguard)
options:
  source_table:
    description: The restored table to copy from; its name must start with O(target_table)C(-restore-).
    type: str
    required: true
  target_table:
    description: The live table.
    type: str
    required: true
  state_machine_arn:
    description: ARN of the live table's copy-back state machine (C(<monitor function>-copy-back)).
    type: str
    required: true
  audit_table:
    description: The monitor's audit table, where the segments keep their records.
    type: str
    required: true
  segments:
    description: Scan segments (C(TotalSegments)) the restored table is split into, 1-1000.
    type: int
    default: 8
  page_size:
    description:
      - Items one page of a segment reads and compares, 1-1000 (a Scan page also ends at 1 MB).
      - A page is one Scan, one BatchGetItem per 100 of its keys and one update of the segment's record.
    type: int
    default: 1000
  delete_missing:
    description: Also scan the live table in as many segments and delete the live items O(source_table) lacks.
    type: bool
    default: false
  exclude_key_prefixes:
    description: Items whose partition key is a string starting with one of these are never written.
    type: list
    elements: str
    default: ["ddbguard-canary#"]
  ignore_attributes:
    description: Attributes left out of the comparison and of the copied images (the monitor's marker).
    type: list
    elements: str
    default: [_ddbguard_undo]
  plan:
    description: Compare and count only; nothing is written to the live table.
    type: bool
    default: false
  job_id:
    description: The job's name; empty derives it from the inputs, so a re-run resumes the same job.
    type: str
    default: ""
  resume:
    description:
      - After a failed, stopped or timed-out execution of the job, start its next attempt. False
        only follows and reports (a follow-up call must not restart a job the operator has not seen fail).
    type: bool
    default: true
  wait_seconds:
    description: Follow the job at most this long, then return with RV(finished) false; 0 follows it to its end.
    type: int
    default: 0
  poll_seconds:
    description: Seconds between two looks at the job.
    type: int
    default: 5
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Copy back every item that differs, in 16 segments, following the job for a minute
  ddbguard.dr.dynamodb_copy_back_job:
    source_table: orders-restore-20261205T101500Z
    target_table: orders
    state_machine_arn: arn:aws:states:eu-west-1:123456789012:stateMachine:orders-change-monitor-copy-back
    audit_table: orders-ddbguard-audit
    segments: 16
    wait_seconds: 60
  register: job
"""

RETURN = r"""
job_id:
  description: The job's name; its executions are named C(<job_id>-<attempt>).
  returned: always
  type: str
execution_arn:
  description: The execution followed (empty in check mode before any run).
  returned: always
  type: str
status:
  description: "The execution's status: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, or NOT_STARTED (check mode)."
  returned: always
  type: str
finished:
  description: Every segment is done and the execution succeeded.
  returned: always
  type: bool
error:
  description: The failed execution's error and cause; empty otherwise.
  returned: always
  type: str
attempt:
  description: The attempt followed (1 for the first execution of the job).
  returned: always
  type: int
counts:
  description: "Totals of the segments' records: compared, copied, deleted, unchanged, superseded, excluded, planned."
  returned: always
  type: dict
segments:
  description: One entry per segment (side, segment, done, pages, counts).
  returned: always
  type: list
  elements: dict
superseded:
  description: Every key whose write a newer write won, in DynamoDB JSON.
  returned: always
  type: list
  elements: dict
progress:
  description:
    - segments_done, segments_total, items_compared, items_expected (from DescribeTable's
      item count, which AWS updates about every six hours), items_per_second, seconds_left
      (null until something was compared), elapsed_seconds.
  returned: always
  type: dict
"""

import hashlib
import json
import time
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.ddbguard.dr.plugins.module_utils import dynamodb as ddb
from ansible_collections.ddbguard.dr.plugins.module_utils.common import table_name_problem
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardErrorHandler

COUNTS = ("compared", "copied", "deleted", "unchanged", "superseded", "excluded", "planned")
ARGUMENT_SPEC = dict(
    source_table=dict(type="str", required=True),
    target_table=dict(type="str", required=True),
    state_machine_arn=dict(type="str", required=True),
    audit_table=dict(type="str", required=True),
    segments=dict(type="int", default=8),
    page_size=dict(type="int", default=1000),
    delete_missing=dict(type="bool", default=False),
    exclude_key_prefixes=dict(type="list", elements="str", default=["ddbguard-canary#"], no_log=False),
    ignore_attributes=dict(type="list", elements="str", default=["_ddbguard_undo"]),
    plan=dict(type="bool", default=False),
    job_id=dict(type="str", default=""),
    resume=dict(type="bool", default=True),
    wait_seconds=dict(type="int", default=0),
    poll_seconds=dict(type="int", default=5),
)
SUPPORTS_CHECK_MODE = True


def validate(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters that the argument spec cannot express (empty when valid)."""
    problems = table_name_problem("source_table", params["source_table"])
    problems += table_name_problem("target_table", params["target_table"])
    problems += table_name_problem("audit_table", params["audit_table"])
    if not params["source_table"].startswith(f"{params['target_table']}-restore-"):
        problems.append(
            f"source_table must be a restore of {params['target_table']} named "
            f"{params['target_table']}-restore-*, got {params['source_table']}"
        )
    if not params["state_machine_arn"].startswith("arn:") or ":stateMachine:" not in params["state_machine_arn"]:
        problems.append(f"state_machine_arn must be a state machine's ARN, got {params['state_machine_arn']!r}")
    if not 1 <= params["segments"] <= 1000:
        problems.append(f"segments must be 1-1000, got {params['segments']}")
    if not 1 <= params["page_size"] <= 1000:
        problems.append(f"page_size must be 1-1000, got {params['page_size']}")
    if params["job_id"] and not all(c.isalnum() or c in "-_" for c in params["job_id"]) or len(params["job_id"]) > 60:
        problems.append(f"job_id must be at most 60 characters of A-Z a-z 0-9 - _, got {params['job_id']!r}")
    if params["wait_seconds"] < 0 or not 1 <= params["poll_seconds"] <= 300:
        problems.append("wait_seconds must be 0 or more and poll_seconds 1-300")
    return problems


def job_id(params: dict[str, Any]) -> str:
    """The job's name: given, or a digest of everything that decides what it writes."""
    if params["job_id"]:
        return params["job_id"]
    following = ("job_id", "resume", "wait_seconds", "poll_seconds")
    inputs = {k: params[k] for k in sorted(ARGUMENT_SPEC) if k not in following}
    return "cb-" + hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:24]


@DdbguardErrorHandler.common_error_handler("list the executions of the copy-back job")
@AWSRetry.jittered_backoff()
def _executions(sfn: Any, machine: str, job: str) -> list[dict[str, Any]]:
    found = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine):
        found += [e for e in page["executions"] if e["name"].startswith(f"{job}-")]
    return sorted(
        found, key=lambda e: int(e["name"].rsplit("-", 1)[-1]) if e["name"].rsplit("-", 1)[-1].isdigit() else 0
    )


@DdbguardErrorHandler.common_error_handler("start the copy-back job")
@AWSRetry.jittered_backoff()
def _start(sfn: Any, machine: str, name: str, payload: dict[str, Any]) -> str:
    return sfn.start_execution(stateMachineArn=machine, name=name, input=json.dumps(payload))["executionArn"]


@DdbguardErrorHandler.common_error_handler("follow the copy-back job")
@AWSRetry.jittered_backoff()
def _describe(sfn: Any, arn: str) -> dict[str, Any]:
    return sfn.describe_execution(executionArn=arn)


def _records(client: Any, table: str, pk: str, prefix: str) -> list[dict[str, Any]]:
    """The audit records under ``pk`` whose sort key starts with ``prefix``, as plain values."""
    from boto3.dynamodb.types import TypeDeserializer

    value = TypeDeserializer().deserialize
    return [{k: value(v) for k, v in item.items()} for item in ddb.query_prefix(client, table, pk, prefix)]


def _segments(params: dict[str, Any], job: str, client: Any) -> list[dict[str, Any]]:
    """Every segment of the job, with its record's counts (zero before its first page)."""
    records = {
        r["sk"]: r for r in _records(client, params["audit_table"], f"{params['target_table']}#copy-back", f"{job}#")
    }
    sides = ["restored"] + (["live"] if params["delete_missing"] else [])
    out = []
    for side in sides:
        for n in range(params["segments"]):
            record = records.get(f"{job}#{side}#{n:07d}", {})
            out.append(
                {
                    "side": side,
                    "segment": n,
                    "done": bool(record.get("done")),
                    "pages": int(record.get("pages", 0)),
                    "counts": {c: int(record.get(c, 0)) for c in COUNTS},
                }
            )
    return out


def _progress(segments: list[dict[str, Any]], expected: int, elapsed: float) -> dict[str, Any]:
    compared = sum(s["counts"]["compared"] for s in segments)
    rate = compared / elapsed if elapsed > 0 else 0.0
    left = max(expected - compared, 0)
    return {
        "segments_done": sum(1 for s in segments if s["done"]),
        "segments_total": len(segments),
        "items_compared": compared,
        "items_expected": expected,
        "items_per_second": round(rate, 1),
        "seconds_left": round(left / rate, 1) if rate > 0 else None,
        "elapsed_seconds": round(elapsed, 1),
    }


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    client, sfn = module.client("dynamodb"), module.client("stepfunctions")
    source, target = ddb.describe_pair(client, params["source_table"], params["target_table"])
    names = [k["AttributeName"] for k in sorted(source["KeySchema"], key=lambda k: k["KeyType"] != "HASH")]
    job = job_id(params)
    expected = int(source.get("ItemCount", 0)) + (int(target.get("ItemCount", 0)) if params["delete_missing"] else 0)
    runs = _executions(sfn, params["state_machine_arn"], job)
    latest = runs[-1] if runs else None
    attempt = int(latest["name"].rsplit("-", 1)[-1]) if latest else 0
    started = False
    if latest is None or (params["resume"] and latest["status"] in ("FAILED", "TIMED_OUT", "ABORTED")):
        if module.check_mode:
            segments = _segments(params, job, client)
            return _result(job, "", "NOT_STARTED", "", attempt, segments, [], _progress(segments, expected, 0), False)
        attempt += 1
        payload = {
            "job": {
                "id": job,
                "source_table": params["source_table"],
                "total_segments": params["segments"],
                "key_names": names,
                "delete_missing": params["delete_missing"],
                "exclude_key_prefixes": params["exclude_key_prefixes"],
                "ignore_attributes": params["ignore_attributes"],
                "plan": params["plan"],
                "page_size": params["page_size"],
            },
            "segments": [
                {"side": side, "segment": n}
                for side in ["restored"] + (["live"] if params["delete_missing"] else [])
                for n in range(params["segments"])
            ],
        }
        arn, started = _start(sfn, params["state_machine_arn"], f"{job}-{attempt}", payload), True
    else:
        arn = latest["executionArn"]
    deadline = time.monotonic() + params["wait_seconds"] if params["wait_seconds"] else None
    while True:
        execution = _describe(sfn, arn)
        if execution["status"] != "RUNNING" or (deadline is not None and time.monotonic() >= deadline):
            break
        time.sleep(params["poll_seconds"])
    segments = _segments(params, job, client)
    stop = execution.get("stopDate") or time.time()
    stop = stop.timestamp() if hasattr(stop, "timestamp") else float(stop)
    begin = execution["startDate"]
    elapsed = stop - (begin.timestamp() if hasattr(begin, "timestamp") else float(begin))
    error = " ".join(filter(None, [execution.get("error", ""), execution.get("cause", "")]))
    superseded = [
        json.loads(r["key"])
        for r in _records(client, params["audit_table"], f"{params['target_table']}#copy-back-superseded", f"{job}#")
    ]
    return _result(
        job,
        arn,
        execution["status"],
        error,
        attempt,
        segments,
        superseded,
        _progress(segments, expected, elapsed),
        started,
    )


def _result(job, arn, status, error, attempt, segments, superseded, progress, started) -> dict[str, Any]:
    counts = {c: sum(s["counts"][c] for s in segments) for c in COUNTS}
    finished = status == "SUCCEEDED" and all(s["done"] for s in segments)
    return dict(
        changed=started,
        job_id=job,
        execution_arn=arn,
        status=status,
        finished=finished,
        error=error,
        attempt=attempt,
        counts=counts,
        segments=segments,
        superseded=superseded,
        progress=progress,
    )


def main() -> None:
    run_module(run, validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

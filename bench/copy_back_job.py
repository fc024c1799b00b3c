"""The full difference as a distributed job in the account (``dr_restore_distributed``),
against the same plain boto3 floor as ``copy_back.py``, on the same data in the same run.

On a fresh local AWS: ``site.yml`` provisions a live table (its monitor protects deletes,
its copy-back state machine runs 8 segments at once); the table and a restored table
``<table>-restore-bench`` are filled with the same N items of about 1 KB, then 1 % of the
live items are modified by the writer. ``ddbguard.dr.dynamodb_copy_back_job`` (as the
operator, 8 segments) puts them back through the monitor; the live table is damaged again
the same way; then ``copy_back.floor`` does the same work in one process (8-segment
``Scan`` + ``BatchGetItem`` + conditional ``PutItem``, writing directly). Measured: items
compared per second (the module's wall time, Ansible's start included; and the execution's
own, from its start to its stop in the account, which leaves out the controller's start and
its polling), the controller
module's peak memory at N and at N/10, whether every damaged item is back exactly, and who
spent the CPU (from ``/proc``: the local AWS's server process, its Lambda workers, and for
the floor the bench's own process) on a machine whose 2 cores all of them share. A worker's
memory (the monitor's invocations run as subprocesses of the local AWS) is not measured here. ``BENCH_COPY_BACK_ITEMS`` overrides N (default 100,000).
"""

from __future__ import annotations

import os
import resource
import time

import common
import copy_back

ITEMS = int(os.environ.get("BENCH_COPY_BACK_ITEMS", "100000"))
SEGMENTS = 8
ACCOUNT_REGION = "us-east-1:000000000000"


def job(target, n: int, live: str, damaged: list[int]) -> dict:
    options = {
        "source_table": f"{live}-restore-bench",
        "target_table": live,
        "state_machine_arn": f"arn:aws:states:{ACCOUNT_REGION}:stateMachine:{live}-change-monitor-copy-back",
        "audit_table": f"{live}-ddbguard-audit",
        "segments": SEGMENTS,
        "exclude_key_prefixes": [],
        "poll_seconds": 1,
    }
    before = common.cpu_seconds(target)
    result, rss_mb, seconds = common.run_module(target, "dynamodb_copy_back_job", options, principal="operator")
    after = common.cpu_seconds(target)
    execution = common.client(target, "stepfunctions").describe_execution(executionArn=result["execution_arn"])
    return {
        "cpu_seconds": {side: round(after[side] - before[side], 1) for side in after},
        "in_account_seconds": round((execution["stopDate"] - execution["startDate"]).total_seconds(), 3),
        "items": n,
        "seconds": round(seconds, 3),
        "compared": result["counts"]["compared"],
        "written": result["counts"]["copied"],
        "status": result["status"],
        "peak_rss_mb": round(rss_mb, 1),
        "exact": copy_back.exact(common.client(target, "dynamodb"), damaged, live),
    }


def tables(target, n: int, live: str) -> list[int]:
    """The live table (site.yml) and its restore, ``n`` items each, the live one damaged."""
    common.provision(target, live, dr_monitor_copy_back_concurrency=SEGMENTS)
    root = common.client(target, "dynamodb")
    common.create_table(root, f"{live}-restore-bench")
    for table in (f"{live}-restore-bench", live):
        common.write_all(root, table, [{"PutRequest": {"Item": copy_back.item(i, 1)}} for i in range(n)])
    damaged = list(range(0, n, int(1 / copy_back.DAMAGE)))
    copy_back.damage(target, damaged, live)
    return damaged


def run() -> dict:
    with common.local_aws(periodic_saves=False) as target:
        small_damaged = tables(target, ITEMS // 10, "bench-job-small")
        small = job(target, ITEMS // 10, "bench-job-small", small_damaged)
        damaged = tables(target, ITEMS, "bench-job")
        distributed = job(target, ITEMS, "bench-job", damaged)
        copy_back.damage(target, damaged, "bench-job")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        cpu, own = common.cpu_seconds(target), time.process_time()
        plain = copy_back.floor(common.client(target, "dynamodb", who="tester"), "bench-job-restore-bench", "bench-job")
        plain["cpu_seconds"] = {"server": round(common.cpu_seconds(target)["server"] - cpu["server"], 1)}
        plain["cpu_seconds"]["bench"] = round(time.process_time() - own, 1)
        plain["exact"] = copy_back.exact(common.client(target, "dynamodb"), damaged, "bench-job")
        plain["process_peak_rss_mb"] = round(max(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024, 1)
        return {"items": ITEMS, "damaged": len(damaged), "job": distributed, "floor": plain, "job_small": small}


def markdown(result: dict) -> str:
    dist, plain, small = result["job"], result["floor"], result["job_small"]
    memory = dist["peak_rss_mb"] / small["peak_rss_mb"] if small["peak_rss_mb"] else float("nan")
    rate = {name: r["compared"] / r["seconds"] for name, r in (("job", dist), ("floor", plain))}
    ratio = rate["job"] / rate["floor"]
    in_account = dist["compared"] / dist["in_account_seconds"] / rate["floor"]
    lines = [
        "## Full difference as a distributed job (Step Functions) against the floor",
        "",
        __doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
        "",
        f"{result['items']:,} items, {result['damaged']:,} damaged.",
        "",
        "| Run | Seconds | Items compared / s | Written | Back exactly | Controller peak memory (MB) "
        "| CPU s: server / workers or bench |",
        "|---|---|---|---|---|---|---|",
        f"| `dynamodb_copy_back_job` ({SEGMENTS} segments, {dist['status']}) | {dist['seconds']:.1f} "
        f"| {rate['job']:,.0f} | {dist['written']:,} | {dist['exact']:,} | {dist['peak_rss_mb']:.1f} "
        f"| {dist['cpu_seconds']['server']:.1f} / {dist['cpu_seconds']['workers']:.1f} |",
        f"| (read with it) the same execution, start to stop in the account | {dist['in_account_seconds']:.1f} "
        f"| {dist['compared'] / dist['in_account_seconds']:,.0f} | | | | |",
        f"| floor (8-segment Scan + BatchGetItem + conditional PutItem) | {plain['seconds']:.1f} | {rate['floor']:,.0f} "
        f"| {plain['written']:,} | {plain['exact']:,} | {plain['process_peak_rss_mb']:.1f} (the bench's process) "
        f"| {plain['cpu_seconds']['server']:.1f} / {plain['cpu_seconds']['bench']:.1f} |",
        f"| `dynamodb_copy_back_job` on {small['items']:,} items (for its memory) | {small['seconds']:.1f} "
        f"| {small['compared'] / small['seconds']:,.0f} | {small['written']:,} | {small['exact']:,} "
        f"| {small['peak_rss_mb']:.1f} | {small['cpu_seconds']['server']:.1f} / {small['cpu_seconds']['workers']:.1f} |",
        "",
        "| Goal | Measured | Holds |",
        "|---|---|---|",
        f"| at least 0.8× the floor's items/s | {ratio:.2f}× | {'yes' if ratio >= 0.8 else '**no**'} |",
        f"| (read with it) the execution in the account against the floor | {in_account:.2f}× "
        f"| {'yes' if in_account >= 0.8 else '**no**'} |",
        f"| the controller's memory bounded: within 20 % from {small['items']:,} to {result['items']:,} items "
        f"| {memory:.2f}× | {'yes' if memory <= 1.2 else '**no**'} |",
    ]
    return "\n".join(lines) + "\n"

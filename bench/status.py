"""`make status` for 1 and 10 protected tables (goal: under 5 s for 10 tables).

For each count: a fresh local AWS, site.yml for that many tables, the plan's first run
(so that every table has its copy in the DR region), then `tools/status.py --json` three
times against an inventory that lists those tables; every run must find each table
protected. Beside it, the floor measured in the same run: one plain Python process that
imports boto3 and makes one DescribeTable per table, one after the other (what any
status line costs at the least).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
import site_runtime

RUNS = 3
FLOOR = """
import sys, boto3
from localaws import principals
from pathlib import Path
target_dir, endpoint, names = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]
ddb = principals.client(target_dir, endpoint, "auditor", "dynamodb")
for name in names:
    ddb.describe_table(TableName=name)
"""


def _inventory(tables: list[dict]) -> Path:
    """An inventory of the local AWS that lists exactly these tables."""
    root = Path(tempfile.mkdtemp(prefix="ddbguard-status-inventory-"))
    (root / "group_vars" / "all").mkdir(parents=True)
    (root / "hosts.yml").write_text("all:\n  hosts:\n    localhost:\n")
    doc = {
        "ddbguard_target": "local",
        "ddbguard_aws": {"region": "us-east-1"},
        "ddbguard_tables": tables,
        "dr_backup_dr_region": "us-west-2",
    }
    (root / "group_vars" / "all" / "vars.yml").write_text(json.dumps(doc))
    return root


def _timed(argv: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=common.ROOT, env=env, capture_output=True, text=True)
    return time.perf_counter() - started, proc


def run(counts: tuple[int, ...] = (1, 10)) -> dict:
    out = {}
    for count in counts:
        tables = site_runtime._tables(count)
        with common.local_aws() as target:
            site_runtime._site(target, count)
            common.launcher.run_plan(target, "ddbguard-plan")
            env = dict(os.environ, LOCAL_AWS_PORT=str(target.port), LOCAL_AWS_HOME=str(target.home))
            inventory = _inventory(tables)
            samples = []
            for _ in range(RUNS):
                seconds, proc = _timed(
                    [sys.executable, "tools/status.py", "--json", "--inventory", str(inventory)], env
                )
                doc = json.loads(proc.stdout)
                if proc.returncode != 0 or len(doc["tables"]) != count:
                    raise RuntimeError(f"status found problems on a fresh setup: {doc['problems']}")
                samples.append(seconds)
            floors = []
            for _ in range(RUNS):
                seconds, proc = _timed(
                    [sys.executable, "-c", FLOOR, str(target.dir), target.endpoint, *[t["name"] for t in tables]],
                    dict(env, PYTHONPATH=str(common.ROOT)),
                )
                proc.check_returncode()
                floors.append(seconds)
        out[count] = {"status_s": samples, "floor_s": floors}
    return out


def markdown(result: dict) -> str:
    rows = []
    for count, r in sorted(result.items(), key=lambda kv: int(kv[0])):
        status, floor = statistics.median(r["status_s"]), statistics.median(r["floor_s"])
        rows.append(
            f"| {count} | {status:.2f} | {min(r['status_s']):.2f}-{max(r['status_s']):.2f} | {floor:.2f} | "
            f"{status / floor:.1f}x |"
        )
    ten = result.get(10) or result.get("10")
    verdict = "n/a"
    if ten:
        verdict = "**meets**" if statistics.median(ten["status_s"]) < 5 else "**misses**"
    return (
        "## make status: 1 and 10 tables\n\n"
        "`bench/status.py`: `tools/status.py --json` (what `make status` runs) on a fresh local AWS after\n"
        "`site.yml` and the plan's first run, three runs each (every run finds every table protected). Its\n"
        "reads per table: the table, PITR, the function and its health operation (a Lambda invocation), the\n"
        "trigger, the iterator age, the canary's rule and newest check, the newest recovery point and DR copy\n"
        "(and their tags), the alarms; once:\n"
        "the vault policy, the plan and its selections, the vault's alarms; tables read in parallel (16\n"
        "threads). Floor: one plain Python process importing boto3 and calling DescribeTable once per table.\n\n"
        "| Tables | Status, median (s) | Range (s) | Floor, median (s) | Status / floor |\n"
        "|---|---|---|---|---|\n" + "\n".join(rows) + "\n\n"
        f"Goal: under 5 s for 10 tables on this machine: the goal {verdict}. Most of a run is the inventory\n"
        "read (`ansible-inventory`, about 0.6 s) and Python's start with boto3; the health invocations are\n"
        "the slowest calls (each a Lambda invocation).\n"
    )


if __name__ == "__main__":
    result = run()
    print(json.dumps(result, indent=2))
    print(markdown(result))

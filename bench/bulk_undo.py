"""Bulk damage undone: the change monitor, the naive handler and the target's floor, in two regimes.

- **bare**: the local AWS as it is.
- **latency**: microburst (a protocol-aware AWS proxy, pinned in requirements.txt) between
  the functions and the local AWS, adding LATENCY_MS (uniform) to every DynamoDB request,
  as a network round trip to DynamoDB would on AWS. Only the functions' DynamoDB requests
  (``AWS_ENDPOINT_URL_DYNAMODB``) and the floor's go through it; the driver's do not.

For each regime, on a fresh local AWS, three runs of:

- a burst: ITEMS items written, then deleted (BatchWriteItem, 8 threads); the clock runs
  from the first delete until a consistent count finds every item back. Every item must
  come back exactly as written (none lost). Once for the monitor's table, once for the
  naive handler's (one unconditional put per record, sequentially: the original design
  reduced to its floor);
- the floor: one plain boto3 client putting the same ITEMS items back, one conditional
  PutItem (``attribute_not_exists``) after another: what one request per item costs here;

All three tables have a stream and point-in-time recovery, as ``site.yml`` leaves a
protected table: the local AWS's cost of a write depends on both (a stream record, and a
PITR history entry), so the handlers and the floor pay the same per write;
- single-change latency: SAMPLES deletes one at a time, each timed from DeleteItem's answer
  to the first consistent GetItem that finds the item again, for both handlers.

What the functions cost is read from inside their processes (``bench/probe``: the
requests botocore sends, retries included, and the process's CPU time), and their
invocations from the START lines of their log groups.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import common
import undo_latency

# BENCH_ITEMS, BENCH_RUNS and BENCH_SAMPLES shrink a run while trying things out.
ITEMS = int(os.environ.get("BENCH_ITEMS", "5000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
SAMPLES = int(os.environ.get("BENCH_SAMPLES", "200"))
# BENCH_ONLY_MONITOR=1: the monitor's bursts only, to compare versions of it quickly.
ONLY_MONITOR = os.environ.get("BENCH_ONLY_MONITOR") == "1"
# Monitor settings for the run (dr_monitor_* variables, as JSON), e.g. '{"dr_monitor_parallelization_factor": 4}'.
MONITOR_SETTINGS = json.loads(os.environ.get("BENCH_MONITOR_SETTINGS", "{}"))
BATCH = 1000
WARM_UP = 500
LATENCY_MS = (4.0, 6.0)
MARKER = "_ddbguard_undo"
MONITOR, NAIVE = "bench-bulk", "bench-bulk-naive"
FUNCTIONS = {MONITOR: f"{MONITOR}-change-monitor", NAIVE: f"{NAIVE}-naive"}
PROBE = Path(__file__).resolve().parent / "probe"


def item(i: int, run: int) -> dict:
    return {
        "pk": {"S": f"bulk-{run}-{i:05d}"},
        "amount": {"N": str(i * 7)},
        "note": {"S": f"item {i} " + "x" * 48},
        "tags": {"SS": ["a", "b", f"t{i % 7}"]},
    }


def batch_write(ddb, table: str, requests: list[dict]) -> None:
    pending = {table: requests}
    while pending:
        pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def write_all(ddb, table: str, requests: list[dict]) -> None:
    chunks = [requests[i : i + 25] for i in range(0, len(requests), 25)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda chunk: batch_write(ddb, table, chunk), chunks))


def scan_all(ddb, table: str, count: bool = False):
    total, items, start = 0, [], None
    while True:
        kwargs = {"TableName": table, "ConsistentRead": True, **({"Select": "COUNT"} if count else {})}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = ddb.scan(**kwargs)
        total += page["Count"]
        items.extend(page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return total if count else items


class Probe:
    """The functions' processes, as bench/probe/sitecustomize.py reports them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def totals(self, function: str) -> tuple[float, int]:
        cpu, requests = 0.0, 0
        for path in self.folder.glob("*.json"):
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if data.get("function") == function:
                cpu += data["cpu_seconds"]
                requests += sum(data["requests"].values())
        return cpu, requests


def invocations(logs, function: str, since_ms: int) -> int:
    """START lines in the function's log group since ``since_ms``: one per invocation."""
    total, token = 0, None
    while True:
        kwargs = {"logGroupName": f"/aws/lambda/{function}", "startTime": since_ms, "filterPattern": "START"}
        if token:
            kwargs["nextToken"] = token
        page = logs.filter_log_events(**kwargs)
        total += sum(1 for e in page.get("events", []) if e["message"].startswith("START"))
        token = page.get("nextToken")
        if not token:
            return total


def emulator_cpu(target) -> float:
    """CPU seconds the local AWS's own process has used (its threads; the functions run in
    processes of their own): DynamoDB, the streams, the trigger's poller, the HTTP front."""
    pid = int(target.pid_file.read_text().strip())
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def burst(ddb, logs, probe: Probe, table: str, run: int, target=None) -> dict:
    function = FUNCTIONS[table]
    originals = [item(i, run) for i in range(ITEMS)]
    write_all(ddb, table, [{"PutRequest": {"Item": x}} for x in originals])
    time.sleep(5)  # let the inserts drain through the trigger
    expected = scan_all(ddb, table, count=True)  # this burst's items and what earlier runs left
    cpu0, requests0 = probe.totals(function)
    emulator0 = emulator_cpu(target) if target else 0.0
    since = int(time.time() * 1000)
    start = time.perf_counter()
    write_all(ddb, table, [{"DeleteRequest": {"Key": {"pk": x["pk"]}}} for x in originals])
    while (found := scan_all(ddb, table, count=True)) < expected:
        if time.perf_counter() - start > 900:
            break
        time.sleep(0.25)
    elapsed = time.perf_counter() - start
    time.sleep(3)  # the echoes of the last writes, and the probe's next report
    cpu1, requests1 = probe.totals(function)
    emulator1 = emulator_cpu(target) if target else 0.0
    stored = {x["pk"]["S"]: {k: v for k, v in x.items() if k != MARKER} for x in scan_all(ddb, table)}
    exact = sum(1 for x in originals if _same(stored.get(x["pk"]["S"]), x))
    return {
        "seconds": elapsed,
        "items_per_s": ITEMS / elapsed,
        "restored": ITEMS - (expected - found),
        "exact": exact,
        "cpu_ms_per_item": (cpu1 - cpu0) * 1000 / ITEMS,
        "emulator_cpu_ms_per_item": (emulator1 - emulator0) * 1000 / ITEMS,
        "requests_per_item": (requests1 - requests0) / ITEMS,
        "invocations": invocations(logs, function, since),
    }


def _same(stored: dict | None, original: dict) -> bool:
    if stored is None or set(stored) != set(original):
        return False
    return all(sorted(stored[k]["SS"]) == sorted(v["SS"]) if "SS" in v else stored[k] == v for k, v in original.items())


def floor(target, ddb, run: int) -> dict:
    """One plain client, one conditional PutItem per item, one after another, into a table
    with a stream and point-in-time recovery, as the handlers' tables have. The table is
    made as the account's root (set-up, not measured); the puts as the writer."""
    table = f"bench-floor-{run}"
    common.create_table(common.client(target, "dynamodb"), table, pitr=True)
    originals = [item(i, run) for i in range(ITEMS)]
    start = time.perf_counter()
    for x in originals:
        ddb.put_item(TableName=table, Item=x, ConditionExpression="attribute_not_exists(pk)")
    elapsed = time.perf_counter() - start
    return {"seconds": elapsed, "items_per_s": ITEMS / elapsed}


def proxy(target, port: int, log: Path) -> subprocess.Popen:
    # tools/fault_proxy.py: microburst, forwarding each request as its caller signed it.
    process = subprocess.Popen(
        [sys.executable, str(common.ROOT / "tools" / "fault_proxy.py"), "--upstream", target.endpoint]
        + ["--port", str(port), "--host", "127.0.0.1"],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    rule = [{"service": "dynamodb", "latency": {"dist": "uniform", "min": LATENCY_MS[0], "max": LATENCY_MS[1]}}]
    while True:
        try:
            _control(port, "POST", "rules", rule)
            return process
        except OSError:
            if time.monotonic() > deadline:
                process.terminate()
                raise
            time.sleep(0.2)


def _control(port: int, method: str, path: str, body=None):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            method, f"/_microburst/{path}", body=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        answer = connection.getresponse()
        if answer.status >= 300:
            raise RuntimeError(f"microburst {path}: HTTP {answer.status}")
        return json.loads(answer.read() or b"null")
    finally:
        connection.close()


def _wire(target, probe_dir: Path, endpoint: str | None) -> None:
    """Both functions: the probe on their PYTHONPATH, and their DynamoDB endpoint."""
    lam = common.client(target, "lambda")
    for function in FUNCTIONS.values():
        env = lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"]
        env.update(PYTHONPATH=str(PROBE), BENCH_PROBE_DIR=str(probe_dir))
        if endpoint:
            env["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
        lam.update_function_configuration(FunctionName=function, Environment={"Variables": env})
    time.sleep(2)


def regime(name: str) -> dict:
    with common.local_aws() as target:
        common.provision(target, MONITOR, **{"dr_monitor_batch_size": BATCH, **MONITOR_SETTINGS})
        common.naive_table(target, NAIVE, batch_size=BATCH)
        probe_dir = target.home / "probe"
        probe_dir.mkdir()
        process, endpoint = None, None
        if name == "latency":
            port = common.free_port()
            process = proxy(target, port, target.home / "microburst.log")
            endpoint = f"http://127.0.0.1:{port}"
        try:
            _wire(target, probe_dir, endpoint)
            probe = Probe(probe_dir)
            ddb, logs = common.client(target, "dynamodb", who="writer"), common.client(target, "logs")
            floor_ddb = common.client(target, "dynamodb", endpoint=endpoint, who="writer") if endpoint else ddb
            out: dict = {"monitor": [], "naive": [], "floor": [], "latency_monitor": [], "latency_naive": []}
            for table in (MONITOR, NAIVE):  # warm-up, not measured: workers started, proxy connected
                warm = [{"pk": {"S": f"warm-{i}"}} for i in range(WARM_UP)]
                write_all(ddb, table, [{"PutRequest": {"Item": key}} for key in warm])
                write_all(ddb, table, [{"DeleteRequest": {"Key": key}} for key in warm])
            time.sleep(5)
            for run in range(RUNS):
                out["monitor"].append(burst(ddb, logs, probe, MONITOR, run, target))
                print(f"{name} run {run + 1}: monitor {json.dumps(out['monitor'][-1])}", flush=True)
                if ONLY_MONITOR:
                    continue
                out["naive"].append(burst(ddb, logs, probe, NAIVE, run, target))
                out["floor"].append(floor(target, floor_ddb, run))
                for key, table in (("latency_monitor", MONITOR), ("latency_naive", NAIVE)):
                    samples = undo_latency.measure(ddb, table, SAMPLES, prefix=f"latency-{run}")
                    out[key].append(undo_latency.summary(samples) | {"samples": samples})
                last = {k: {f: x for f, x in v[-1].items() if f != "samples"} for k, v in out.items()}
                print(f"{name} run {run + 1}: {json.dumps(last, default=str)}", flush=True)
            return out
        finally:
            if process:
                process.terminate()
                process.wait(timeout=10)


def run() -> dict:
    return {name: regime(name) for name in ("bare", "latency")} | {"items": ITEMS, "runs": RUNS, "samples": SAMPLES}


def _median(runs: list[dict], field) -> tuple[float, float, float]:
    values = [r[field] for r in runs]
    return statistics.median(values), min(values), max(values)


def _cell(runs: list[dict], field, digits: int = 0) -> str:
    mid, low, high = _median(runs, field)
    return f"{mid:,.{digits}f} ({low:,.{digits}f}–{high:,.{digits}f})"


def markdown(result: dict) -> str:
    lines = [
        "## Bulk damage and single-change latency, in two regimes\n",
        f"`bench/bulk_undo.py`. A burst of {result['items']:,} deletes (BatchWriteItem, 8 threads), timed from the first "
        "delete until a consistent count finds every item back; the floor is one plain boto3 client putting the same "
        "items back one conditional PutItem at a time. All three tables have a stream and point-in-time recovery, "
        "as `site.yml` leaves a protected table (the local AWS keeps a history of every write for PITR, which each "
        f"write pays). {result['runs']} runs each, on a fresh local AWS per regime: "
        "median (min–max). CPU and requests are read inside the functions' processes (`bench/probe`), invocations "
        "from their log groups, the local AWS's CPU from its own process (DynamoDB, streams, trigger; the deletes "
        f"included). Trigger batch size {BATCH} for both handlers; {SAMPLES} single changes per run and handler. "
        f"**latency**: microburst adds {LATENCY_MS[0]:.0f}–{LATENCY_MS[1]:.0f} ms to every DynamoDB request of the "
        "functions and of the floor.\n",
    ]
    goals = []
    for name in ("bare", "latency"):
        r = result[name]
        lost = sum(ITEMS - x["exact"] for x in r["monitor"] + r["naive"])
        lines.append(f"### {name}\n")
        lines.append(
            "| Handler | Items/s | CPU ms per undone item | Requests per undone item | Invocations per burst "
            "| Local AWS CPU ms per item |\n|---|---|---|---|---|---|"
        )
        for label, key in (("change monitor", "monitor"), ("naive handler", "naive")):
            lines.append(
                f"| {label} | {_cell(r[key], 'items_per_s')} | {_cell(r[key], 'cpu_ms_per_item', 2)} | "
                f"{_cell(r[key], 'requests_per_item', 3)} | {_cell(r[key], 'invocations')} | "
                f"{_cell(r[key], 'emulator_cpu_ms_per_item', 2)} |"
            )
        lines.append(
            f"| floor (plain client, conditional single puts) | {_cell(r['floor'], 'items_per_s')} | – | 1 | – | – |"
        )
        lines.append(f"\nItems not back exactly as written, over every burst: **{lost}**.\n")
        lines.append("| Single-change undo | p50 (ms) | p95 (ms) | p99 (ms) |\n|---|---|---|---|")
        for label, key in (("change monitor", "latency_monitor"), ("naive handler", "latency_naive")):
            lines.append(f"| {label} | {_cell(r[key], 50)} | {_cell(r[key], 95)} | {_cell(r[key], 99)} |")
        lines.append("")
        monitor = _median(r["monitor"], "items_per_s")[0]
        naive = _median(r["naive"], "items_per_s")[0]
        floor_rate = _median(r["floor"], "items_per_s")[0]
        p99 = _pooled_p99(r["latency_monitor"]) / _pooled_p99(r["latency_naive"])
        goals.append((name, monitor, naive, floor_rate, p99))
    lines.append("### Goals\n")
    lines.append("| Goal | Measured | Holds |\n|---|---|---|")
    for name, monitor, naive, floor_rate, p99 in goals:
        if name == "latency":
            lines.append(
                f"| latency: monitor ≥ 6× naive items/s | {monitor / naive:.1f}× | {_yes(monitor / naive >= 6)} |"
            )
        else:
            lines.append(
                f"| bare: monitor ≥ 1.5× the floor's items/s | {monitor / floor_rate:.2f}× | {_yes(monitor / floor_rate >= 1.5)} |"
            )
        lines.append(
            f"| {name}: single-change p99 ≤ 1.2× naive (over all runs' samples) | {p99:.2f}× | {_yes(p99 <= 1.2)} |"
        )
    return "\n".join(lines) + "\n"


def _pooled_p99(runs: list[dict]) -> float:
    """The 99th percentile over every sample of every run (one run's p99 is its 2nd-worst sample)."""
    return common.percentile([x for r in runs for x in r["samples"]], 99) * 1000


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


if __name__ == "__main__":
    selected = sys.argv[1:] or ["bare", "latency"]
    result = {name: regime(name) for name in selected} | {"items": ITEMS, "runs": RUNS, "samples": SAMPLES}
    out = Path(os.environ.get("BENCH_OUT", "/tmp/bulk_undo.json"))
    out.write_text(json.dumps(result, indent=1))
    if set(selected) == {"bare", "latency"} and not ONLY_MONITOR:
        print(markdown(result))

"""The full difference of a restored table against the live one: the copy-back as it runs
today, against a plain boto3 floor, on the same data in the same run.

On a fresh local AWS (as the tester, with IAM evaluated): a "restored" table of N items of
about 1 KB and a live table with the same items, of which 1 % were then modified by the
writer. ``ddbguard.dr.dynamodb_copy_back`` (copy-diff, writing directly: no monitor on the
bench's tables) puts them back; the live table is damaged again the same way; then the
floor does the same work: one process, a parallel ``Scan`` of the restored table with
``TotalSegments`` 8 (one thread per segment), ``BatchGetItem`` of each page's keys in the
live table, and a conditional ``PutItem`` (the live item is still the damaged one) for
each item that differs. Measured: items compared per second (wall time of the module's
playbook, Ansible's start included, and of the floor), the module process's peak memory,
items read from the live table, and whether every damaged item is back exactly.

``dynamodb_copy_back`` runs in the controller's process and scans both tables whole into
memory (issue 19's distributed run in the account is not built yet): this measures the gap
that run is to close. ``BENCH_COPY_BACK_ITEMS`` overrides N (default 100,000).
"""

from __future__ import annotations

import os
import resource
import time
from concurrent.futures import ThreadPoolExecutor

import common

ITEMS = int(os.environ.get("BENCH_COPY_BACK_ITEMS", "100000"))
DAMAGE = 0.01
SEGMENTS = 8
RESTORED, LIVE = "bench-restored", "bench-live"
PAD = "x" * 960  # about 1 KB per item


def item(i: int, version: int) -> dict:
    return {"pk": {"S": f"item-{i:08d}"}, "version": {"N": str(version)}, "pad": {"S": PAD}}


def damage(target, damaged: list[int], live: str = LIVE) -> None:
    writer = common.client(target, "dynamodb", who="writer")
    common.write_all(writer, live, [{"PutRequest": {"Item": item(i, 2)}} for i in damaged])


def exact(ddb, damaged: list[int], live: str = LIVE) -> int:
    back = 0
    for first in range(0, len(damaged), 100):
        keys = [{"pk": item(i, 1)["pk"]} for i in damaged[first : first + 100]]
        got = ddb.batch_get_item(RequestItems={live: {"Keys": keys, "ConsistentRead": True}})["Responses"][live]
        back += sum(1 for x in got if x["version"]["N"] == "1" and x["pad"]["S"] == PAD)
    return back


def tables(target, n: int, restored: str, live: str) -> list[int]:
    """The two tables of ``n`` items, the live one damaged (1 %); the damaged indexes."""
    root = common.client(target, "dynamodb")
    for table in (restored, live):
        common.create_table(root, table, pitr=True)
        common.write_all(root, table, [{"PutRequest": {"Item": item(i, 1)}} for i in range(n)])
    damaged = list(range(0, n, int(1 / DAMAGE)))
    damage(target, damaged, live)
    return damaged


def module_run(target, n: int, restored: str, live: str, damaged: list[int]) -> dict:
    options = {"source_table": restored, "target_table": live, "exclude_key_prefixes": []}
    result, rss_mb, seconds = common.run_module(target, "dynamodb_copy_back", options)
    return {
        "items": n,
        "seconds": round(seconds, 3),
        "compared": sum(result["counts"].values()),
        "written": result["counts"]["copied"],
        "live_reads": n,  # a full Scan of the live table
        "peak_rss_mb": round(rss_mb, 1),
        "exact": exact(common.client(target, "dynamodb"), damaged, live),
    }


def floor(ddb, restored_table: str = RESTORED, live_table: str = LIVE) -> dict:
    """Parallel Scan (8 segments) + BatchGetItem + conditional PutItem, one process."""

    def segment(number: int) -> tuple[int, int, int]:
        compared = written = read = 0
        kwargs = {"TableName": restored_table, "Segment": number, "TotalSegments": SEGMENTS}
        while True:
            page = ddb.scan(**kwargs)
            restored = {x["pk"]["S"]: x for x in page["Items"]}
            keys = [{"pk": x["pk"]} for x in page["Items"]]
            live: dict[str, dict] = {}
            for first in range(0, len(keys), 100):
                pending = {live_table: {"Keys": keys[first : first + 100], "ConsistentRead": True}}
                while pending:
                    answer = ddb.batch_get_item(RequestItems=pending)
                    live.update({x["pk"]["S"]: x for x in answer["Responses"].get(live_table, [])})
                    pending = answer.get("UnprocessedKeys") or {}
            read += len(live)
            for pk, image in restored.items():
                compared += 1
                current = live.get(pk)
                if current == image:
                    continue
                try:
                    ddb.put_item(
                        TableName=live_table,
                        Item=image,
                        ConditionExpression="#v = :v AND #p = :p",
                        ExpressionAttributeNames={"#v": "version", "#p": "pad"},
                        ExpressionAttributeValues={":v": current["version"], ":p": current["pad"]},
                    )
                    written += 1
                except ddb.exceptions.ConditionalCheckFailedException:
                    pass
            if "LastEvaluatedKey" not in page:
                return compared, written, read
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    began = time.monotonic()
    with ThreadPoolExecutor(SEGMENTS) as pool:
        parts = list(pool.map(segment, range(SEGMENTS)))
    seconds = time.monotonic() - began
    return {
        "seconds": round(seconds, 3),
        "compared": sum(p[0] for p in parts),
        "written": sum(p[1] for p in parts),
        "live_reads": sum(p[2] for p in parts),
    }


def run() -> dict:
    with common.local_aws(periodic_saves=False) as target:
        root = common.client(target, "dynamodb")
        small_damaged = tables(target, ITEMS // 10, f"{RESTORED}-small", f"{LIVE}-small")
        small = module_run(target, ITEMS // 10, f"{RESTORED}-small", f"{LIVE}-small", small_damaged)
        damaged = tables(target, ITEMS, RESTORED, LIVE)
        module = module_run(target, ITEMS, RESTORED, LIVE, damaged)
        damage(target, damaged)
        tester = common.client(target, "dynamodb", who="tester")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        plain = floor(tester)
        plain["exact"] = exact(root, damaged)
        plain["process_peak_rss_mb"] = round(max(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024, 1)
        return {"items": ITEMS, "damaged": len(damaged), "module": module, "floor": plain, "module_small": small}


def markdown(result: dict) -> str:
    module, plain, small = result["module"], result["floor"], result["module_small"]
    memory = module["peak_rss_mb"] / small["peak_rss_mb"] if small["peak_rss_mb"] else float("nan")
    rate = {name: r["compared"] / r["seconds"] for name, r in (("module", module), ("floor", plain))}
    ratio = rate["module"] / rate["floor"]
    lines = [
        "## Full difference (copy-back) against a plain boto3 floor",
        "",
        __doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
        "",
        f"{result['items']:,} items, {result['damaged']:,} damaged.",
        "",
        "| Run | Seconds | Items compared / s | Written | Live items read | Back exactly | Peak memory (MB) |",
        "|---|---|---|---|---|---|---|",
        f"| `dynamodb_copy_back` (controller process) | {module['seconds']:.1f} | {rate['module']:,.0f} "
        f"| {module['written']:,} | {module['live_reads']:,} | {module['exact']:,} | {module['peak_rss_mb']:.1f} |",
        f"| floor (8-segment Scan + BatchGetItem + conditional PutItem) | {plain['seconds']:.1f} | {rate['floor']:,.0f} "
        f"| {plain['written']:,} | {plain['live_reads']:,} | {plain['exact']:,} | "
        f"{plain['process_peak_rss_mb']:.1f} (the bench's process) |",
        f"| `dynamodb_copy_back` on {small['items']:,} items (for its memory) | {small['seconds']:.1f} "
        f"| {small['compared'] / small['seconds']:,.0f} | {small['written']:,} | {small['live_reads']:,} "
        f"| {small['exact']:,} | {small['peak_rss_mb']:.1f} |",
        "",
        "| Goal | Measured | Holds |",
        "|---|---|---|",
        f"| at least 0.8× the floor's items/s | {ratio:.2f}× | {'yes' if ratio >= 0.8 else '**no**'} |",
        f"| the controller's memory bounded: within 20 % from {small['items']:,} to {result['items']:,} items "
        f"| {memory:.2f}× | {'yes' if memory <= 1.2 else '**no**'} |",
    ]
    return "\n".join(lines) + "\n"

"""Rolling back a window at table sizes: is the work proportional to the damage?

For each size, on a fresh local AWS: a table with a stream and point-in-time recovery gets N
items of about 1 KB (loaded by the account's root: set-up, not measured), then 1 % of them
are modified by the writer. The table's history is aged 20 minutes (the local target's
control, docs/emulator.md), and the 15-minute window that holds the damage is rolled back
from an incremental export with ``ddbguard.dr.dynamodb_window_rollback`` (through
ansible-playbook, as the tester: the bench's table is not in the inventory), writing
directly (no monitor on the bench's table). Measured: the module's wall time (the export
included, which the local AWS computes from its history of every write), the items it read
from the live table, the module process's peak memory (its RSS, polled every 50 ms), and
whether every damaged item is back exactly.

The floor: the same requests by a plain boto3 client on the same table, right after (one
BatchGetItem per 100 damaged keys, one conditional PutItem per damaged item), which tells
the local AWS's own cost per request at that size. The run happens in the controller's
module process: there is no worker to measure yet (issue 19's distributed run). The local
AWS saves its state only when it stops (``bench/common.py``, ``local_aws``): its periodic
save of a million-item table stalled every request for seconds. ``BENCH_ROLLBACK_SIZES`` (comma-separated) overrides the sizes.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request

import common

SIZES = tuple(int(n) for n in os.environ.get("BENCH_ROLLBACK_SIZES", "10000,100000,1000000").split(","))
DAMAGE = 0.01
AGE = 1200.0
TABLE = "bench-rollback"
BUCKET = "ddbguard-exports-bench"
PAD = "x" * 960  # about 1 KB per item


def item(i: int, version: int) -> dict:
    return {"pk": {"S": f"item-{i:08d}"}, "version": {"N": str(version)}, "pad": {"S": PAD}}


def rollback(target, window: dict) -> tuple[dict, float]:
    options = {"table": TABLE, "export_bucket": BUCKET, "batch_size": 100, **window}
    result, rss_mb, _seconds = common.run_module(target, "dynamodb_window_rollback", options)
    return result, rss_mb


def floor(ddb, damaged: list[int]) -> float:
    """The same requests as the rollback's, by a plain client on the same table, after it:
    one BatchGetItem per 100 damaged keys and one conditional PutItem per damaged item (the
    image it already holds, so the table is left as it is). Seconds."""
    began = time.monotonic()
    for first in range(0, len(damaged), 100):
        keys = [{"pk": item(i, 1)["pk"]} for i in damaged[first : first + 100]]
        ddb.batch_get_item(RequestItems={TABLE: {"Keys": keys, "ConsistentRead": True}})
        for i in damaged[first : first + 100]:
            ddb.put_item(
                TableName=TABLE,
                Item=item(i, 1),
                ConditionExpression="version = :v",
                ExpressionAttributeValues={":v": {"N": "1"}},
            )
    return time.monotonic() - began


def one_size(n: int) -> dict:
    with common.local_aws(periodic_saves=False) as target:
        root = common.client(target, "dynamodb")
        common.create_table(root, TABLE, pitr=True)
        common.client(target, "s3").create_bucket(Bucket=BUCKET)
        common.write_all(root, TABLE, [{"PutRequest": {"Item": item(i, 1)}} for i in range(n)])
        damaged = list(range(0, n, int(1 / DAMAGE)))
        time.sleep(1.0)
        start = time.time() - AGE
        time.sleep(1.0)
        common.write_all(
            common.client(target, "dynamodb", who="writer"),
            TABLE,
            [{"PutRequest": {"Item": item(i, 2)}} for i in damaged],
        )
        time.sleep(1.0)
        url = f"{target.endpoint}/_localaws/pitr/age?table={TABLE}&seconds={AGE}"
        urllib.request.urlopen(urllib.request.Request(url, method="POST", data=b"")).close()  # noqa: S310
        iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"  # noqa: E731
        result, rss_mb = rollback(target, {"window_from": iso(start), "window_to": iso(start + 900)})
        exact = 0
        for first in range(0, len(damaged), 100):
            keys = [{"pk": item(i, 1)["pk"]} for i in damaged[first : first + 100]]
            got = root.batch_get_item(RequestItems={TABLE: {"Keys": keys, "ConsistentRead": True}})["Responses"][TABLE]
            exact += sum(1 for x in got if x["version"]["N"] == "1" and x["pad"]["S"] == PAD)
        floor_seconds = floor(common.client(target, "dynamodb", who="tester"), damaged)
        return {
            "items": n,
            "damaged": len(damaged),
            "floor_seconds": round(floor_seconds, 3),
            "seconds": result["wall_seconds"],
            "export_seconds": result["export_seconds"],
            "live_reads": result["live_reads"],
            "rolled_back": result["counts"]["rolled_back"],
            "exact": exact,
            "module_peak_rss_mb": round(rss_mb, 1),
        }


def run() -> dict:
    return {"sizes": [one_size(n) for n in SIZES], "damage": DAMAGE}


def markdown(result: dict) -> str:
    rows = result["sizes"]
    lines = [
        "## Window rollback at table sizes (1 % damaged, from an incremental export)",
        "",
        __doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
        "",
        "| Items | Damaged | Rollback (s) | of which the export (s) | ms per damaged item | the rest, ms per damaged item "
        "| floor, ms per damaged item | Live items read | Read / damaged | Back exactly | Module peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        rest = r["seconds"] - r.get("export_seconds", 0.0)
        lines.append(
            f"| {r['items']:,} | {r['damaged']:,} | {r['seconds']:.1f} | {r.get('export_seconds', 0.0):.1f} "
            f"| {1000 * r['seconds'] / r['damaged']:.2f} | {1000 * rest / r['damaged']:.2f} "
            f"| {1000 * r.get('floor_seconds', float('nan')) / r['damaged']:.2f} "
            f"| {r['live_reads']:,} | {r['live_reads'] / r['damaged']:.2f} | {r['exact']:,} | {r['module_peak_rss_mb']:.1f} |"
        )
    small, large = rows[0], rows[-1]
    per = [r["seconds"] / r["damaged"] for r in rows]
    rest_per = [(r["seconds"] - r.get("export_seconds", 0.0)) / r["damaged"] for r in rows]
    over_floor = [(r["seconds"] - r.get("export_seconds", 0.0)) / r["floor_seconds"] for r in rows]
    memory = large["module_peak_rss_mb"] / small["module_peak_rss_mb"] if small["module_peak_rss_mb"] else float("nan")
    lines += [
        "",
        "| Goal | Measured | Holds |",
        "|---|---|---|",
        f"| live items read ≤ 2× the damaged items | {max(r['live_reads'] / r['damaged'] for r in rows):.2f}× | "
        f"{'yes' if all(r['live_reads'] <= 2 * r['damaged'] for r in rows) else '**no**'} |",
        f"| controller memory flat within 20 % ({small['items']:,} to {large['items']:,} items) | {memory:.2f}× | "
        f"{'yes' if memory <= 1.2 else '**no**'} |",
        f"| time per damaged item flat within 2× across sizes | {max(per) / min(per):.2f}× | "
        f"{'yes' if max(per) / min(per) <= 2 else '**no**'} |",
        f"| (read with it) the same without the export's wait | {max(rest_per) / min(rest_per):.2f}× | "
        f"{'yes' if max(rest_per) / min(rest_per) <= 2 else '**no**'} |",
        f"| (read with it) the rest against the floor at each size ({', '.join(f'{x:.2f}×' for x in over_floor)}), "
        f"flat within 2× | {max(over_floor) / min(over_floor):.2f}× | "
        f"{'yes' if max(over_floor) / min(over_floor) <= 2 else '**no**'} |",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))

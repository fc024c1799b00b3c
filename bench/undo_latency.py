"""Item undo latency: delete -> item readable again, through the real stream trigger.

``bulk_undo`` measures it in both regimes, for the monitor and the naive handler."""

from __future__ import annotations

import time

import common

POLL = 0.002


def measure(ddb, table: str, samples: int, prefix: str = "latency") -> list[float]:
    latencies = []
    for i in range(samples):
        key = {"pk": {"S": f"{prefix}-{i}"}}
        ddb.put_item(TableName=table, Item={**key, "amount": {"N": str(i)}, "note": {"S": "x" * 64}})
        time.sleep(0.15)  # let the INSERT pass before the delete
        ddb.delete_item(TableName=table, Key=key)
        start = time.perf_counter()
        while not ddb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item"):
            if time.perf_counter() - start > 30:
                raise RuntimeError(f"{table}: item {i} not restored within 30 s")
            time.sleep(POLL)
        latencies.append(time.perf_counter() - start)
    return latencies


def summary(values: list[float]) -> dict:
    return {p: common.percentile(values, p) * 1000 for p in (50, 95, 99)} | {"max": max(values) * 1000}

"""Cost of the pure decision core per record, without I/O (µs/record)."""

from __future__ import annotations

import copy
import time

import common  # noqa: F401 - puts lambda/ on sys.path

from change_monitor import core
from change_monitor.config import Policy

ARN = "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/2026-01-01T00:00:00.000"
IMAGE = {
    "pk": {"S": "order#1"},
    "amount": {"N": "12345678901234567890123456789012345678"},
    "status": {"S": "paid"},
    "tags": {"SS": ["a", "b", "c"]},
    "lines": {"L": [{"M": {"sku": {"S": f"sku-{i}"}, "qty": {"N": str(i)}}} for i in range(5)]},
    "customer": {"M": {"id": {"S": "c-1"}, "vip": {"BOOL": True}}},
}


def records() -> list[dict]:
    modified = copy.deepcopy(IMAGE)
    modified["status"] = {"S": "cancelled"}
    base = {"eventSourceARN": ARN, "eventID": "e"}
    return [
        {
            **base,
            "eventName": "REMOVE",
            "dynamodb": {"Keys": {"pk": IMAGE["pk"]}, "OldImage": IMAGE, "SequenceNumber": "1"},
        },
        {
            **base,
            "eventName": "MODIFY",
            "dynamodb": {"Keys": {"pk": IMAGE["pk"]}, "OldImage": IMAGE, "NewImage": modified, "SequenceNumber": "2"},
        },
        {
            **base,
            "eventName": "INSERT",
            "dynamodb": {"Keys": {"pk": IMAGE["pk"]}, "NewImage": IMAGE, "SequenceNumber": "3"},
        },
    ]


def run(rounds: int = 5, per_round: int = 30_000) -> dict:
    policy = Policy(protected_events=frozenset({"REMOVE", "MODIFY", "INSERT"}))
    sample = records()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(per_round):
            core.decide(sample[i % 3], policy)
        best = min(best, (time.perf_counter() - start) / per_round)
    return {"us_per_record": best * 1e6, "records": rounds * per_round}


def markdown(result: dict) -> str:
    return (
        "## Decision cost of the core\n\n"
        f"`core.decide` on a mix of REMOVE, MODIFY and INSERT records of a 6-attribute item with "
        f"nested maps, lists and sets, no I/O: **{result['us_per_record']:.1f} µs/record** "
        f"(best of 5 rounds, {result['records']:,} decisions).\n"
    )


if __name__ == "__main__":
    print(markdown(run()))

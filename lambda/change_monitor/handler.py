"""Lambda entry point: decide, act, log one JSON line per record, report failures.

On an unexpected error the record's sequence number goes into ``batchItemFailures``
and the rest of the batch is left for the retry. Lambda restarts from the lowest
failed sequence number, and every action is idempotent, so this is safe.
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
from botocore.config import Config

from change_monitor import adapter, core
from change_monitor.config import load_policy

POLICY = load_policy()
ACTIONS = adapter.DynamoDbActions(
    boto3.client("dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 5}))
)


def log_decision(record: dict[str, Any], decision: core.Decision, outcome: str) -> None:
    created = (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
    lag_ms = round((time.time() - float(created)) * 1000) if created else None
    print(
        json.dumps(
            {
                "event_id": record.get("eventID"),
                "event": record.get("eventName"),
                "table": decision.table,
                "key": decision.keys,
                "action": decision.action,
                "reason": decision.reason,
                "outcome": outcome,
                "lag_ms": lag_ms,
            },
            sort_keys=True,
        )
    )


def process(event: dict[str, Any], actions: adapter.DynamoDbActions, policy=POLICY) -> dict[str, list]:
    for record in event.get("Records", []):
        try:
            decision = core.decide(record, policy)
            outcome = actions.execute(decision)
        except Exception as exc:  # noqa: BLE001 - any failure is reported to Lambda for retry
            print(json.dumps({"event_id": record.get("eventID"), "outcome": "failed", "error": repr(exc)}))
            return {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
        log_decision(record, decision, outcome)
    return {"batchItemFailures": []}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, list]:
    return process(event, ACTIONS)

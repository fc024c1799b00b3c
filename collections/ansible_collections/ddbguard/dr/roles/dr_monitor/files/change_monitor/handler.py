"""Lambda entry point: wires the clients once per container, then dispatches.

A stream batch goes to ``batch.process``; a direct invocation (``{"ddbguard": ...}``) to
``operations.run``. Everything the monitor does lives in those modules and the ones they
use (``lambda/README.md`` lists them); this module holds only the container's state:
its policy (read and checked at cold start, marker key derived), its clients and its
memory of good states.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import boto3
from botocore.config import Config

from change_monitor import audit, batch, incidents, marker, operations, writes
from change_monitor.config import Policy, load_policy
from change_monitor.maintenance import MaintenanceWindow
from change_monitor.memory import Memory


def _policy() -> Policy:
    policy = load_policy()
    kms = boto3.client("kms", config=Config(retries={"mode": "standard", "max_attempts": 5}))
    return dataclasses.replace(policy, marker_key=marker.derive_key(kms, policy.marker_key_id, policy.table))


def _clients(policy: Policy) -> dict[str, Any]:
    config = Config(retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=policy.concurrency + 4)
    # The monitor builds every DynamoDB request itself from stream images, which DynamoDB
    # wrote: botocore's client-side check of each value would only repeat the server's.
    ddb = boto3.client("dynamodb", config=config.merge(Config(parameter_validation=False)))
    out: dict[str, Any] = {"actions": writes.DynamoDbActions(ddb, policy.marker), "ddb": ddb}
    if policy.audit_table:
        out["audit"] = audit.AuditTrail(ddb, policy.audit_table)
    if policy.maintenance_parameter:
        ssm = boto3.client("ssm", config=config)
        out["window"] = MaintenanceWindow(
            ssm, policy.maintenance_parameter, policy.maintenance_max_seconds, policy.table
        )
    if policy.escalates:
        backup = boto3.client("backup", config=config)
        out["escalation"] = incidents.Escalation(backup, policy.backup_vault, policy.restore_role_arn)
    return out


POLICY = _policy()
CLIENTS = _clients(POLICY)
MEMORY = Memory()


def process(
    event: dict,
    actions: Any,
    policy: Policy = POLICY,
    memory: Memory | None = None,
    *,
    window=None,
    audit=None,
    escalation=None,
) -> dict:
    """A stream batch, with this container's memory unless given another."""
    return batch.process(event, actions, policy, MEMORY if memory is None else memory, window, audit, escalation)


def run_operation(
    event: dict,
    client: Any,
    policy: Policy = POLICY,
    memory: Memory | None = None,
    *,
    audit=None,
    actions=None,
    deadline: float | None = None,
) -> dict:
    """A sanctioned operation, with this container's memory unless given another."""
    return operations.run(event, client, policy, MEMORY if memory is None else memory, audit, actions, deadline)


def _deadline(context: Any) -> float | None:
    """When an operation should stop taking work: a third of the invocation's time before its end."""
    left = getattr(context, "get_remaining_time_in_millis", None)
    return time.monotonic() + left() / 1000 * 2 / 3 if callable(left) else None


def lambda_handler(event: dict[str, Any], context: Any) -> dict:
    if operations.is_operation(event):
        return run_operation(
            event, CLIENTS["ddb"], audit=CLIENTS.get("audit"), actions=CLIENTS["actions"], deadline=_deadline(context)
        )
    window, trail, escalation = (CLIENTS.get(k) for k in ("window", "audit", "escalation"))
    return process(event, CLIENTS["actions"], window=window, audit=trail, escalation=escalation)

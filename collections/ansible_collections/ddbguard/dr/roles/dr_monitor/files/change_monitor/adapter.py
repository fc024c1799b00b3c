"""Carries out decisions against DynamoDB, writes the audit trail, escalates incidents.

Every undo write is conditional, so a newer write always wins. A failed condition is the
outcome ``superseded``: logged, never retried. Throttling and 5xx answers are retried by
botocore's ``standard`` retry mode (clients are built by the handler).
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import time
from typing import Any

from change_monitor import conditions, core, failures, images, marker

APPLIED = "applied"
SUPERSEDED = "superseded"
NOTHING = "nothing-to-do"
AUDIT_RETENTION_DAYS = 90
FAILED_RETENTION_DAYS = 14  # as long as the failure queue keeps its messages
STATE_RETENTION_DAYS = 2  # longer than any record stays in the stream (24 h)
MAX_IMAGES_BYTES = 350_000  # an audit record holds both images within DynamoDB's 400 KB


def _wire_values(kwargs: dict[str, Any]) -> dict[str, Any]:
    if "ExpressionAttributeValues" in kwargs:
        kwargs = dict(kwargs, ExpressionAttributeValues=images.to_wire(kwargs["ExpressionAttributeValues"]))
    return kwargs


class DynamoDbActions:
    """Executes one ``core.Decision`` with conditional DynamoDB writes."""

    def __init__(self, client: Any, signer: marker.Marker) -> None:
        self._client = client
        self._marker = signer

    def execute(self, decision: core.Decision) -> str:
        if decision.action in (core.RESTORE_DELETED, core.REVERT_MODIFIED):
            if self._put(decision, decision.condition):
                return APPLIED
            return APPLIED if self._replace_older_restore(decision) else SUPERSEDED
        if decision.action == core.DELETE_INSERTED:
            try:
                return self._delete_inserted(decision)
            except self._client.exceptions.ConditionalCheckFailedException:
                return SUPERSEDED
        return NOTHING

    def _put(self, decision: core.Decision, condition: conditions.Condition) -> bool:
        item = decision.item
        try:
            try:
                self._client.put_item(
                    TableName=decision.table, Item=images.to_wire(item), **_wire_values(condition.kwargs())
                )
            except self._client.exceptions.ClientError as err:
                if not _too_large(err):
                    raise
                # The item is within the marker's size of DynamoDB's 400 KB limit: write it
                # as it was, unmarked. Its echo is still harmless: the good state the
                # handler remembers turns the "undo" of the echo into an unchanged write,
                # which makes no stream record.
                item = self._marker.strip(item)
                self._client.put_item(
                    TableName=decision.table, Item=images.to_wire(item), **_wire_values(condition.kwargs())
                )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _replace_older_restore(self, decision: core.Decision) -> bool:
        """When the refused write finds the monitor's own unchanged restore, made for an
        older record, the newer record's good image replaces it. That restore came from
        stale information: a legitimate write happened between that record and this one.
        No application write has touched the item since (the digest still matches), so
        nothing legitimate is overwritten. The replacement is conditional on that exact
        image, like every other write."""
        current = self._client.get_item(
            TableName=decision.table, Key=images.to_wire(decision.keys), ConsistentRead=True
        ).get("Item")
        if current is None:
            return False
        current = images.from_wire(current)
        older = self._marker.undone_sequence(current)
        if older is None or older >= int(decision.sequence):
            return False
        # Marked anew: this write replaces ``current``, and its echo shows that as OldImage.
        item = self._marker.mark(decision.item, marker.UNDO, decision.sequence, replaced=current)
        return self._put(dataclasses.replace(decision, item=item), conditions.still_equals(current))

    def _delete_inserted(self, decision: core.Decision) -> str:
        """Mark the inserted item (while it still equals what was inserted), then delete it
        while it still carries that mark. The REMOVE echo then shows the delete marker."""
        value = self._marker.value(decision.item, marker.DELETE, decision.sequence, replaced=decision.item)
        key = images.to_wire(decision.keys)
        self._client.update_item(
            TableName=decision.table,
            Key=key,
            UpdateExpression="SET #m = :m",
            **_wire_values(
                conditions.Condition(
                    decision.condition.expression,
                    {**decision.condition.names, "#m": self._marker.attribute},
                    {**decision.condition.values, ":m": value},
                ).kwargs()
            ),
        )
        self._client.delete_item(
            TableName=decision.table,
            Key=key,
            **_wire_values(conditions.holds_marker(self._marker.attribute, value).kwargs()),
        )
        return APPLIED


def _iso(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).isoformat(timespec="milliseconds")


class AuditTrail:
    """Audit records in a DynamoDB table: one per undo, one per incident, and counters.

    Keys: ``pk`` = ``<table>#undo`` / ``<table>#incident`` / ``<table>#counter``, ``sk`` = time
    and id. Records expire through the ``expires_at`` TTL attribute after 90 days.
    """

    def __init__(self, client: Any, table_resource: Any) -> None:
        self._client = client
        self._resource = table_resource
        self._table = table_resource.name

    def record_undos(self, entries: list[dict[str, Any]]) -> None:
        """One audit record per undo. boto3's batch writer groups them by 25 and resends
        unprocessed items itself."""
        expires = int(time.time()) + AUDIT_RETENTION_DAYS * 86400
        with self._resource.batch_writer() as batch:
            for e in entries:
                batch.put_item(
                    Item={
                        "pk": f"{e['table']}#undo",
                        "sk": f"{_iso(e['at'])}#{e['event_id']}",
                        "key": json.dumps(e["key"], sort_keys=True),
                        "event": e["event"],
                        "action": e["action"],
                        "outcome": e["outcome"],
                        "lag_ms": e["lag_ms"] if e["lag_ms"] is not None else -1,
                        "expires_at": expires,
                    }
                )

    def record_not_undone(self, entries: list[dict[str, Any]]) -> None:
        """One record per protected change the monitor could not undo, with both images
        (as the stream gave them), so that an operator can undo it by hand after the
        stream's 24 h. Images that would pass DynamoDB's 400 KB item limit are left out,
        and the record says so."""
        expires = int(time.time()) + AUDIT_RETENTION_DAYS * 86400
        with self._resource.batch_writer() as batch:
            for e in entries:
                images_json = json.dumps({"old": e["old_image"], "new": e["new_image"]}, sort_keys=True)
                batch.put_item(
                    Item={
                        "pk": f"{e['table']}#not-undone",
                        "sk": f"{_iso(e['at'])}#{e['event_id']}",
                        "key": json.dumps(e["key"], sort_keys=True),
                        "event": e["event"],
                        "reason": e["reason"],
                        "sequence": e["sequence"] or "",
                        "images": images_json if len(images_json) <= MAX_IMAGES_BYTES else "too large to keep",
                        "expires_at": expires,
                    }
                )

    def record_failed(self, entries: list[dict[str, Any]]) -> None:
        """Keep failed records with their decisions (``failures``), one per sequence number."""
        expires = int(time.time()) + FAILED_RETENTION_DAYS * 86400
        with self._resource.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for e in entries:
                batch.put_item(
                    Item={
                        "pk": f"{e['table']}#failed",
                        "sk": failures.sort_key(e["sequence"]),
                        "entry": failures.dumps(e),
                        "error": e["error"][:1000],
                        "expires_at": expires,
                    }
                )

    def failed(self, table: str) -> list[dict[str, Any]]:
        """The kept failed records of ``table``, in stream order."""
        kept, start = [], None
        while True:
            page = self._client.query(
                TableName=self._table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"{table}#failed"}},
                ConsistentRead=True,
                **({"ExclusiveStartKey": start} if start else {}),
            )
            kept.extend(json.loads(item["entry"]["S"]) for item in page.get("Items", []))
            start = page.get("LastEvaluatedKey")
            if not start:
                return kept

    def forget_failed(self, table: str, sequence: str) -> None:
        self._client.delete_item(
            TableName=self._table,
            Key={"pk": {"S": f"{table}#failed"}, "sk": {"S": failures.sort_key(sequence)}},
        )

    def remember_states(self, entries: list[dict[str, Any]]) -> None:
        """Persist the good state of items the monitor has just protected (``state``), with
        the digest of the state the record left, so that another container can tell
        whether the memory still applies. Images too large for one item are not kept."""
        expires = int(time.time()) + STATE_RETENTION_DAYS * 86400
        with self._resource.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for e in entries:
                good = json.dumps(e["good"], sort_keys=True)
                if len(good) > MAX_IMAGES_BYTES:
                    continue
                batch.put_item(
                    Item={
                        "pk": f"{e['table']}#state",
                        "sk": json.dumps(e["keys"], sort_keys=True),
                        "good": good,
                        "after": e["after"],
                        "expires_at": expires,
                    }
                )

    def recall_states(self, table: str, keys: list[dict[str, Any]]) -> dict[str, tuple[Any, str]]:
        """The persisted (good state, after-digest) of these keys, by ``core.item_id``."""
        found: dict[str, tuple[Any, str]] = {}
        sks = sorted({json.dumps(k, sort_keys=True) for k in keys})
        for start in range(0, len(sks), 100):
            request = {
                self._table: {
                    "Keys": [{"pk": {"S": f"{table}#state"}, "sk": {"S": sk}} for sk in sks[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            while request:
                answer = self._client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self._table, []):
                    ident = core.item_id(table, json.loads(item["sk"]["S"]))
                    found[ident] = (json.loads(item["good"]["S"]), item["after"]["S"])
                request = answer.get("UnprocessedKeys") or None
        return found

    def count(self, table: str, window_start: int, protected: int, first_change_at: float) -> tuple[int, float]:
        """Add ``protected`` to the window's counter; return its total and its first change time."""
        answer = self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"{table}#counter"}, "sk": {"S": str(window_start)}},
            UpdateExpression="ADD #n :n SET #f = if_not_exists(#f, :f), #e = :e",
            ExpressionAttributeNames={"#n": "changes", "#f": "first_change_at", "#e": "expires_at"},
            ExpressionAttributeValues={
                ":n": {"N": str(protected)},
                ":f": {"N": repr(first_change_at)},
                ":e": {"N": str(int(time.time()) + AUDIT_RETENTION_DAYS * 86400)},
            },
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return int(answer["changes"]["N"]), float(answer["first_change_at"]["N"])

    def open_incident(self, table: str, window_start: int, window_seconds: int, detail: dict[str, Any]) -> bool:
        """Record the incident of this window unless this or the previous window has one."""
        previous = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND sk >= :since",
            ExpressionAttributeValues={
                ":pk": {"S": f"{table}#incident"},
                ":since": {"S": str(window_start - window_seconds)},
            },
            ConsistentRead=True,
        )
        if previous.get("Items"):
            return False
        item = {"pk": {"S": f"{table}#incident"}, "sk": {"S": str(window_start)}}
        item.update({k: {"S": str(v)} for k, v in detail.items()})
        try:
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def update_incident(self, table: str, window_start: int, detail: dict[str, Any]) -> None:
        names = {f"#f{i}": k for i, k in enumerate(detail)}
        values = {f":f{i}": {"S": str(v)} for i, v in enumerate(detail.values())}
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": f"{table}#incident"}, "sk": {"S": str(window_start)}},
            UpdateExpression="SET " + ", ".join(f"{n} = {v}" for n, v in zip(names, values, strict=True)),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )


class Escalation:
    """Tier 2: restore the latest recovery point from before the first bad change into a new table."""

    def __init__(self, backup_client: Any, vault: str, role_arn: str) -> None:
        self._backup = backup_client
        self._vault = vault
        self._role = role_arn

    def latest_point_before(self, resource_arn: str, before: float) -> dict[str, Any] | None:
        paginator = self._backup.get_paginator("list_recovery_points_by_backup_vault")
        points = []
        for page in paginator.paginate(
            BackupVaultName=self._vault,
            ByResourceArn=resource_arn,
            ByCreatedBefore=datetime.datetime.fromtimestamp(before, tz=datetime.UTC),
        ):
            points.extend(p for p in page.get("RecoveryPoints", []) if p.get("Status") == "COMPLETED")
        return max(points, key=lambda p: p["CreationDate"], default=None)

    def restore(self, point_arn: str, target_table: str) -> str:
        return self._backup.start_restore_job(
            RecoveryPointArn=point_arn,
            Metadata={"targetTableName": target_table},
            IamRoleArn=self._role,
            ResourceType="DynamoDB",
        )["RestoreJobId"]


def _too_large(err: Exception) -> bool:
    """Whether DynamoDB refused a write because the item exceeds 400 KB."""
    error = getattr(err, "response", {}).get("Error", {})
    return error.get("Code") == "ValidationException" and "Item size has exceeded" in error.get("Message", "")

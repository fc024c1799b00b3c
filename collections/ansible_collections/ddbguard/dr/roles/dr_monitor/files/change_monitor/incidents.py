"""Tier 2 from the monitor: past a threshold of protected changes in a window, one incident.

Protected changes (and changes it could not undo) are counted per window in the audit
table. The first batch that takes a window's count past ``DDBGUARD_ESCALATION_THRESHOLD``
opens one incident for the burst (none if the previous window has one), restores the
latest recovery point created before the burst's first change into a new table, and
prints the line operators act on: what was restored where, and the exact
``playbooks/restore.yml`` command that copies the damaged items back.

A maintenance window means audit only, escalation included: while it is open, the
changes it lets through are not counted and no incident opens (the handler does not
call ``escalate``). An incident already open when a window starts stays as it is: its
restore job goes on into its own new table (it touches nothing live), and the window's
changes do not add to its count.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

from change_monitor import audit, core, log
from change_monitor.config import Policy

DRILL_TAG = "ddbguard:drill"  # on the recovery points the drill makes (ddbguard.dr.dr_drill)


def escalate(policy: Policy, trail: audit.AuditTrail, escalation: Escalation, source_arn: str, at: list[float]) -> int:
    """Count this batch's protected changes; open one incident per burst past the threshold."""
    table = core.table_name(source_arn)
    first = min(at)
    window = policy.escalation_window_seconds
    window_start = int(first // window * window)
    try:
        total, first_change_at = trail.count(table, window_start, len(at), first)
        if total < policy.escalation_threshold:
            return 0
        iso = datetime.datetime.fromtimestamp(first_change_at, tz=datetime.UTC).isoformat()
        detail = {"status": "opened", "first_change_at": iso, "changes": total}
        if not trail.open_incident(table, window_start, window, detail):
            return 0
        point = escalation.latest_point_before(core.table_arn(source_arn), first_change_at)
        if point is None:
            trail.update_incident(table, window_start, {"status": "no-recovery-point"})
            operator_line(table, total, iso, None, None)
            return 1
        target = f"{table}-incident-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime(window_start))}"
        job = escalation.restore(point["RecoveryPointArn"], target)
        trail.update_incident(
            table,
            window_start,
            {
                "status": "restoring",
                "restore_job_id": job,
                "recovery_point_arn": point["RecoveryPointArn"],
                "target_table": target,
            },
        )
        operator_line(table, total, iso, point["RecoveryPointArn"], target)
        return 1
    except Exception as exc:  # noqa: BLE001 - item undo goes on; the operator is told loudly
        log.emit(log.INCIDENT, table, "escalation-failed", error=repr(exc))
        return 0


def operator_line(table: str, changes: int, first_change_at: str, point: str | None, target: str | None) -> None:
    """The incident line an operator (and the alarm on it) acts upon."""
    if point:
        steps = [
            f"Wait for the restore job into {target} (aws backup describe-restore-job).",
            "Compare it with the live table and copy back the damaged items, conditionally: "
            f"ansible-playbook playbooks/restore.yml -e dr_restore_table={table} -e dr_restore_from_table={target} "
            "-e dr_restore_mode=copy-diff (check mode first, with --check, shows what would be copied).",
            "Find the writer that caused the burst before closing the incident.",
        ]
    else:
        steps = [
            f"No recovery point of {table} predates {first_change_at}: restore with PITR to just before it: "
            f"ansible-playbook playbooks/restore.yml -e dr_restore_table={table} -e dr_restore_source=point-in-time "
            f"-e dr_restore_time=<just before {first_change_at}> -e dr_restore_mode=plan"
        ]
    log.emit(
        log.INCIDENT,
        table,
        "opened",
        incident="opened",
        protected_changes=changes,
        first_change_at=first_change_at,
        recovery_point_arn=point,
        restore_target=target,
        next_steps=steps,
    )


class Escalation:
    """Tier 2: restore the latest recovery point from before the first bad change into a new table."""

    def __init__(self, backup_client: Any, vault: str, role_arn: str) -> None:
        self._backup = backup_client
        self._vault = vault
        self._role = role_arn

    def latest_point_before(self, resource_arn: str, before: float) -> dict[str, Any] | None:
        """The newest COMPLETED recovery point created before ``before``, never one the drill
        made (tag ``ddbguard:drill``): those hold canary items, not the table's last good state."""
        paginator = self._backup.get_paginator("list_recovery_points_by_backup_vault")
        points = []
        for page in paginator.paginate(
            BackupVaultName=self._vault,
            ByResourceArn=resource_arn,
            ByCreatedBefore=datetime.datetime.fromtimestamp(before, tz=datetime.UTC),
        ):
            points.extend(p for p in page.get("RecoveryPoints", []) if p.get("Status") == "COMPLETED")
        for point in sorted(points, key=lambda p: p["CreationDate"], reverse=True):
            if DRILL_TAG not in self._tags(point["RecoveryPointArn"]):
                return point
        return None

    def _tags(self, arn: str) -> dict[str, str]:
        tags: dict[str, str] = {}
        kwargs: dict[str, Any] = {"ResourceArn": arn}
        while True:  # botocore has no paginator for ListTags
            page = self._backup.list_tags(**kwargs)
            tags.update(page.get("Tags") or {})
            if not page.get("NextToken"):
                return tags
            kwargs["NextToken"] = page["NextToken"]

    def restore(self, point_arn: str, target_table: str) -> str:
        return self._backup.start_restore_job(
            RecoveryPointArn=point_arn,
            Metadata={"targetTableName": target_table},
            IamRoleArn=self._role,
            ResourceType="DynamoDB",
        )["RestoreJobId"]

"""AWS Backup: an updated plan reports the creation date of its current version.

``UpdateBackupPlan`` creates a new version of the plan. AWS then reports that version's
``CreationDate`` in ``UpdateBackupPlan``, ``GetBackupPlan`` and ``ListBackupPlans``.
ministack records the new version but keeps answering with version 1's date, so a
module or a test that reads the date to tell versions apart (amazon.aws' own
integration target does) sees the plan as never updated. This patch moves the plan's
``CreationDate`` to its newest version's after each update.
"""

from __future__ import annotations

import json
from typing import Any


def follow_newest_version(record: dict[str, Any], response: tuple[int, dict, bytes]) -> tuple[int, dict, bytes]:
    """After a successful update: the plan record and the answer carry the new version's date."""
    status, headers, body = response
    versions = record.get("Versions") or []
    if status != 200 or not versions:
        return response
    record["CreationDate"] = versions[-1]["CreationDate"]
    doc = json.loads(body)
    doc["CreationDate"] = record["CreationDate"]
    return status, headers, json.dumps(doc).encode()


def install() -> None:
    from ministack.services import backup

    if getattr(backup._update_plan, "_localaws_patched", False):
        return
    original = backup._update_plan

    def update_plan(plan_id, body):
        response = original(plan_id, body)
        record = backup._plans.get(plan_id)
        return follow_newest_version(record, response) if record is not None else response

    update_plan._localaws_patched = True
    backup._update_plan = update_plan

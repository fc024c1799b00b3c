"""AWS Backup: ``GetBackupSelection`` reports the four condition lists, even when empty.

AWS answers ``Conditions: {StringEquals: [], StringNotEquals: [], StringLike: [],
StringNotLike: []}`` for a selection created without conditions. ministack answers
``Conditions: {}``. ``amazon.aws.backup_selection`` compares the four lists with what the
task asked for, so against ``{}`` it sees a difference on every run: it deletes and
re-creates the selection (a new ``SelectionId``) and reports a change, and
``amazon.aws.backup_selection_info`` lacks the keys. This patch fills in the missing lists.
"""

from __future__ import annotations

import json

CONDITION_KEYS = ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike")


def with_condition_lists(response: tuple[int, dict, bytes]) -> tuple[int, dict, bytes]:
    """A GetBackupSelection answer whose ``Conditions`` holds all four lists, as AWS's does."""
    status, headers, body = response
    if status != 200:
        return response
    doc = json.loads(body)
    selection = doc.get("BackupSelection")
    if selection is None:
        return response
    conditions = selection.get("Conditions") or {}
    selection["Conditions"] = {key: list(conditions.get(key) or []) for key in CONDITION_KEYS}
    return status, headers, json.dumps(doc).encode()


def install() -> None:
    from ministack.services import backup

    if getattr(backup._get_selection, "_localaws_patched", False):
        return
    original = backup._get_selection

    def get_selection(plan_id, selection_id):
        return with_condition_lists(original(plan_id, selection_id))

    get_selection._localaws_patched = True
    backup._get_selection = get_selection

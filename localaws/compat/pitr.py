"""DynamoDB point-in-time recovery: keep and report the recovery period.

AWS stores ``RecoveryPeriodInDays`` (1-35, default 35) given to
``UpdateContinuousBackups`` and returns it in ``DescribeContinuousBackups`` while PITR
is on. ministack drops it, so a module that compares the period sees a change on every
run. This patch stores the period on the table record (persisted with the table) and
returns it as AWS does.
"""

from __future__ import annotations

import json
from typing import Any

_PERIOD_KEY = "_localaws_pitr_recovery_period_in_days"
DEFAULT_PERIOD = 35


def _validation_error(message: str):
    from ministack.core.responses import error_response_json

    return error_response_json("ValidationException", message, 400)


def _with_period(response, table: dict[str, Any] | None):
    """Add the stored period to a ContinuousBackupsDescription response when PITR is on."""
    status, headers, body = response
    if status != 200 or table is None:
        return response
    doc = json.loads(body)
    pitr = doc.get("ContinuousBackupsDescription", {}).get("PointInTimeRecoveryDescription", {})
    if pitr.get("PointInTimeRecoveryStatus") == "ENABLED":
        pitr["RecoveryPeriodInDays"] = table.get(_PERIOD_KEY, DEFAULT_PERIOD)
    return status, headers, json.dumps(doc).encode()


def install() -> None:
    from ministack.services import dynamodb as ddb

    if getattr(ddb._update_continuous_backups, "_localaws_patched", False):
        return
    original_update = ddb._update_continuous_backups
    original_describe = ddb._describe_continuous_backups

    def update(data: dict[str, Any]):
        spec = data.get("PointInTimeRecoverySpecification", {})
        period = spec.get("RecoveryPeriodInDays")
        if period is not None and not (isinstance(period, int) and 1 <= period <= 35):
            return _validation_error(
                f"1 validation error detected: Value '{period}' at "
                "'pointInTimeRecoverySpecification.recoveryPeriodInDays' failed to satisfy "
                "constraint: Member must have value between 1 and 35"
            )
        response = original_update(data)
        table = ddb._tables.get(ddb._normalize_table_name(data.get("TableName")))
        if response[0] == 200 and table is not None:
            if spec.get("PointInTimeRecoveryEnabled"):
                table[_PERIOD_KEY] = period or table.get(_PERIOD_KEY) or DEFAULT_PERIOD
            else:
                table.pop(_PERIOD_KEY, None)
        return _with_period(response, table)

    def describe(data: dict[str, Any]):
        table = ddb._tables.get(ddb._normalize_table_name(data.get("TableName")))
        return _with_period(original_describe(data), table)

    update._localaws_patched = True
    ddb._update_continuous_backups = update
    ddb._describe_continuous_backups = describe

"""DynamoDB point-in-time recovery: restore a table as it was at the time asked.

AWS restores ``RestoreTableToPointInTime`` to the table's items as they were at
``RestoreDateTime`` (or at ``LatestRestorableDateTime``), within the restorable window:
from the later of the time PITR was turned on and now minus the recovery period, to now.
A time outside it fails with ``InvalidRestoreTimeException``; a table without PITR with
``PointInTimeRecoveryUnavailableException``. ministack copies the *current* items whatever
the time, and reports both window ends as "now".

This patch keeps, for each table while PITR is on, a base copy of its items (taken when
PITR was turned on) and a log of every item write since: time, key, new item (or none for
a delete). It hooks ministack's two storage primitives, ``_set_item`` and ``_remove_item``,
which every write path goes through, so it works for tables with or without a stream. A
restore rebuilds the items at T from the base and the log; log entries older than the
window are folded into the base. Both live on the table record, so they survive a restart.

Not emulated: AWS reports ``LatestRestorableDateTime`` about five minutes behind now;
here it is now, so a drill need not wait (docs/emulator.md).

``LOCALAWS_PITR_AS_OF=0`` switches the rebuild off (a restore then copies the current
items, as ministack does): the tests use it to prove that the drill notices a restore
that does not return the table as it was.
"""

from __future__ import annotations

import bisect
import copy
import json
import os
import time
from typing import Any

_KEY = "_localaws_pitr_history"
_PERIOD_KEY = "_localaws_pitr_recovery_period_in_days"  # kept by localaws.compat.pitr
DAY = 86400.0
COMPACT_EVERY = 1000  # log entries between two foldings of old entries into the base


def new_history(items: dict[Any, dict[Any, Any]], now: float) -> dict[str, Any]:
    """The record of a table whose PITR was just turned on."""
    return {"enabled_at": now, "base_at": now, "base": copy.deepcopy(items), "log": []}


def record(history: dict[str, Any], pk: Any, sk: Any, item: dict | None, now: float) -> None:
    history["log"].append([now, pk, sk, copy.deepcopy(item)])


def window(history: dict[str, Any], period_days: int, now: float) -> tuple[float, float]:
    """(earliest, latest) restorable times, as AWS computes them (latest: see module docstring)."""
    return max(history["enabled_at"], now - period_days * DAY), now


def items_at(history: dict[str, Any], moment: float) -> dict[Any, dict[Any, Any]]:
    """The table's items as they were at ``moment`` (a time within the window)."""
    items = copy.deepcopy(history["base"])
    for at, pk, sk, item in history["log"]:
        if at > moment:
            break
        if item is None:
            items.get(pk, {}).pop(sk, None)
            if pk in items and not items[pk]:
                del items[pk]
        else:
            items.setdefault(pk, {})[sk] = copy.deepcopy(item)
    return items


def compact(history: dict[str, Any], horizon: float) -> None:
    """Fold the log entries written at or before ``horizon`` into the base. The log is in
    write order, so the old entries are found by bisection: a write that triggers a
    compaction with nothing to fold pays no scan of the whole log."""
    old = bisect.bisect_right(history["log"], horizon, key=lambda entry: entry[0])
    if not old:
        return
    history["base"] = items_at(history, horizon)
    history["base_at"] = horizon
    history["log"] = history["log"][old:]


def _error(code: str, message: str):
    from ministack.core.responses import error_response_json

    return error_response_json(code, message, 400)


def install() -> None:
    from ministack.services import dynamodb as ddb

    if getattr(ddb._set_item, "_localaws_pitr_history", False):
        return
    original_set, original_remove = ddb._set_item, ddb._remove_item
    original_update, original_describe = ddb._update_continuous_backups, ddb._describe_continuous_backups
    original_restore = ddb._restore_table_to_point_in_time

    def _log(table: dict, pk: Any, sk: Any, item: dict | None) -> None:
        history = table.get(_KEY)
        if history is None:
            return
        now = time.time()
        record(history, pk, sk, item, now)
        if len(history["log"]) % COMPACT_EVERY == 0:
            compact(history, now - table.get(_PERIOD_KEY, 35) * DAY)

    def set_item(table, pk_val, sk_val, item):
        old = original_set(table, pk_val, sk_val, item)
        _log(table, pk_val, sk_val, item)
        return old

    def remove_item(table, pk_val, sk_val):
        old = original_remove(table, pk_val, sk_val)
        if old is not None:
            _log(table, pk_val, sk_val, None)
        return old

    def update_continuous_backups(data: dict[str, Any]):
        name = ddb._normalize_table_name(data.get("TableName"))
        response = original_update(data)
        table = ddb._tables.get(name)
        if response[0] == 200 and table is not None:
            enabled = (data.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled")
            if enabled and _KEY not in table:
                table[_KEY] = new_history(dict(table.get("items", {})), time.time())
            elif not enabled:
                table.pop(_KEY, None)
        return response

    def describe_continuous_backups(data: dict[str, Any]):
        response = original_describe(data)
        table = ddb._tables.get(ddb._normalize_table_name(data.get("TableName")))
        if response[0] != 200 or table is None or _KEY not in table:
            return response
        status, headers, body = response
        doc = json.loads(body)
        pitr = doc["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        earliest, latest = window(table[_KEY], table.get(_PERIOD_KEY, 35), time.time())
        pitr["EarliestRestorableDateTime"], pitr["LatestRestorableDateTime"] = earliest, latest
        return status, headers, json.dumps(doc).encode()

    def restore_table_to_point_in_time(data: dict[str, Any]):
        source = data.get("SourceTableName") or ddb._normalize_table_name(data.get("SourceTableArn") or "")
        table = ddb._tables.get(source)
        if table is None:
            return original_restore(data)  # ministack's own "not found" answer
        history = table.get(_KEY)
        if history is None:
            return _error(
                "PointInTimeRecoveryUnavailableException", f"Point in time recovery is not enabled for table '{source}'"
            )
        now = time.time()
        earliest, latest = window(history, table.get(_PERIOD_KEY, 35), now)
        moment = latest if data.get("UseLatestRestorableTime") else data.get("RestoreDateTime")
        if moment is None:
            return _error("ValidationException", "Either RestoreDateTime or UseLatestRestorableTime must be given")
        moment = float(moment)
        if not earliest <= moment <= latest:
            return _error(
                "InvalidRestoreTimeException",
                f"Restore time is outside the restorable window of table {source}: {earliest:.3f} to {latest:.3f}",
            )
        response = original_restore(data)
        target = ddb._tables.get(data.get("TargetTableName"))
        if response[0] == 200 and target is not None and os.environ.get("LOCALAWS_PITR_AS_OF", "1") != "0":
            from collections import defaultdict

            target["items"] = defaultdict(dict, items_at(history, moment))
            ddb._items_replaced(target)
        return response

    set_item._localaws_pitr_history = True
    ddb._set_item, ddb._remove_item = set_item, remove_item
    ddb._update_continuous_backups = update_continuous_backups
    ddb._describe_continuous_backups = describe_continuous_backups
    ddb._restore_table_to_point_in_time = restore_table_to_point_in_time

"""DynamoDB TTL deletes: write the stream record that AWS writes.

When TTL deletes an expired item, AWS writes a REMOVE stream record whose
``userIdentity`` is ``{"type": "Service", "principalId": "dynamodb.amazonaws.com"}``.
Stream consumers rely on it to tell expiry from a delete. ministack's TTL reaper removes
expired items without any stream record. This patch:

- wraps ministack's ``_remove_item`` so that a removal made by a TTL sweep emits that
  REMOVE record, with the service identity;
- runs an extra sweep every ``LOCALAWS_TTL_SWEEP_SECONDS`` (default 60, as ministack).
  Its removals go through the same path, so tests need not wait a minute. AWS gives no
  timing guarantee for TTL deletes; any period is within it.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
_SWEEPER_NAME = "localaws-ttl-sweeper"
_REAPER_NAMES = {"dynamodb-ttl-reaper", _SWEEPER_NAME}


def expired(item: dict[str, Any], attribute: str, now: float) -> bool:
    """Whether ``item`` holds a numeric TTL attribute at or before ``now``, as AWS reads it."""
    value = (item.get(attribute) or {}).get("N")
    try:
        return value is not None and float(value) <= now
    except ValueError:
        return False


def install() -> None:
    from ministack.core.responses import _request_account_id, _request_region
    from ministack.services import dynamodb as ddb

    if getattr(ddb._remove_item, "_localaws_patched", False):
        return
    original_remove = ddb._remove_item

    def remove_item(table, pk_val, sk_val):
        old = original_remove(table, pk_val, sk_val)
        if old is not None and threading.current_thread().name in _REAPER_NAMES:
            account, region = _scope_of(table)
            tokens = (_request_account_id.set(account), _request_region.set(region))
            try:
                name = table.get("TableName")
                before = len(ddb._stream_records.get(name) or [])
                ddb._emit_stream_event(name, "REMOVE", old, None, replicate=False)
                records = ddb._stream_records.get(name) or []
                if len(records) > before:
                    records[-1]["userIdentity"] = dict(TTL_IDENTITY)
            finally:
                _request_account_id.reset(tokens[0])
                _request_region.reset(tokens[1])
        return old

    def _scope_of(table) -> tuple[str, str]:
        """Account and region from the table's ARN (sweeps run outside any request)."""
        parts = table.get("TableArn", "").split(":")
        return (parts[4], parts[3]) if len(parts) > 5 else (ddb.get_account_id(), ddb.get_region())

    def sweep_once(now: float) -> None:
        with ddb._lock:
            for (_account, _region, _name), setting in list(ddb._ttl_settings.all_items()):
                attribute = setting.get("AttributeName") if setting.get("TimeToLiveStatus") == "ENABLED" else None
                table = ddb._tables.get_scoped(_account, _region, _name) if attribute else None
                if not table:
                    continue
                for pk_val, sk_map in list(table["items"].items()):
                    for sk_val, item in list(sk_map.items()):
                        if expired(item, attribute, now):
                            ddb._remove_item(table, pk_val, sk_val)

    def sweeper() -> None:
        period = float(os.environ.get("LOCALAWS_TTL_SWEEP_SECONDS", "60"))
        while True:
            time.sleep(period)
            try:
                sweep_once(time.time())
            except Exception:  # noqa: BLE001 - a bad item must not stop the sweeper
                ddb.logger.exception("localaws: TTL sweep failed")

    remove_item._localaws_patched = True
    ddb._remove_item = remove_item
    threading.Thread(target=sweeper, daemon=True, name=_SWEEPER_NAME).start()

"""DynamoDB: ``UpdateTimeToLive`` refuses what AWS refuses.

AWS allows one TTL change per table within a fixed interval (an hour): a second change
within it fails with ``ValidationException: Time to live has been modified multiple
times within a fixed interval``. Enabling TTL that is already enabled fails too
(``TimeToLive is already enabled``), and so does enabling it on another attribute while
it is active (``TimeToLive is active on a different AttributeName``). ministack accepts
them all, so a role that toggles TTL (disable, then enable on another attribute) would
pass here and fail on AWS. This patch refuses them as AWS does. The interval is
``LOCALAWS_TTL_CHANGE_INTERVAL_SECONDS`` (default 3600).
"""

from __future__ import annotations

import os
import time
from typing import Any

_CHANGED_AT_KEY = "_localaws_ttl_changed_at"
INTERVAL_SECONDS = 3600.0


def refusal(
    current: dict[str, Any], spec: dict[str, Any], changed_at: float | None, now: float, interval: float
) -> str | None:
    """Why AWS refuses this TTL update, or None when it accepts it."""
    enabled_now = current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
    if spec.get("Enabled") and enabled_now:
        if current.get("AttributeName") == spec.get("AttributeName"):
            return "TimeToLive is already enabled"
        return "TimeToLive is active on a different AttributeName"
    if not spec.get("Enabled") and not enabled_now:
        return "TimeToLive is already disabled"
    if changed_at is not None and now - changed_at < interval:
        return "Time to live has been modified multiple times within a fixed interval"
    return None


def install() -> None:
    from ministack.core.responses import error_response_json
    from ministack.services import dynamodb as ddb

    if getattr(ddb._update_ttl, "_localaws_patched", False):
        return
    original = ddb._update_ttl

    def update_ttl(data: dict[str, Any]):
        name = ddb._normalize_table_name(data.get("TableName"))
        table = ddb._tables.get(name)
        if table is None:
            return original(data)
        current = ddb._ttl_settings.get(name, {"TimeToLiveStatus": "DISABLED"})
        interval = float(os.environ.get("LOCALAWS_TTL_CHANGE_INTERVAL_SECONDS", INTERVAL_SECONDS))
        reason = refusal(
            current, data.get("TimeToLiveSpecification") or {}, table.get(_CHANGED_AT_KEY), time.time(), interval
        )
        if reason:
            return error_response_json("ValidationException", reason, 400)
        response = original(data)
        if response[0] == 200:
            table[_CHANGED_AT_KEY] = time.time()  # kept with the table, so it survives a restart
        return response

    update_ttl._localaws_patched = True
    ddb._update_ttl = update_ttl

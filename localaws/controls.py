"""Controls of the local target for tests, which AWS does not have (``docs/emulator.md``,
settings of the local target). Installed in the emulator process by ``localaws.server``.

``POST /_localaws/pitr/age?table=<name>&seconds=<n>[&account=<id>&region=<region>]`` moves
a table's point-in-time history (``localaws.compat.pitr_history``) ``n`` seconds into the
past: the time PITR was turned on, and every write it logged. The history stays what it
was, only earlier, so that an incremental export (whose window is at least 15 minutes) can
be taken of writes a test has just made, without waiting. Nothing else moves: the stream's
records keep their times. Like ministack's own ``/_ministack/reset``, it is served on
loopback only and takes no credentials.

``POST /_localaws/region/outage?region=<region>&down=<true|false>`` takes a region down, or
brings it back: while it is down, every service request signed for it but IAM's answers 503
(``localaws.compat.region_outage``), as a region outage looks to a client of AWS.

``POST /_localaws/account/isolation?account=<12 digits>&isolated=<true|false>`` denies every
principal of an account (or ends it): each request it signs answers 403
(``localaws.compat.account_isolation``), as a lost or compromised account cut off with a
deny-all service control policy.
"""

from __future__ import annotations

import json
import re

from localaws.compat import account_isolation, region_outage

_HISTORY_KEY = "_localaws_pitr_history"  # kept by localaws.compat.pitr_history


def age(history: dict, seconds: float) -> None:
    history["enabled_at"] -= seconds
    history["base_at"] -= seconds
    for entry in history["log"]:
        entry[0] -= seconds


def outage(param: dict):
    region, down = param.get("region", ""), param.get("down", "").lower()
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region) or down not in ("true", "false"):
        return _answer(400, {"error": "region must be a region name and down true or false"})
    return _answer(200, {"down": region_outage.set_down(region, down == "true")})


def isolation(param: dict):
    account, isolated = param.get("account", ""), param.get("isolated", "").lower()
    if not re.fullmatch(r"\d{12}", account) or isolated not in ("true", "false"):
        return _answer(400, {"error": "account must be 12 digits and isolated true or false"})
    return _answer(200, {"isolated": account_isolation.set_isolated(account, isolated == "true")})


def _answer(status: int, doc: dict):
    return status, {"Content-Type": "application/json"}, json.dumps(doc).encode()


def install() -> None:
    from ministack import app
    from ministack.services import dynamodb as ddb

    if getattr(app._handle_admin_reset, "_localaws_controls", False):
        return
    original = app._handle_admin_reset

    async def handle(path: str, method: str, query_params: dict):
        param = {k: (v[0] if isinstance(v, list) else v) for k, v in query_params.items()}
        if path == "/_localaws/region/outage" and method == "POST":
            return outage(param)
        if path == "/_localaws/account/isolation" and method == "POST":
            return isolation(param)
        if path != "/_localaws/pitr/age" or method != "POST":
            return await original(path, method, query_params)
        try:
            seconds = float(param.get("seconds", ""))
        except ValueError:
            return _answer(400, {"error": "seconds must be a number"})
        account, region = param.get("account", "000000000000"), param.get("region", "us-east-1")
        with ddb._lock:
            table = ddb._tables.get_scoped(account, region, param.get("table", ""))
            history = (table or {}).get(_HISTORY_KEY)
            if history is None:
                return _answer(404, {"error": f"no table {param.get('table')!r} with point-in-time recovery on"})
            age(history, seconds)
        return _answer(200, {"aged": param["table"], "seconds": seconds})

    handle._localaws_controls = True
    app._handle_admin_reset = handle

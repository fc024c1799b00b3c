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

``POST /_localaws/backup/run-plan?plan=<name>[&account=<id>&region=<region>]`` runs the
plan's next scheduled run now: its backup jobs, then its copies
(``localaws.compat.backup_plan_runs``, row 35), where on AWS it comes at the rule's
schedule.

``POST /_localaws/backup/run-restore-test?plan=<name>[&account=<id>&region=<region>]`` runs
the restore testing plan's next scheduled run now (``&resource=<ARN>``: for that resource only):
its restore jobs, then their ``Restore Job State Change`` events
(``localaws.compat.backup_restore_testing``, row 38); ``&end_windows=true`` ends the
validation window of its validated jobs instead: their restored tables are deleted.

``POST /_localaws/backup/corrupt-copies?vault=<vault ARN>&key_prefix=<text>[&corrupt=false]``
makes every copy into that vault from now on come out corrupted: each item whose partition
key (a string) starts with ``key_prefix`` gets an attribute it did not have. A fault, as a
copy damaged in transit or at rest would be, for the tests that prove the drill sees it.
"""

from __future__ import annotations

import json
import re

from localaws.compat import account_isolation, backup_copy_jobs, region_outage

_HISTORY_KEY = "_localaws_pitr_history"  # kept by localaws.compat.pitr_history
CORRUPTED = "_localaws_corrupted"
_CORRUPT_VAULTS: dict[str, str] = {}  # vault ARN -> key prefix of the items its copies corrupt


def corrupt(snapshot: dict, key_prefix: str) -> int:
    """Add an attribute to each item of a backup's snapshot whose partition key starts with
    ``key_prefix``; the number of items changed."""
    changed = 0
    for partition, items in snapshot.items():
        if not str(partition).startswith(key_prefix):
            continue
        for item in items.values():
            item[CORRUPTED] = {"S": "corrupted by the local AWS"}
            changed += 1
    return changed


def _after_copy(vault_arn: str, backup_arn: str, account: str, region: str) -> None:
    from ministack.core.responses import request_scope
    from ministack.services import dynamodb as ddb

    prefix = _CORRUPT_VAULTS.get(vault_arn)
    if prefix is None:
        return
    with request_scope(account, region):
        record = ddb._backups.get(backup_arn)
        if record is not None:
            corrupt(record.get("_items_snapshot") or {}, prefix)


def corrupt_copies(param: dict):
    vault, prefix, on = param.get("vault", ""), param.get("key_prefix", ""), param.get("corrupt", "true").lower()
    if not re.fullmatch(r"arn:aws[a-z-]*:backup:[a-z0-9-]+:\d{12}:backup-vault:[^:/]+", vault) or on not in (
        "true",
        "false",
    ):
        return _answer(400, {"error": "vault must be a backup vault ARN and corrupt true or false"})
    if on == "true":
        _CORRUPT_VAULTS[vault] = prefix
    else:
        _CORRUPT_VAULTS.pop(vault, None)
    return _answer(200, {"corrupted": sorted(_CORRUPT_VAULTS)})


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


def run_plan(param: dict):
    from ministack.core.responses import request_scope
    from ministack.services import backup as backup_module

    from localaws.compat import backup as backup_compat
    from localaws.compat import backup_plan_runs

    name = param.get("plan", "")
    account, region = param.get("account", "000000000000"), param.get("region", "us-east-1")
    with request_scope(account, region):
        plans = [p for p in backup_module._plans.values() if p.get("BackupPlanName") == name]
        if len(plans) != 1:
            return _answer(404, {"error": f"{len(plans)} plans named {name!r} in {account} {region}"})
        selections = [
            s for s in backup_module._selections.values() if s.get("BackupPlanId") == plans[0]["BackupPlanId"]
        ]
        compat = backup_compat.BackupCompat(
            backup_compat.STORE, backup_module._vaults, backup_compat.ops(), account, region
        )
        return _answer(200, {"runs": backup_plan_runs.run_now(compat, plans[0], selections)})


def run_restore_test(param: dict):
    from ministack.core.responses import request_scope
    from ministack.services import backup as backup_module
    from ministack.services import eventbridge

    from localaws.compat import backup as backup_compat
    from localaws.compat import backup_restore_testing

    name = param.get("plan", "")
    account, region = param.get("account", "000000000000"), param.get("region", "us-east-1")
    with request_scope(account, region):
        plan = backup_compat.STORE.restore_testing_plans.get(f"{account}|{region}|{name}")
        if plan is None:
            return _answer(404, {"error": f"no restore testing plan named {name!r} in {account} {region}"})
        compat = backup_compat.BackupCompat(
            backup_compat.STORE, backup_module._vaults, backup_compat.ops(), account, region
        )

        def emit(entry: dict) -> None:
            eventbridge._put_events({"Entries": [entry]}, allow_aws_source=True)

        if param.get("end_windows", "false") == "true":
            return _answer(200, {"ended": backup_restore_testing.end_windows(compat, plan, _delete_table)})
        return _answer(200, {"runs": backup_restore_testing.run_now(compat, plan, emit, param.get("resource", ""))})


def _delete_table(name: str) -> bool:
    """Deletes a table of the request's account and region as AWS Backup would (no caller)."""
    from ministack.services import dynamodb as ddb

    record = ddb._tables.get(name)
    if record is None:
        return False
    record["DeletionProtectionEnabled"] = False
    status = ddb._delete_table({"TableName": name})[0]
    return status == 200


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
        if path == "/_localaws/backup/run-plan" and method == "POST":
            return run_plan(param)
        if path == "/_localaws/backup/run-restore-test" and method == "POST":
            return run_restore_test(param)
        if path == "/_localaws/backup/corrupt-copies" and method == "POST":
            return corrupt_copies(param)
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

    backup_copy_jobs.AFTER_COPY.append(_after_copy)
    handle._localaws_controls = True
    app._handle_admin_reset = handle

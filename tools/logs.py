"""`make logs`: follow the change monitor's decisions for the inventory's tables.

    make logs                                  # every table, from 10 minutes ago, following
    make logs OUTCOME=failed                   # only failed decisions
    make logs KEY=order#42 TABLE=orders        # one item (its partition key value)
    python tools/logs.py --inventory inventories/aws-example --since 60 --no-follow

The counterpart of tailing each `/aws/lambda/<table>-change-monitor` log group with the
AWS CLI, keeping only the decision lines (collection module_utils ``decisions`` parses
them, as the drill does). The local inventory reads the local AWS on $LOCAL_AWS_PORT.

What it reads and when it waits is said on standard error (decisions go to standard
output). Each page of events is printed as it arrives; the service keeps only the
monitor's JSON lines (a filter pattern), and each line is checked again here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

from target import client_factory, inventory, module_utils

decisions = module_utils("decisions")  # the monitor's decision lines, parsed as the drill does

# The monitor's decision lines are JSON objects with an outcome; the service keeps only
# those (CloudWatch Logs JSON filter pattern: the field exists), and parse() checks again.
DECISIONS = '{ $.outcome = "*" }'


def client(variables: dict):
    # The local AWS evaluates IAM: read the logs as its read-only principal.
    return client_factory(variables, "auditor")("logs")


def matches(decision: dict, key: str | None) -> bool:
    if not key:
        return True
    values = [v.get("S") or v.get("N") for v in (decision.get("key") or {}).values()]
    return key in values or key == json.dumps(decision.get("key"), sort_keys=True)


def line(table: str, at_ms: int, decision: dict) -> str:
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at_ms / 1000))
    what = decision.get("event") or decision.get("operation") or decision.get("kind") or ""
    detail = " ".join(str(decision.get(k) or "") for k in ("action", "reason")).strip()
    extra = f" error={decision['error']}" if decision.get("error") else ""
    return f"{when} {table} {what} {json.dumps(decision.get('key'))} {detail} -> {decision.get('outcome')}{extra}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inventory", default=os.environ.get("INVENTORY", "inventories/local"))
    parser.add_argument("--table", default=os.environ.get("TABLE") or None, help="one table (default: all)")
    parser.add_argument("--outcome", default=os.environ.get("OUTCOME") or None, help="applied, failed, superseded, ...")
    parser.add_argument("--key", default=os.environ.get("KEY") or None, help="a partition key value, or a key in JSON")
    parser.add_argument("--since", type=float, default=float(os.environ.get("SINCE", "10")), help="minutes back")
    parser.add_argument("--no-follow", action="store_true", help="print what is there and stop")
    args = parser.parse_args(argv)

    variables = inventory(args.inventory)
    tables = [t["name"] for t in variables.get("ddbguard_tables", [])]
    if args.table:
        tables = [t for t in tables if t == args.table] or [args.table]
    logs = client(variables)
    since = time.time() - args.since * 60
    start = {t: int(since * 1000) for t in tables}
    say(
        f"Reading the decisions of {', '.join(tables) or 'no table'} since "
        f"{time.strftime('%H:%M:%SZ', time.gmtime(since))} (--since {args.since:g} minutes)"
        + ("." if args.no_follow else "; then following (Ctrl-C stops; --no-follow prints what is there and stops).")
    )
    missing: set[str] = set()
    waiting = False
    while True:
        printed = 0
        for table in tables:
            group = f"/aws/lambda/{table}-change-monitor"
            try:
                printed += follow(logs, table, group, start, args)
            except logs.exceptions.ResourceNotFoundException:
                if table not in missing:
                    say(f"{table}: no log group {group} yet (is its change monitor deployed?)")
                    missing.add(table)
        if args.no_follow:
            return 0
        if printed:
            waiting = False
        elif not waiting:
            say("Waiting for new decisions (checked every 2 s).")
            waiting = True
        time.sleep(2)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def follow(logs, table: str, group: str, start: dict[str, int], args) -> int:
    """Print the table's decisions after start[table], a page at a time; move start on."""
    printed = 0
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, startTime=start[table], filterPattern=DECISIONS
    )
    for page in pages:
        for event in sorted(page.get("events", []), key=lambda e: e["timestamp"]):
            start[table] = max(start[table], event["timestamp"] + 1)
            decision = decisions.parse(event.get("message", ""))
            if decision is None or not matches(decision, args.key):
                continue
            if args.outcome and decision.get("outcome") != args.outcome:
                continue
            print(line(table, event["timestamp"], decision), flush=True)
            printed += 1
    return printed


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)

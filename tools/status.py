"""`make status`: one line per protected table, read on the target, and what is wrong.

    make status                                   # the local inventory
    make status ARGS=--json                       # for machines
    python tools/status.py --inventory inventories/aws-example

For each table of the inventory's ``ddbguard_tables`` it reads, with boto3 and nothing
else, what protects it: the stream (NEW_AND_OLD_IMAGES), point-in-time recovery and its
latest restorable time, deletion protection, the change monitor (its mode, and whether it
starts: the monitor's ``health`` operation, which writes nothing), its stream trigger
(enabled, on the table's current stream) and iterator age, the table's selection in the
backup plan, its newest recovery point and the newest copy in the DR region, and the
alarms of the table in ALARM; once for all, the backup vault's access policy. It exits 1
when anything is off, naming the table and the reason, and 2 when it cannot read the
inventory or the target.

Reads only, except the monitor's health operation (lambda:InvokeFunction on the monitors).
On the local inventory it reads as the local AWS's read-only auditor and asks the health
operation as its operator (who holds that right); on AWS both are the standard
credential chain: a read-only policy and lambda:InvokeFunction on the monitors suffice.
The tables are read in parallel.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from target import client_factory, defaults_of, inventory, module_utils

recovery = module_utils("backup")  # the collection's decisions about recovery points

# A recovery point older than two of the plan's runs and its windows: one run was missed.
DEFAULT_MAX_RECOVERY_POINT_AGE_HOURS = 26.0


def literal(variables: dict, name: str, fallback: Any) -> Any:
    """An inventory variable status can use as written (no template in it)."""
    value = variables.get(name, fallback)
    if isinstance(value, str) and "{{" in value:
        raise SystemExit(f"status: {name} is a template ({value}); give it as a literal value in the inventory")
    return value


def ago(when: dt.datetime | None, now: float) -> str:
    if when is None:
        return "never"
    seconds = max(0, int(now - when.timestamp()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds / 3600:.1f} h ago"


def error(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code')}: {err.get('Message')}"
    return str(exc)


def canary_rule(function: str) -> str:
    """The canary rule's name, as dr_monitor names it (EventBridge stops at 64 characters)."""
    if len(function) <= 57:
        return f"{function}-canary"
    return f"{function[:40]}-{hashlib.sha1(function.encode()).hexdigest()[:8]}-canary"  # noqa: S324 - a name


class Reader:
    """The shared facts, read once, and one table's line."""

    def __init__(self, variables: dict, client, invoker) -> None:
        backup = defaults_of("dr_backup")
        self.client = client
        self.invoker = invoker
        self.vault = literal(variables, "dr_backup_vault_name", backup["dr_backup_vault_name"])
        self.plan = literal(variables, "dr_backup_plan_name", backup["dr_backup_plan_name"])
        self.dr_region = literal(variables, "dr_backup_dr_region", backup["dr_backup_dr_region"])
        self.function_name = variables.get("dr_monitor_function_name")
        testing = defaults_of("dr_restore_testing")
        self.restore_testing = literal(variables, "dr_restore_testing_enabled", testing["dr_restore_testing_enabled"])
        self.restore_plan = literal(variables, "dr_restore_testing_plan_name", testing["dr_restore_testing_plan_name"])
        self.validator = literal(
            variables, "dr_restore_testing_function_name", testing["dr_restore_testing_function_name"]
        )
        self.max_age_hours = float(
            literal(variables, "ddbguard_status_max_recovery_point_age_hours", DEFAULT_MAX_RECOVERY_POINT_AGE_HOURS)
        )
        self.now = time.time()

    def shared(self) -> dict[str, Any]:
        """The vault policy and the plan's selections (table ARN -> selection name)."""
        out: dict[str, Any] = {"vault": self.vault, "plan": self.plan, "problems": [], "selections": {}}
        backup = self.client("backup")
        try:
            policy = json.loads(backup.get_backup_vault_access_policy(BackupVaultName=self.vault)["Policy"])
            denied = {
                action
                for statement in policy.get("Statement", [])
                if statement.get("Effect") == "Deny"
                for action in (
                    [statement.get("Action")]
                    if isinstance(statement.get("Action"), str)
                    else statement.get("Action") or []
                )
            }
            out["vault_policy"] = "denies " + ", ".join(sorted(denied)) if denied else "denies nothing"
            if "backup:DeleteRecoveryPoint" not in denied:
                out["problems"].append(
                    f"vault {self.vault}: its access policy does not deny backup:DeleteRecoveryPoint"
                )
        except ClientError as exc:
            out["vault_policy"] = "missing"
            out["problems"].append(
                f"vault {self.vault}: no access policy ({error(exc)}): anyone allowed may delete its recovery points"
            )
        alarms = self.client("cloudwatch").describe_alarms(AlarmNamePrefix=f"{self.vault}-", StateValue="ALARM")
        for alarm in alarms["MetricAlarms"]:
            out["problems"].append(f"alarm {alarm['AlarmName']} is in ALARM: {alarm.get('StateReason', '')[:160]}")
        try:
            plans = [p for p in backup.list_backup_plans()["BackupPlansList"] if p["BackupPlanName"] == self.plan]
            if not plans:
                out["problems"].append(f"plan {self.plan}: not found")
            for plan in plans:
                for page in backup.get_paginator("list_backup_selections").paginate(BackupPlanId=plan["BackupPlanId"]):
                    for item in page["BackupSelectionsList"]:
                        selection = backup.get_backup_selection(
                            BackupPlanId=plan["BackupPlanId"], SelectionId=item["SelectionId"]
                        )["BackupSelection"]
                        for arn in selection.get("Resources") or []:
                            out["selections"][arn] = selection["SelectionName"]
        except (ClientError, BotoCoreError) as exc:
            out["problems"].append(f"plan {self.plan}: cannot be read ({error(exc)})")
        self._restore_testing(out)
        return out

    def _restore_testing(self, out: dict[str, Any]) -> None:
        """The restore testing plan (dr_restore_testing): its selections, its rule, its alarms and
        the newest test of each table (table ARN -> the restore job)."""
        out["restore_testing"] = {"plan": self.restore_plan, "tables": [], "newest": {}}
        if str(self.restore_testing).lower() in ("false", "no", "0"):
            out["restore_testing"]["plan"] = None
            return
        backup = self.client("backup")
        try:
            plan = backup.get_restore_testing_plan(RestoreTestingPlanName=self.restore_plan)["RestoreTestingPlan"]
            names = backup.list_restore_testing_selections(RestoreTestingPlanName=self.restore_plan)
            for item in names["RestoreTestingSelections"]:
                selection = backup.get_restore_testing_selection(
                    RestoreTestingPlanName=self.restore_plan,
                    RestoreTestingSelectionName=item["RestoreTestingSelectionName"],
                )["RestoreTestingSelection"]
                out["restore_testing"]["tables"] += selection.get("ProtectedResourceArns") or []
            jobs = backup.get_paginator("list_restore_jobs").paginate(
                ByRestoreTestingPlanArn=plan["RestoreTestingPlanArn"]
            )
            for job in (job for page in jobs for job in page["RestoreJobs"]):
                source = job.get("SourceResourceArn") or ""
                known = out["restore_testing"]["newest"].get(source)
                if known is None or job["CreationDate"] > known["CreationDate"]:
                    out["restore_testing"]["newest"][source] = job
            out["restore_testing"]["created"] = plan["CreationTime"]
        except (ClientError, BotoCoreError) as exc:
            out["restore_testing"]["plan"] = None
            out["problems"].append(
                f"restore testing plan {self.restore_plan}: cannot be read ({error(exc)}): nothing tests a restore"
            )
            return
        rule = f"{self.validator}-on-restore-test"
        try:
            state = self.client("events").describe_rule(Name=rule).get("State")
            if state != "ENABLED":
                out["problems"].append(f"the validation rule {rule} is {state}: restore tests are not validated")
        except ClientError as exc:
            out["problems"].append(f"no validation rule {rule} ({error(exc)}): restore tests are not validated")
        cloudwatch = self.client("cloudwatch")
        for prefix in (f"{self.restore_plan}-", f"{self.validator}-"):
            for alarm in cloudwatch.describe_alarms(AlarmNamePrefix=prefix, StateValue="ALARM")["MetricAlarms"]:
                out["problems"].append(f"alarm {alarm['AlarmName']} is in ALARM: {alarm.get('StateReason', '')[:160]}")

    def table(self, name: str, selections: dict[str, str], testing: dict[str, Any] | None = None) -> dict[str, Any]:
        line: dict[str, Any] = {"table": name, "problems": []}
        problems = line["problems"]
        ddb, lam = self.client("dynamodb"), self.client("lambda")
        try:
            table = ddb.describe_table(TableName=name)["Table"]
        except ClientError as exc:
            problems.append(f"the table cannot be read ({error(exc)})")
            return line
        arn, stream_arn = table["TableArn"], table.get("LatestStreamArn")
        view = (
            (table.get("StreamSpecification") or {}).get("StreamViewType")
            if (table.get("StreamSpecification") or {}).get("StreamEnabled")
            else None
        )
        line["stream"] = view or "off"
        if view != "NEW_AND_OLD_IMAGES":
            problems.append(f"stream is {view or 'off'}, not NEW_AND_OLD_IMAGES: the monitor cannot undo")
        line["deletion_protection"] = bool(table.get("DeletionProtectionEnabled"))
        if not line["deletion_protection"]:
            problems.append("deletion protection is off")
        sse = table.get("SSEDescription") or {}
        line["encryption"] = sse.get("SSEType") or "AWS owned key"
        if sse.get("SSEType") != "KMS":
            problems.append("not encrypted with a KMS key")
        self._pitr(ddb, name, line)
        self._monitor(lam, name, stream_arn, line)
        line["selection"] = selections.get(arn)
        if not line["selection"]:
            problems.append(f"no selection of the table in plan {self.plan}: scheduled backups skip it")
        self._recovery_points(arn, line)
        self._restore_test(arn, testing or {}, line)
        self._alarms(name, line)
        return line

    def _restore_test(self, arn: str, testing: dict[str, Any], line: dict) -> None:
        """The newest restore test of the table and its validation."""
        if not testing.get("plan"):
            line["restore_test"] = "not set up"
            return
        if arn not in testing["tables"]:
            line["restore_test"] = "not selected"
            line["problems"].append(f"the table is in no selection of restore testing plan {testing['plan']}")
            return
        job = testing["newest"].get(arn)
        if job is None:
            line["restore_test"] = "none yet"
            created = testing.get("created")
            if created is not None and self.now - created.timestamp() > self.max_age_hours * 3600:
                line["problems"].append(
                    f"no restore test in the {self.max_age_hours:g} h since plan {testing['plan']} was made"
                )
            return
        status = job.get("ValidationStatus") or "not validated"
        line["restore_test"] = f"{status} {ago(job['CreationDate'], self.now)}"
        line["restore_test_job"] = job["RestoreJobId"]
        if status in ("FAILED", "TIMED_OUT"):
            line["problems"].append(
                f"the last restore test was validated {status} ({ago(job['CreationDate'], self.now)}): "
                f"{(job.get('ValidationStatusMessage') or '')[:200]}"
            )
        elif self.now - job["CreationDate"].timestamp() > self.max_age_hours * 3600:
            line["problems"].append(
                f"the last restore test is {ago(job['CreationDate'], self.now)}: restore tests stopped"
            )

    def _pitr(self, ddb, name: str, line: dict) -> None:
        pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        desc = pitr.get("PointInTimeRecoveryDescription") or {}
        latest = desc.get("LatestRestorableDateTime")
        line["pitr"] = desc.get("PointInTimeRecoveryStatus", "DISABLED")
        line["pitr_latest_restorable"] = latest.isoformat() if latest else None
        line["pitr_latest_restorable_ago"] = ago(latest, self.now) if latest else None
        if line["pitr"] != "ENABLED":
            line["problems"].append("point-in-time recovery is off")

    def _monitor(self, lam, name: str, stream_arn: str | None, line: dict) -> None:
        function = self.function_name or f"{name}-change-monitor"
        line["monitor"] = function
        try:
            config = lam.get_function_configuration(FunctionName=function)
        except ClientError as exc:
            line["problems"].append(f"no change monitor {function} ({error(exc)})")
            return
        line["monitor_mode"] = (config.get("Environment") or {}).get("Variables", {}).get("DDBGUARD_MODE")
        answer = self.invoker("lambda").invoke(
            FunctionName=function, Payload=json.dumps({"ddbguard": "health", "table": name}).encode()
        )
        body = answer["Payload"].read().decode()
        started = False
        with contextlib.suppress(ValueError, AttributeError):
            started = not answer.get("FunctionError") and json.loads(body).get("marker_key") == "derived"
        line["monitor_starts"] = started
        if not started:
            line["problems"].append(f"the monitor {function} does not start: {body[:200]}")
        mappings = lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
        on_stream = [m for m in mappings if m.get("EventSourceArn") == stream_arn]
        line["trigger"] = on_stream[0]["State"] if on_stream else "none"
        if not on_stream:
            line["problems"].append("no trigger on the table's current stream: no change is seen")
        elif on_stream[0]["State"] != "Enabled":
            line["problems"].append(f"the trigger is {on_stream[0]['State']}: no change is seen or undone")
        stats = self.client("cloudwatch").get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName="IteratorAge",
            Dimensions=[{"Name": "FunctionName", "Value": function}],
            StartTime=dt.datetime.fromtimestamp(self.now - 900, dt.UTC),
            EndTime=dt.datetime.fromtimestamp(self.now + 60, dt.UTC),
            Period=60,
            Statistics=["Maximum"],
        )["Datapoints"]
        newest = max(stats, key=lambda p: p["Timestamp"]) if stats else None
        line["iterator_age_ms"] = int(newest["Maximum"]) if newest else None
        self._canary(name, function, line)

    def _canary(self, name: str, function: str, line: dict) -> None:
        """The canary's rule (dr_monitor's canary.yml) and its newest check."""
        rule_name = canary_rule(function)
        try:
            rule = self.client("events").describe_rule(Name=rule_name)
        except ClientError as exc:
            line["canary"] = "not scheduled"
            line["problems"].append(
                f"no canary rule {rule_name} ({error(exc)}): nothing checks the undo between drills"
            )
            return
        match = re.fullmatch(r"rate\((\d+) minutes?\)", rule.get("ScheduleExpression") or "")
        interval = int(match.group(1)) * 60 if match else 3600
        if rule.get("State") != "ENABLED":
            line["problems"].append(f"the canary's rule {rule_name} is {rule.get('State')}: nothing checks the undo")
        points = self.client("cloudwatch").get_metric_statistics(
            Namespace="ddbguard",
            MetricName="ProtectionVerified",
            Dimensions=[{"Name": "Table", "Value": name}],
            StartTime=dt.datetime.fromtimestamp(self.now - 2 * interval, dt.UTC),
            EndTime=dt.datetime.fromtimestamp(self.now + 60, dt.UTC),
            Period=60,
            Statistics=["Minimum"],
        )["Datapoints"]
        newest = max(points, key=lambda p: p["Timestamp"]) if points else None
        if newest is None:
            line["canary"] = "no check"
            line["problems"].append(
                f"no canary check in {2 * interval // 60} min (its rule runs every {interval // 60})"
            )
            return
        passed = newest["Minimum"] >= 1
        line["canary"] = ("passed " if passed else "failed ") + ago(newest["Timestamp"], self.now)
        if not passed:
            line["problems"].append(
                f"the last canary check failed ({ago(newest['Timestamp'], self.now)}): a protected "
                "change to its canary item was not undone, or the policy leaves it nothing to test"
            )

    def _recovery_points(self, arn: str, line: dict) -> None:
        newest = self._newest(self.client("backup"), arn, self.vault)
        line["last_recovery_point"] = newest.isoformat() if newest else None
        line["last_recovery_point_ago"] = ago(newest, self.now)
        if newest is None:
            line["problems"].append(f"no completed recovery point in {self.vault}")
        elif self.now - newest.timestamp() > self.max_age_hours * 3600:
            line["problems"].append(
                f"the newest recovery point is {ago(newest, self.now)} (over {self.max_age_hours:g} h): "
                "scheduled backups stopped"
            )
        if not self.dr_region:
            line["dr_copy"] = "no DR region"
            return
        copy = self._newest(self.client("backup", self.dr_region), arn, self.vault)
        line["dr_copy"] = copy.isoformat() if copy else None
        line["dr_copy_ago"] = ago(copy, self.now)
        if copy is None:
            line["problems"].append(f"no copy in {self.dr_region} (the plan copies after each scheduled run)")
        elif self.now - copy.timestamp() > self.max_age_hours * 3600:
            line["problems"].append(f"the newest copy in {self.dr_region} is {ago(copy, self.now)}: copies stopped")

    def _newest(self, backup, arn: str, vault: str) -> dt.datetime | None:
        """The newest COMPLETED recovery point of the table that the drill did not make (its
        points hold canaries and say nothing about the schedule): one ListTags per point
        newer than it."""
        points = []
        try:
            pages = backup.get_paginator("list_recovery_points_by_backup_vault").paginate(
                BackupVaultName=vault, ByResourceArn=arn
            )
            points = [point for page in pages for point in page["RecoveryPoints"]]
            for point in recovery.newest_first(points):
                tags = backup.list_tags(ResourceArn=point["RecoveryPointArn"]).get("Tags") or {}
                if not recovery.made_by_drill(tags):
                    return point["CreationDate"]
        except ClientError:
            return None
        return None

    def _alarms(self, name: str, line: dict) -> None:
        cloudwatch = self.client("cloudwatch")
        prefix = line.get("monitor") or f"{name}-change-monitor"
        alarms = cloudwatch.describe_alarms(AlarmNamePrefix=prefix, StateValue="ALARM")["MetricAlarms"]
        line["alarms_in_alarm"] = [a["AlarmName"] for a in alarms]
        for alarm in alarms:
            line["problems"].append(f"alarm {alarm['AlarmName']} is in ALARM: {alarm.get('StateReason', '')[:160]}")


def text(line: dict) -> str:
    parts = [
        f"stream {line.get('stream', '?')}",
        f"PITR {line.get('pitr', '?')}"
        + (f", restorable to {line['pitr_latest_restorable_ago']}" if line.get("pitr_latest_restorable_ago") else ""),
        "deletion protection " + ("on" if line.get("deletion_protection") else "off"),
        f"monitor {line.get('monitor_mode') or '?'}"
        + (", starts" if line.get("monitor_starts") else ", does not start"),
        f"trigger {line.get('trigger', '?')}"
        + (f", iterator age {line['iterator_age_ms'] / 1000:g} s" if line.get("iterator_age_ms") is not None else ""),
        f"recovery point {line.get('last_recovery_point_ago', '?')}",
        f"DR copy {line.get('dr_copy_ago', line.get('dr_copy', '?'))}",
        f"restore test {line.get('restore_test', '?')}",
        f"canary {line.get('canary', '?')}",
        "alarms: " + (", ".join(line.get("alarms_in_alarm") or []) or "none in ALARM"),
    ]
    return f"{line['table']}  {'OK' if not line['problems'] else 'PROBLEM'}  " + " · ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inventory", default=os.environ.get("INVENTORY", "inventories/local"))
    parser.add_argument("--json", action="store_true", help="one JSON document on standard output")
    args = parser.parse_args(argv)
    try:
        variables = inventory(args.inventory)
    except Exception as exc:  # noqa: BLE001 - said in one line
        print(f"status: cannot read the inventory {args.inventory}: {exc}", file=sys.stderr)
        return 2
    entries = [e for e in variables.get("ddbguard_tables") or [] if isinstance(e, dict) and e.get("name")]
    if not entries:
        print(f"status: the inventory {args.inventory} lists no table (ddbguard_tables)", file=sys.stderr)
        return 2
    reader = Reader(variables, client_factory(variables, "auditor"), client_factory(variables, "operator"))
    try:
        shared = reader.shared()
        with ThreadPoolExecutor(max_workers=min(16, len(entries))) as pool:
            lines = list(
                pool.map(lambda e: reader.table(e["name"], shared["selections"], shared["restore_testing"]), entries)
            )
    except (ClientError, BotoCoreError) as exc:
        print(f"status: cannot read the target: {error(exc)}", file=sys.stderr)
        return 2
    bad = [line for line in lines if line["problems"]]
    problems = shared["problems"] + [f"{line['table']}: {p}" for line in lines for p in line["problems"]]
    if args.json:
        shared_out = {k: v for k, v in shared.items() if k not in ("selections", "restore_testing")}
        shared_out["restore_testing_plan"] = shared["restore_testing"]["plan"]
        print(json.dumps({"ok": not problems, "shared": shared_out, "tables": lines, "problems": problems}, indent=2))
    else:
        for line in lines:
            print(text(line))
        print(f"vault {shared['vault']}: access policy {shared.get('vault_policy', '?')}; plan {shared['plan']}")
        for problem in problems:
            print(f"PROBLEM {problem}")
        print(
            f"{len(lines)} table(s): {len(lines) - len(bad)} protected, {len(bad)} with problems"
            + ("" if not shared["problems"] else f"; {len(shared['problems'])} shared problem(s)")
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

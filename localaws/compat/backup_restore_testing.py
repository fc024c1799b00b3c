"""AWS Backup restore testing: plans, selections, a scheduled run, and the validation result.

AWS: a restore testing plan (``CreateRestoreTestingPlan``; name of letters, digits and
underscores, at most 50; ``ScheduleExpression`` cron or rate; ``StartWindowHours``;
``RecoveryPointSelection``: ``Algorithm`` LATEST_WITHIN_WINDOW or RANDOM_WITHIN_WINDOW,
``IncludeVaults``, ``RecoveryPointTypes``, ``SelectionWindowDays``) holds selections
(``CreateRestoreTestingSelection``: ``ProtectedResourceType``, ``ProtectedResourceArns`` of
at most 30, ``IamRoleArn``, ``RestoreMetadataOverrides``, ``ValidationWindowHours`` 0-168);
a plan is deleted only once its selections are. At each scheduled run AWS Backup picks, for
every resource, a recovery point by the plan's rule and starts a restore job with the
selection's role and the inferred metadata (for DynamoDB ``targetTableName``
``awsbackup-restore-test-<random>``) with its overrides; the job records the plan
(``CreatedBy.RestoreTestingPlanArn``). When the job completes, AWS Backup emits a
``Restore Job State Change`` event (source ``aws.backup``) to the default event bus; the
customer's validation reports with ``PutRestoreValidationResult`` (``ValidationStatus``,
``ValidationStatusMessage``, shown by DescribeRestoreJob and ListRestoreJobs, filtered by
``restoreTestingPlanArn``). The restored resource is deleted after the validation window.

ministack 1.5.33 lists restore testing plans (always none) and answers nothing else. Here
the API is kept per account and region with the rules above, and the control
``POST /_localaws/backup/run-restore-test?plan=<name>[&account=<id>&region=<region>]``
(``localaws/controls.py``) runs the plan's next scheduled run now, through the same restore
job as ``StartRestoreJob`` (row 4), then emits the event (ministack's EventBridge runs the
rules that match it). ``&end_windows=true`` ends the validation window of the plan's
validated jobs now: their restored tables are deleted (``DeletionStatus``), as AWS Backup
does when the window ends. **Not emulated:** schedules, start and validation windows on a
clock (nothing runs on one), selections by condition or ``*``.
"""

from __future__ import annotations

import json
import random
import re
import secrets
import time
from typing import Any

from localaws.compat.answers import Response
from localaws.compat.answers import answer as _answer
from localaws.compat.answers import error as _error

NAME = re.compile(r"^[A-Za-z0-9_]{1,50}$")
SCHEDULE = re.compile(r"^(cron|rate)\(.+\)$")
ALGORITHMS = ("LATEST_WITHIN_WINDOW", "RANDOM_WITHIN_WINDOW")
MAX_ARNS = 30
MAX_VALIDATION_HOURS = 168
DAY = 86400.0


def _key(account: str, region: str, name: str) -> str:
    return f"{account}|{region}|{name}"


def _invalid(message: str) -> Response:
    return _error("InvalidParameterValueException", message)


def check_plan(plan: dict[str, Any], creating: bool) -> str | None:
    """What AWS refuses in a plan, or None."""
    if creating and not NAME.match(str(plan.get("RestoreTestingPlanName", ""))):
        return "RestoreTestingPlanName must be 1-50 letters, digits or underscores."
    if not SCHEDULE.match(str(plan.get("ScheduleExpression", ""))):
        return f"Invalid ScheduleExpression: {plan.get('ScheduleExpression')!r}; expected cron(...) or rate(...)."
    selection = plan.get("RecoveryPointSelection") or {}
    if selection.get("Algorithm") not in ALGORITHMS:
        return f"RecoveryPointSelection.Algorithm must be one of {', '.join(ALGORITHMS)}."
    if not selection.get("IncludeVaults"):
        return "RecoveryPointSelection.IncludeVaults is required."
    window = selection.get("SelectionWindowDays", 30)
    if not isinstance(window, int) or not 1 <= window <= 365:
        return "RecoveryPointSelection.SelectionWindowDays must be between 1 and 365."
    hours = plan.get("StartWindowHours", 24)
    if not isinstance(hours, int) or not 1 <= hours <= 168:
        return "StartWindowHours must be between 1 and 168."
    return None


def check_selection(selection: dict[str, Any], creating: bool) -> str | None:
    """What AWS refuses in a selection, or None."""
    if creating and not NAME.match(str(selection.get("RestoreTestingSelectionName", ""))):
        return "RestoreTestingSelectionName must be 1-50 letters, digits or underscores."
    if creating and not selection.get("ProtectedResourceType"):
        return "ProtectedResourceType is required."
    if not selection.get("IamRoleArn"):
        return "IamRoleArn is required."
    arns = selection.get("ProtectedResourceArns") or []
    if len(arns) > MAX_ARNS:
        return f"ProtectedResourceArns can hold at most {MAX_ARNS} ARNs; got {len(arns)}."
    if not arns and not selection.get("ProtectedResourceConditions"):
        return "One of ProtectedResourceArns or ProtectedResourceConditions is required."
    hours = selection.get("ValidationWindowHours", 0)
    if not isinstance(hours, int) or not 0 <= hours <= MAX_VALIDATION_HOURS:
        return f"ValidationWindowHours must be between 0 and {MAX_VALIDATION_HOURS}."
    return None


def pick(points: list[dict[str, Any]], plan: dict[str, Any], resource: str, now: float) -> dict[str, Any] | None:
    """The recovery point one scheduled run restores for ``resource``, by the plan's rule."""
    rule = plan["RecoveryPointSelection"]
    vaults = rule.get("IncludeVaults") or []
    excluded = rule.get("ExcludeVaults") or []
    since = now - rule.get("SelectionWindowDays", 30) * DAY
    found = [
        p
        for p in points
        if p.get("ResourceArn") == resource
        and p.get("Status") == "COMPLETED"
        and ("*" in vaults or p.get("BackupVaultArn") in vaults)
        and p.get("BackupVaultArn") not in excluded
        and p.get("CreationDate", 0) >= since
    ]
    if not found:
        return None
    if rule["Algorithm"] == "RANDOM_WITHIN_WINDOW":
        return random.choice(found)  # noqa: S311 (a choice of a test, not a secret)
    return max(found, key=lambda p: p.get("CreationDate", 0))


def event(job: dict[str, Any], region: str) -> dict[str, Any]:
    """The ``Restore Job State Change`` entry AWS Backup puts on the default bus."""
    detail = {
        "restoreJobId": job["RestoreJobId"],
        "backupSizeInBytes": str(job.get("BackupSizeInBytes", 0)),
        "creationDate": job["CreationDate"],
        "iamRoleArn": job.get("IamRoleArn", ""),
        "percentDone": job.get("PercentDone", "100.0"),
        "resourceType": job.get("ResourceType", "DynamoDB"),
        "status": job["Status"],
        "createdResourceArn": job.get("CreatedResourceArn", ""),
        "restoreTestingPlanArn": (job.get("CreatedBy") or {}).get("RestoreTestingPlanArn", ""),
    }
    return {
        "Source": "aws.backup",
        "DetailType": "Restore Job State Change",
        "Detail": json.dumps(detail, default=str),
        "Resources": [job["RecoveryPointArn"]],
        "EventBusName": "default",
    }


class RestoreTesting:
    """The restore testing API of one account and region over the shared store."""

    def __init__(self, plans: dict[str, dict[str, Any]], account: str, region: str):
        self.plans = plans
        self.account = account
        self.region = region

    def _plan(self, name: str) -> dict[str, Any] | None:
        return self.plans.get(_key(self.account, self.region, name))

    def _missing(self, name: str) -> Response:
        return _error("ResourceNotFoundException", f"Restore testing plan {name} not found.")

    def route(self, method: str, parts: list[str], query: dict[str, str], body: dict[str, Any]) -> Response | None:
        # parts: ["restore-testing", "plans", name?, "selections"?, selection?]
        if len(parts) < 2 or parts[1] != "plans":
            return None
        if len(parts) == 2:
            if method == "PUT":
                return self.create_plan(body)
            if method == "GET":
                mine = [p for k, p in self.plans.items() if k.startswith(f"{self.account}|{self.region}|")]
                return _answer({"RestoreTestingPlans": [self._listed(p) for p in mine]})
            return None
        name = parts[2]
        plan = self._plan(name)
        if len(parts) == 3:
            if plan is None:
                return self._missing(name)
            if method == "GET":
                return _answer({"RestoreTestingPlan": self._public(plan)})
            if method == "PUT":
                return self.update_plan(plan, body)
            if method == "DELETE":
                if plan["Selections"]:
                    return _error(
                        "InvalidRequestException",
                        f"Restore testing plan {name} still has selections: delete them first.",
                    )
                del self.plans[_key(self.account, self.region, name)]
                return _answer({"RestoreTestingPlanArn": plan["RestoreTestingPlanArn"]})
            return None
        if parts[3] != "selections":
            return None
        if plan is None:
            return self._missing(name)
        if len(parts) == 4:
            if method == "PUT":
                return self.create_selection(plan, body)
            if method == "GET":
                return _answer(
                    {"RestoreTestingSelections": [self._selection_listed(s) for s in plan["Selections"].values()]}
                )
            return None
        selection = plan["Selections"].get(parts[4])
        if selection is None:
            return _error("ResourceNotFoundException", f"Restore testing selection {parts[4]} not found.")
        if method == "GET":
            return _answer({"RestoreTestingSelection": dict(selection)})
        if method == "PUT":
            update = dict(body.get("RestoreTestingSelection") or {})
            merged = {**selection, **update}
            refused = check_selection(merged, creating=False)
            if refused:
                return _invalid(refused)
            selection.update(update)
            return _answer(
                {
                    "CreationTime": selection["CreationTime"],
                    "RestoreTestingPlanArn": plan["RestoreTestingPlanArn"],
                    "RestoreTestingPlanName": name,
                    "RestoreTestingSelectionName": parts[4],
                    "UpdateTime": time.time(),
                }
            )
        if method == "DELETE":
            del plan["Selections"][parts[4]]
            return _answer()
        return None

    @staticmethod
    def _public(plan: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in plan.items() if k != "Selections"}

    def _listed(self, plan: dict[str, Any]) -> dict[str, Any]:
        keep = (
            "CreationTime",
            "LastExecutionTime",
            "LastUpdateTime",
            "RestoreTestingPlanArn",
            "RestoreTestingPlanName",
            "ScheduleExpression",
            "ScheduleExpressionTimezone",
            "StartWindowHours",
        )
        return {k: plan[k] for k in keep if k in plan}

    @staticmethod
    def _selection_listed(selection: dict[str, Any]) -> dict[str, Any]:
        keep = (
            "CreationTime",
            "IamRoleArn",
            "ProtectedResourceType",
            "RestoreTestingPlanName",
            "RestoreTestingSelectionName",
            "ValidationWindowHours",
        )
        return {k: selection[k] for k in keep if k in selection}

    def create_plan(self, body: dict[str, Any]) -> Response:
        plan = dict(body.get("RestoreTestingPlan") or {})
        refused = check_plan(plan, creating=True)
        if refused:
            return _invalid(refused)
        name = plan["RestoreTestingPlanName"]
        if self._plan(name) is not None:
            return _error("AlreadyExistsException", f"Restore testing plan {name} already exists.")
        now = time.time()
        arn = f"arn:aws:backup:{self.region}:{self.account}:restore-testing-plan:{name}-{secrets.token_hex(3)}"
        plan.setdefault("StartWindowHours", 24)
        plan.update(
            {
                "RestoreTestingPlanArn": arn,
                "CreationTime": now,
                "LastUpdateTime": now,
                "CreatorRequestId": body.get("CreatorRequestId", ""),
                "Selections": {},
            }
        )
        self.plans[_key(self.account, self.region, name)] = plan
        return _answer({"CreationTime": now, "RestoreTestingPlanArn": arn, "RestoreTestingPlanName": name})

    def update_plan(self, plan: dict[str, Any], body: dict[str, Any]) -> Response:
        update = dict(body.get("RestoreTestingPlan") or {})
        merged = {**plan, **update}
        if "RecoveryPointSelection" in update:
            merged["RecoveryPointSelection"] = {**plan["RecoveryPointSelection"], **update["RecoveryPointSelection"]}
        refused = check_plan(merged, creating=False)
        if refused:
            return _invalid(refused)
        now = time.time()
        plan.update({k: v for k, v in merged.items() if k != "Selections"}, LastUpdateTime=now)
        return _answer(
            {
                "CreationTime": plan["CreationTime"],
                "RestoreTestingPlanArn": plan["RestoreTestingPlanArn"],
                "RestoreTestingPlanName": plan["RestoreTestingPlanName"],
                "UpdateTime": now,
            }
        )

    def create_selection(self, plan: dict[str, Any], body: dict[str, Any]) -> Response:
        selection = dict(body.get("RestoreTestingSelection") or {})
        refused = check_selection(selection, creating=True)
        if refused:
            return _invalid(refused)
        name = selection["RestoreTestingSelectionName"]
        if name in plan["Selections"]:
            return _error("AlreadyExistsException", f"Restore testing selection {name} already exists.")
        now = time.time()
        selection.setdefault("ValidationWindowHours", 0)
        selection.update(
            {
                "CreationTime": now,
                "RestoreTestingPlanName": plan["RestoreTestingPlanName"],
                "CreatorRequestId": body.get("CreatorRequestId", ""),
            }
        )
        plan["Selections"][name] = selection
        return _answer(
            {
                "CreationTime": now,
                "RestoreTestingPlanArn": plan["RestoreTestingPlanArn"],
                "RestoreTestingPlanName": plan["RestoreTestingPlanName"],
                "RestoreTestingSelectionName": name,
            }
        )


def put_validation(job: dict[str, Any] | None, job_id: str, body: dict[str, Any]) -> Response:
    """PutRestoreValidationResult: only on a restore job a restore testing plan started."""
    if job is None:
        return _error("ResourceNotFoundException", f"Restore job {job_id} not found.")
    if not (job.get("CreatedBy") or {}).get("RestoreTestingPlanArn"):
        return _error("InvalidRequestException", f"Restore job {job_id} was not started by a restore testing plan.")
    status = body.get("ValidationStatus")
    if status not in ("FAILED", "SUCCESSFUL", "TIMED_OUT", "VALIDATING"):
        return _invalid(f"Invalid ValidationStatus: {status!r}.")
    job["ValidationStatus"] = status
    job["ValidationStatusMessage"] = str(body.get("ValidationStatusMessage", ""))[:1000]
    return _answer()


def run_now(compat: Any, plan: dict[str, Any], emit: Any, only: str = "") -> list[dict[str, Any]]:
    """One scheduled run of ``plan``: per selection and resource (``only`` that resource, when
    given), a restore job of the point its rule picks (through ``compat.start_restore_job``),
    marked as the plan's, then the event."""
    now = time.time()
    plan["LastExecutionTime"] = now
    points = list(compat.store.recovery_points.values())
    runs = []
    for selection in plan["Selections"].values():
        overrides = {k: v for k, v in (selection.get("RestoreMetadataOverrides") or {}).items()}
        for resource in selection.get("ProtectedResourceArns") or []:
            if only and resource != only:
                continue
            point = pick(points, plan, resource, now)
            if point is None:
                runs.append({"resource": resource, "error": "no recovery point within the selection window"})
                continue
            metadata = {
                "targetTableName": f"awsbackup-restore-test-{secrets.token_hex(8)}",
                "deletionProtection": "false",
                **overrides,
            }
            status, _, raw = compat.start_restore_job(
                {
                    "RecoveryPointArn": point["RecoveryPointArn"],
                    "IamRoleArn": selection["IamRoleArn"],
                    "Metadata": metadata,
                }
            )
            answer = json.loads(raw or b"{}")
            if status != 200:
                runs.append({"resource": resource, "error": answer})
                continue
            job = compat.store.restore_jobs[answer["RestoreJobId"]]
            job["CreatedBy"] = {"RestoreTestingPlanArn": plan["RestoreTestingPlanArn"]}
            emit(event(job, compat.region))
            runs.append({"resource": resource, "restore_job_id": job["RestoreJobId"], "status": job["Status"]})
    return runs


def end_windows(compat: Any, plan: dict[str, Any], delete_table: Any) -> list[dict[str, Any]]:
    """The end of the validation window of every restore job of ``plan`` whose validation is
    over (SUCCESSFUL, FAILED, TIMED_OUT): its restored table deleted, as AWS Backup does then
    (``DeletionStatus``)."""
    ended = []
    for job in compat.store.restore_jobs.values():
        if (job.get("CreatedBy") or {}).get("RestoreTestingPlanArn") != plan["RestoreTestingPlanArn"]:
            continue
        if job.get("ValidationStatus") not in ("SUCCESSFUL", "FAILED", "TIMED_OUT") or job.get("DeletionStatus"):
            continue
        table = job.get("CreatedResourceArn", "").rsplit("/", 1)[-1]
        deleted = delete_table(table)
        job["DeletionStatus"] = "SUCCESSFUL" if deleted else "FAILED"
        job["DeletionStatusMessage"] = f"{table} deleted at the end of the validation window" if deleted else ""
        ended.append({"restore_job_id": job["RestoreJobId"], "table": table, "deleted": deleted})
    return ended

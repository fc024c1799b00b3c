"""Entry point of the restore-test validation function.

Invoked by the EventBridge rule on ``Restore Job State Change`` (status COMPLETED) of the
restore testing plan, by itself to carry on a validation that needs more than one
invocation (``{"operation": "continue", "state": ...}``), or by an operator or the drill
for one restore job (``{"operation": "validate", "restore_job_id": ...}``). Every outcome is
one JSON log line; a verdict is also an EMF metric, ``RestoreValidated`` (1 successful, 0
failed) in namespace ``ddbguard``, by restore testing plan and by table, which the plan's
alarm reads.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from restore_validator import validate

MARGIN_SECONDS = 45.0  # kept for handing the state on before Lambda stops the invocation

_SETTINGS = validate.Settings(
    plan_arns=frozenset(a for a in os.environ.get("DDBGUARD_RESTORE_TESTING_PLAN_ARNS", "").split(",") if a),
    export_bucket=os.environ.get("DDBGUARD_EXPORT_BUCKET", ""),
    export_key_arn=os.environ.get("DDBGUARD_EXPORT_KMS_KEY_ARN", ""),
    segments=int(os.environ.get("DDBGUARD_SCAN_SEGMENTS", "4")),
)
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, max_pool_connections=32)
_CLIENTS = validate.Clients(
    backup=boto3.client("backup", config=_CONFIG),
    dynamodb=boto3.client("dynamodb", config=_CONFIG),
    s3=boto3.client("s3", config=_CONFIG),
)
_LAMBDA = boto3.client("lambda", config=_CONFIG)


def _say(**fields: Any) -> None:
    print(json.dumps({"kind": "restore-validation", **fields}, sort_keys=True, default=str))


def _metric(plan: str, table: str, validated: bool) -> None:
    print(
        json.dumps(
            {
                "_aws": {
                    "Timestamp": int(time.time() * 1000),
                    "CloudWatchMetrics": [
                        {
                            "Namespace": "ddbguard",
                            "Dimensions": [["RestoreTestingPlan"], ["Table"]],
                            "Metrics": [{"Name": "RestoreValidated", "Unit": "Count"}],
                        }
                    ],
                },
                "RestoreTestingPlan": plan,
                "Table": table,
                "RestoreValidated": 1 if validated else 0,
            },
            sort_keys=True,
        )
    )


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    deadline = time.time() + context.get_remaining_time_in_millis() / 1000.0 - MARGIN_SECONDS
    operation = event.get("operation")
    if operation == "continue":
        state = event["state"]
        job_id = state["restore_job_id"]
    else:
        job_id = event["detail"]["restoreJobId"] if event.get("source") == "aws.backup" else event["restore_job_id"]
        try:
            state = validate.begin(job_id, _CLIENTS, _SETTINGS)
        except validate.Ignored as why:
            _say(restore_job_id=job_id, outcome="ignored", reason=str(why))
            return {"restore_job_id": job_id, "outcome": "ignored", "reason": str(why)}
    try:
        outcome = validate.step(state, _CLIENTS, _SETTINGS, deadline)
    except (ClientError, BotoCoreError) as err:
        outcome = (validate.FAILED, f"could not read what the validation compares: {err}"[:1000])
    except Exception as err:  # noqa: BLE001 - a validation that cannot finish is a failed one, never a silent one
        outcome = (validate.FAILED, f"the validation stopped: {type(err).__name__}: {err}"[:1000])
    if outcome is None:
        _LAMBDA.invoke(
            FunctionName=context.invoked_function_arn,
            InvocationType="Event",
            Payload=json.dumps({"operation": "continue", "state": state}).encode(),
        )
        _say(restore_job_id=job_id, outcome="continues", segments=state["segments"], reference=state["reference"])
        return {"restore_job_id": job_id, "outcome": "continues"}
    validate.report(job_id, outcome, _CLIENTS)
    table = state["source_table_arn"].split("/")[-1]
    _metric(os.environ.get("DDBGUARD_RESTORE_TESTING_PLAN_NAME", ""), table, outcome[0] == validate.SUCCESSFUL)
    _say(
        restore_job_id=job_id,
        outcome=outcome[0],
        table=table,
        restored_table=state["restored_table"],
        message=outcome[1],
    )
    return {"restore_job_id": job_id, "outcome": outcome[0], "message": outcome[1]}

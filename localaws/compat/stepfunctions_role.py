"""Step Functions: an execution acts with its state machine's role (row 28).

On AWS, a state machine's tasks call other services as its role (``roleArn``): a
``lambda:invoke`` task whose role may not ``lambda:InvokeFunction`` on the function fails
with ``Lambda.AWSLambdaException`` (``... is not authorized to perform:
lambda:InvokeFunction ...``), and a Distributed Map whose role may not
``states:StartExecution`` on its own state machine starts no child execution and fails.
ministack runs both with no check at all, so a copy-back job with a role that could do
nothing passed here.

This patch evaluates those two actions with ministack's own engine, as the role (its
identity policies and its permissions boundary): ``_run_execution`` remembers the running
execution's role (the Distributed Map's child executions inherit it, as on AWS), and
``_call_lambda`` and ``_run_distributed_map`` refuse what the role may not do. **Not
emulated:** the role's trust policy, a function's resource policy granting the role, the
other service integrations (``aws-sdk:*``, ``.sync``), ``states:DescribeExecution`` and
``states:StopExecution`` of the child executions.
"""

from __future__ import annotations

import contextvars
import functools

_ROLE: contextvars.ContextVar[str] = contextvars.ContextVar("localaws_state_machine_role", default="")
_PATCHED = "_localaws_stepfunctions_role"


def refusal(role_arn: str, action: str, resource: str) -> str | None:
    """AWS's message when ``role_arn`` may not ``action`` on ``resource``; None when it may."""
    from ministack.app import AUTH
    from ministack.core import iam_evaluator as ev
    from ministack.services import iam

    if not AUTH or not role_arn:
        return None
    parts = role_arn.split(":")
    account, name = parts[4], parts[5].rsplit("/", 1)[-1]
    region = resource.split(":")[3] if resource.count(":") >= 4 else ""
    session = f"arn:aws:sts::{account}:assumed-role/{name}/StepFunctions"
    context = ev.EvalContext(
        principal_arn=session,
        principal_type="AssumedRole",
        principal_account=account,
        action=action,
        resource_arn=resource,
        region=region,
    )
    policies = ev._gather_role_policies(name, account)
    result = ev.evaluate(context, policies, *ev._permissions_boundary(iam._roles, name, account))
    if result.decision == "Allow":
        return None
    why = "an explicit deny" if result.decision == "Deny" else "no identity-based policy allows the action"
    return f"User: {session} is not authorized to perform: {action} on resource: {resource} because of {why}"


def install() -> None:
    from ministack.services import lambda_svc
    from ministack.services import stepfunctions as sfn

    if getattr(sfn, _PATCHED, False):
        return
    run_execution, call_lambda, distributed = sfn._run_execution, sfn._call_lambda, sfn._run_distributed_map

    @functools.wraps(run_execution)
    def _run_execution(exec_arn):
        execution = sfn._executions.get(exec_arn) or {}
        machine = sfn._state_machines.get(execution.get("stateMachineArn", "")) or {}
        _ROLE.set(machine.get("roleArn", ""))
        return run_execution(exec_arn)

    @functools.wraps(call_lambda)
    def _call_lambda(func_ref, event):
        _func, config, _name = lambda_svc._get_func_record_for_ref(func_ref)
        if config:
            refused = refusal(_ROLE.get(), "lambda:InvokeFunction", config.get("FunctionArn", ""))
            if refused:
                raise sfn._ExecutionError("Lambda.AWSLambdaException", refused)
        return call_lambda(func_ref, event)

    @functools.wraps(distributed)
    def _run_distributed_map(state_def, raw_input, effective, iterator, execution, ctx):
        machine = execution.get("stateMachineArn", "")
        refused = refusal(_ROLE.get(), "states:StartExecution", machine)
        if refused:
            raise sfn._ExecutionError("States.Runtime", refused)
        return distributed(state_def, raw_input, effective, iterator, execution, ctx)

    sfn._run_execution, sfn._call_lambda, sfn._run_distributed_map = _run_execution, _call_lambda, _run_distributed_map
    setattr(sfn, _PATCHED, True)

"""A log of the emulator's IAM evaluations, for the test that proves a policy exactly sufficient.

With ``LOCALAWS_IAM_LOG=<file>`` in the emulator's environment, each evaluation of a
caller's identity policies that ministack makes (``iam_evaluator.evaluate``, not the ones of
a resource's own policy) appends one JSON line: the principal, the
action, the resource, the request's condition keys and the decision. The operator-policy
test runs the plays once with it, then evaluates every logged request again against the
policy with a statement (or an action) taken out, with ministack's own engine: what the
flow needed and what it did not. Not an AWS behaviour; nothing runs it unless asked.
"""

from __future__ import annotations

import contextvars
import json
import os
import threading

_LOCK = threading.Lock()
# Set while a resource's own policy is evaluated: that evaluation is not the caller's identity's.
_IN_RESOURCE_POLICY: contextvars.ContextVar[bool] = contextvars.ContextVar("localaws_in_resource_policy", default=False)


def record(ctx, decision: str) -> dict:
    return {
        "principal_arn": ctx.principal_arn,
        "principal_type": ctx.principal_type,
        "principal_account": ctx.principal_account,
        "action": ctx.action,
        "resource_arn": ctx.resource_arn,
        "region": ctx.region,
        "service_context": ctx.service_context,
        "principal_keys": ctx.principal_keys,
        "decision": decision,
    }


def install(path: str | None = None) -> bool:
    path = path or os.environ.get("LOCALAWS_IAM_LOG")
    if not path:
        return False
    from ministack.core import iam_evaluator

    original = iam_evaluator.evaluate
    if getattr(original, "_localaws_logged", False):
        return True

    def evaluate(ctx, *policy_sets):
        result = original(ctx, *policy_sets)
        if not _IN_RESOURCE_POLICY.get():
            line = json.dumps(record(ctx, result.decision), default=str, sort_keys=True)
            with _LOCK, open(path, "a") as out:
                out.write(line + "\n")
        return result

    original_resource_policy = iam_evaluator.evaluate_resource_policy

    def evaluate_resource_policy(*args, **kwargs):
        token = _IN_RESOURCE_POLICY.set(True)
        try:
            return original_resource_policy(*args, **kwargs)
        finally:
            _IN_RESOURCE_POLICY.reset(token)

    evaluate._localaws_logged = True
    iam_evaluator.evaluate = evaluate
    iam_evaluator.evaluate_resource_policy = evaluate_resource_policy
    return True


def context(entry: dict):
    """The logged request as ministack's ``EvalContext``, to evaluate it again."""
    from ministack.core.iam_evaluator import EvalContext

    return EvalContext(
        principal_arn=entry["principal_arn"],
        principal_type=entry["principal_type"],
        principal_account=entry["principal_account"],
        action=entry["action"],
        resource_arn=entry["resource_arn"],
        region=entry["region"],
        service_context=entry["service_context"],
        principal_keys=entry["principal_keys"],
    )

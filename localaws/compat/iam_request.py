"""How a request is authorized: its resource and its further checks (a helper, not a patch).

ministack authorizes a request as one action on one resource ARN, which it builds from the
request (``iam_actions.extract_resource_arn``), or ``*`` when it does not know how. AWS
authorizes many of the calls our flow makes on a resource ministack answers ``*`` for, and
some on more than one (a KMS alias call on the alias and on its key; ``iam:PassRole`` when a
request hands a role to a service). The ``iam_*`` behaviours register here a ``Rule``: for a
request, the resource to authorize it on, the condition keys it carries, and the further
checks AWS makes after it.

The first registered rule that answers for a request wins. Nothing here allows a request
that ministack's evaluation refuses: a rule can only name a resource, add condition keys, or
add checks, each of which is evaluated by ministack's own engine (identity, boundary,
session and resource policies). A refusal by a further check names that check's action, as
AWS's ``AccessDenied`` does (``... is not authorized to perform: iam:PassRole ...``).
"""

from __future__ import annotations

import contextvars
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote


@dataclass
class Request:
    service: str
    method: str
    path: str
    headers: dict
    body: bytes
    params: dict
    region: str
    account: str

    def json(self) -> dict:
        try:
            doc = json.loads(self.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return {}
        return doc if isinstance(doc, dict) else {}

    def param(self, name: str) -> str:
        value = self.params.get(name, "")
        return value[0] if isinstance(value, list) and value else value if isinstance(value, str) else ""

    def parts(self) -> list[str]:
        return [unquote(p) for p in self.path.split("/") if p]

    def action(self) -> str | None:
        from ministack.core.iam_actions import extract_iam_action

        return extract_iam_action(self.service, self.method, self.path, self.headers, self.body, self.params)

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"


@dataclass
class Check:
    """One further authorization AWS makes for the request: an action on a resource."""

    action: str
    resource: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class Rule:
    """What a request is authorized on: its resource, its condition keys, its further checks."""

    resource: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)


Resolver = Callable[[Request, str], Rule | None]
RESOLVERS: list[Resolver] = []
_PENDING: contextvars.ContextVar[tuple[str, Rule] | None] = contextvars.ContextVar("localaws_iam_rule", default=None)
# The further check that refused the request, which its AccessDenied names (as AWS does).
_REFUSED_BY: contextvars.ContextVar[Check | None] = contextvars.ContextVar("localaws_iam_refused_by", default=None)


def register(resolver: Resolver) -> None:
    """Add a behaviour's resolver (once); install the two wrappers on first use."""
    if resolver not in RESOLVERS:
        RESOLVERS.append(resolver)
    _install()


def rule_for(request: Request, action: str) -> Rule | None:
    merged: Rule | None = None
    for resolver in RESOLVERS:
        found = resolver(request, action)
        if found is None:
            continue
        if merged is None:
            merged = Rule(found.resource, dict(found.context), list(found.checks))
        else:
            merged.resource = merged.resource or found.resource
            merged.context.update(found.context)
            merged.checks += found.checks
    return merged


def _install() -> None:
    from ministack.core import iam_actions, iam_evaluator

    if getattr(iam_actions.extract_resource_arn, "_localaws_patched", False):
        return
    original_resource = iam_actions.extract_resource_arn
    original_enforce = iam_evaluator.enforce

    def extract_resource_arn(service, method, path, headers, body, query_params, region, account_id):
        arn = original_resource(service, method, path, headers, body, query_params, region, account_id)
        request = Request(service, method, path, headers, body, query_params, region, account_id)
        action = request.action()
        found = rule_for(request, action) if action else None
        if found is None:
            _PENDING.set(None)
            return arn
        resource = found.resource or arn
        _PENDING.set((action, Rule(resource, found.context, found.checks)))
        return resource

    def enforce(access_key_id, iam_action, service, region, resource_arn="*", service_context=None):
        pending = _PENDING.get()
        if pending is None or pending[0] != iam_action or pending[1].resource != resource_arn:
            return original_enforce(access_key_id, iam_action, service, region, resource_arn, service_context)
        _PENDING.set(None)
        found = pending[1]
        context = {**(service_context or {}), **found.context}
        denied = original_enforce(access_key_id, iam_action, service, region, resource_arn, context)
        for check in found.checks:
            if denied:
                break
            check_service = check.action.split(":", 1)[0]
            denied = original_enforce(access_key_id, check.action, check_service, region, check.resource, check.context)
            if denied:
                _REFUSED_BY.set(check)
        return denied

    original_denial = iam_actions.access_denied_response

    def access_denied_response(service, action, principal_arn, request_id, **kwargs):
        check = _REFUSED_BY.get()
        if check is not None:
            _REFUSED_BY.set(None)
            action = check.action
            kwargs["resource_arn"] = check.resource
        return original_denial(service, action, principal_arn, request_id, **kwargs)

    extract_resource_arn._localaws_patched = True
    iam_actions.extract_resource_arn = extract_resource_arn
    iam_evaluator.enforce = enforce
    iam_actions.access_denied_response = access_denied_response

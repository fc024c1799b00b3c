"""Every principal of an account denied, as a lost or compromised account looks (row 34).

An operator who loses an account (closed, suspended, or held by an attacker and cut off
with a service control policy that denies every action) can no longer make any call with
that account's principals: each answers ``AccessDenied``, whatever the caller's own
policies say, and the account's functions, which run with its roles' sessions, can do
nothing either. What is left is what other accounts hold. A drill that proves recovery
from account loss must run its restore with every principal of the source account refused
in this way, or it has not shown that the recovery needs nothing of that account.

The local AWS cannot apply a service control policy (it has no organization). This patch
does what such a policy does: while an account is isolated, every service request whose
credentials are that account's (its root, its users, its roles' sessions) answers ``403
AccessDeniedException`` (an explicit deny), and nothing of that account's state is read or
changed. The other accounts answer as before. The denial is in each service's own protocol
(ministack's ``access_denied_response``, as for a policy's explicit deny), so every SDK
reads its code. ``localaws.controls`` turns it on and off
(``POST /_localaws/account/isolation``); it is kept in memory only, so a restart ends it.
"""

from __future__ import annotations

from localaws.compat.answers import Response

_ISOLATED: set[str] = set()


def set_isolated(account: str, isolated: bool) -> list[str]:
    """Isolate ``account`` (or end it); return the accounts isolated now, sorted."""
    (_ISOLATED.add if isolated else _ISOLATED.discard)(account)
    return sorted(_ISOLATED)


def isolated(account: str) -> bool:
    return account in _ISOLATED


def denial(account: str, service: str, action: str | None, request_id: str, headers: dict) -> Response:
    """The explicit deny in the service's protocol."""
    from ministack.core.iam_actions import access_denied_response

    return access_denied_response(
        service,
        action or f"{service}:*",
        f"arn:aws:iam::{account}:root",
        request_id,
        headers=headers,
        explicit_deny=True,
        message=f"every action of account {account} is explicitly denied: the account is isolated",
    )


def install() -> None:
    from ministack import app
    from ministack.core.iam_actions import extract_iam_action
    from ministack.core.responses import get_account_id
    from ministack.core.router import detect_service

    if getattr(app._dispatch_service_request, "_localaws_account_isolation", False):
        return
    original = app._dispatch_service_request

    async def dispatch(method, path, headers, body, query_params, request_id):
        if _ISOLATED:
            account = get_account_id()
            if isolated(account):
                routing = app._routing_params(method, path, headers, body, query_params)
                service = detect_service(method, path, headers, routing)
                action = extract_iam_action(service, method, path, headers, body, routing)
                return denial(account, service, action, request_id, headers)
        return await original(method, path, headers, body, query_params, request_id)

    dispatch._localaws_account_isolation = True
    app._dispatch_service_request = dispatch

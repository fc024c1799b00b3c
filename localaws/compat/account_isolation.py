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
changed. The other accounts answer as before. ``localaws.controls`` turns it on and off
(``POST /_localaws/account/isolation``); it is kept in memory only, so a restart ends it.
"""

from __future__ import annotations

from localaws.compat.answers import Response, error

_ISOLATED: set[str] = set()


def set_isolated(account: str, isolated: bool) -> list[str]:
    """Isolate ``account`` (or end it); return the accounts isolated now, sorted."""
    (_ISOLATED.add if isolated else _ISOLATED.discard)(account)
    return sorted(_ISOLATED)


def refusal(account: str, service: str) -> Response | None:
    """The answer to a principal of an isolated account, or None when the request goes through."""
    if account not in _ISOLATED:
        return None
    return error(
        "AccessDeniedException",
        f"every action of account {account} is explicitly denied ({service}): the account is isolated",
        403,
    )


def install() -> None:
    from ministack import app
    from ministack.core.responses import get_account_id
    from ministack.core.router import detect_service

    if getattr(app._dispatch_service_request, "_localaws_account_isolation", False):
        return
    original = app._dispatch_service_request

    async def dispatch(method, path, headers, body, query_params, request_id):
        if _ISOLATED:
            routing = app._routing_params(method, path, headers, body, query_params)
            refused = refusal(get_account_id(), detect_service(method, path, headers, routing))
            if refused is not None:
                return refused
        return await original(method, path, headers, body, query_params, request_id)

    dispatch._localaws_account_isolation = True
    app._dispatch_service_request = dispatch

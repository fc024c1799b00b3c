"""IAM: a Lambda event source mapping call is authorized as the operation it is.

On AWS, ``GetEventSourceMapping``, ``UpdateEventSourceMapping`` and
``DeleteEventSourceMapping`` (``GET``, ``PUT``, ``DELETE`` on
``/2015-03-31/event-source-mappings/{UUID}``) are authorized as ``lambda:`` those actions,
on the mapping's ARN. ministack names the ``GET`` ``lambda:ListEventSourceMappings`` and
names no action for the other two, which it then serves without any evaluation: a caller
allowed nothing could update or delete the stream trigger that feeds a change monitor, and
a policy without those rights passed here.

This patch names the three actions (their resource is already the mapping's ARN).
"""

from __future__ import annotations

import re

_MAPPING = re.compile(r"^/\d{4}-\d{2}-\d{2}/event-source-mappings/[^/]+/?$")
ACTIONS = {
    "GET": "lambda:GetEventSourceMapping",
    "PUT": "lambda:UpdateEventSourceMapping",
    "DELETE": "lambda:DeleteEventSourceMapping",
}


def action_of(service: str, method: str, path: str) -> str | None:
    """The action AWS authorizes the request as, where ministack names another or none."""
    if service == "lambda" and _MAPPING.match(path):
        return ACTIONS.get(method)
    return None


def install() -> None:
    from ministack.core import iam_actions

    original = iam_actions.extract_iam_action
    if getattr(original, "_localaws_patched", False):
        return

    def extract_iam_action(service, method, path, headers, body, query_params):
        return action_of(service, method, path) or original(service, method, path, headers, body, query_params)

    extract_iam_action._localaws_patched = True
    iam_actions.extract_iam_action = extract_iam_action

"""How a patched AWS JSON service answers: a body, or an error with its ``__type`` (a helper, not a patch)."""

from __future__ import annotations

import json
from typing import Any

Response = tuple[int, dict[str, str], bytes]


def answer(body: dict[str, Any] | None = None, status: int = 200) -> Response:
    return status, {"Content-Type": "application/json"}, json.dumps(body or {}).encode()


def error(code: str, message: str, status: int = 400) -> Response:
    headers = {"Content-Type": "application/json", "x-amzn-errortype": code}
    return status, headers, json.dumps({"__type": code, "Message": message}).encode()

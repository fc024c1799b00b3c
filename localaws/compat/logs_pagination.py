"""CloudWatch Logs: ``FilterLogEvents`` pages with ``nextToken`` past its limit.

AWS returns at most ``limit`` events (10,000 at most, or 1 MB) and a ``nextToken`` while
more events of the time range remain; a client pages until there is no token (boto3's
paginator does). ministack stops at the limit and returns no token, so a reader of a
busy log group (``make logs``, the drill's read of the monitor's decisions) silently got
the first 10,000 events and nothing after them.

This patch answers the same events in the same order (by timestamp, then ingestion
time, then stream, as ministack merges them), up to the limit, with a ``nextToken`` that
holds, per log stream, the index of the next event not yet returned; a request with the
token resumes there. ``page`` holds the rule and is pure.
"""

from __future__ import annotations

import base64
import heapq
import json
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import Any

MAX_LIMIT = 10000


def encode(positions: dict[str, int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(positions, sort_keys=True).encode()).decode()


def decode(token: str) -> dict[str, int]:
    doc = json.loads(base64.urlsafe_b64decode(token.encode()))
    if not isinstance(doc, dict) or not all(isinstance(v, int) for v in doc.values()):
        raise ValueError("not a token of this log group")
    return doc


def page(
    streams: dict[str, list[dict[str, Any]]],
    matches: Callable[[str], bool],
    limit: int,
    start_time: int | None = None,
    end_time: int | None = None,
    positions: dict[str, int] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, int] | None]:
    """The events of one page (each with its ``logStreamName``), and the positions to
    resume from, or None when the range holds no more."""

    def ts(event: dict[str, Any]) -> int:
        return event["timestamp"]

    bounds = {}
    for name, history in streams.items():
        first = bisect_left(history, start_time, key=ts) if start_time is not None else 0
        end = bisect_right(history, end_time, key=ts) if end_time is not None else len(history)
        if positions is not None:
            first = max(first, positions.get(name, end))
        bounds[name] = (first, end)

    def lane(name: str, first: int, end: int):
        history = streams[name]
        for index in range(first, end):
            yield history[index], name, index

    merged = heapq.merge(
        *(lane(name, first, end) for name, (first, end) in bounds.items()),
        key=lambda entry: (entry[0]["timestamp"], entry[0].get("ingestionTime", 0)),
    )
    events: list[dict[str, Any]] = []
    resume = {name: first for name, (first, _end) in bounds.items()}
    for event, name, index in merged:
        if len(events) >= limit:
            break
        resume[name] = index + 1
        if matches(event.get("message", "")):
            events.append({**event, "logStreamName": name})
    more = {name: at for name, at in resume.items() if at < bounds[name][1]}
    return events, (more or None)


def install() -> None:
    from ministack.core.responses import error_response_json, json_response
    from ministack.services import cloudwatch_logs as logs

    if getattr(logs._filter_log_events, "_localaws_patched", False):
        return

    def filter_log_events(data: dict[str, Any]):
        group = logs._resolve_log_group_name(data)
        if group not in logs._log_groups:
            return error_response_json(
                "ResourceNotFoundException", f"The specified log group does not exist: {group}", 400
            )
        positions = None
        if data.get("nextToken"):
            try:
                positions = decode(data["nextToken"])
            except ValueError:
                return error_response_json("InvalidParameterException", "The nextToken is not valid", 400)
        streams = logs._log_groups[group]["streams"]
        wanted = data.get("logStreamNames") or list(streams)
        with logs._log_events_lock:
            histories = {name: list(streams[name]["events"]) for name in wanted if name in streams}
        events, more = page(
            histories,
            logs._compile_filter_pattern(data.get("filterPattern", "")),
            min(int(data.get("limit") or MAX_LIMIT), MAX_LIMIT),
            data.get("startTime"),
            data.get("endTime"),
            positions,
        )
        body: dict[str, Any] = {"events": events, "searchedLogStreams": []}
        if more:
            body["nextToken"] = encode(more)
        return json_response(body)

    filter_log_events._localaws_patched = True
    logs._filter_log_events = filter_log_events

"""``AWS/Lambda`` metrics of the invocations a stream trigger makes (row 16).

AWS publishes Invocations, Errors (a function error, start-up failures included),
Duration, Throttles and IteratorAge for every invocation by a stream trigger. ministack's
own poller published none, so the monitor's error and iterator-age alarms could never
fire. ``stream_trigger``'s poller calls ``publish`` after each invocation.
"""

from __future__ import annotations

import time


def iterator_age_ms(batch: list[tuple[int, dict]], now: float) -> float:
    """AWS's IteratorAge: how old the batch's last record was when it was handed over."""
    created = batch[-1][1].get("dynamodb", {}).get("ApproximateCreationDateTime", now)
    return max(0.0, (now - float(created)) * 1000)


def publish(ms, func_rec: dict, result: dict, started: float, batch: list[tuple[int, dict]]) -> None:
    """The ``AWS/Lambda`` metrics AWS publishes for an invocation by a stream trigger:
    Invocations, Errors (a function error, start-up failures included), Duration,
    Throttles, and IteratorAge."""
    name = (func_rec.get("config") or func_rec).get("FunctionName", "")
    ms._emit_lambda_metrics(
        name,
        duration_ms=(time.time() - started) * 1000,
        error=bool(result.get("error")),
        throttle=bool(result.get("throttle")),
    )
    from ministack.services import cloudwatch

    cloudwatch.record_metric(
        "AWS/Lambda", "IteratorAge", iterator_age_ms(batch, started), "Milliseconds", {"FunctionName": name}
    )

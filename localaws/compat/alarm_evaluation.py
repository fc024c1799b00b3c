"""CloudWatch metric alarms: evaluated on a schedule, on their own metric's dimensions.

AWS evaluates every metric alarm periodically (each minute, over its period) on the
datapoints of the metric named by its namespace, metric name **and dimensions**: an
alarm on ``Errors`` with ``FunctionName=a`` never sees the errors of function ``b``.

ministack evaluates alarms only when someone calls ``PutMetricData``, and sums the
datapoints of every metric with the alarm's namespace and name, whatever their
dimensions. So an alarm on a metric that AWS services publish (``AWS/Lambda``) never
changes state, and when it does, it may be for another function's errors.

This module replaces ministack's evaluation of one alarm with one that reads only the
metric whose dimensions are exactly the alarm's (``metric_key``), and evaluates every
alarm of every account and region each ``LOCALAWS_ALARM_EVALUATION_SECONDS`` (default
10: AWS's minute, shortened so that tests need not wait for it). The rest (statistics,
comparison, history, actions, composite alarms) stays ministack's. ``state`` holds the
rule and is pure.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

INTERVAL_SECONDS = float(os.environ.get("LOCALAWS_ALARM_EVALUATION_SECONDS", "10"))
COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanOrEqualToThreshold": lambda v, t: v >= t,
    "GreaterThanThreshold": lambda v, t: v > t,
    "LessThanThreshold": lambda v, t: v < t,
    "LessThanOrEqualToThreshold": lambda v, t: v <= t,
}


def metric_key(alarm: dict, dims_key: Callable[[dict], str]) -> tuple[str, str, str]:
    """The one metric an alarm reads, as ministack keys its datapoints."""
    dimensions = {d["Name"]: d.get("Value", "") for d in alarm.get("Dimensions") or [] if d.get("Name")}
    return (alarm.get("Namespace") or "", alarm.get("MetricName") or "", dims_key(dimensions))


def state(
    alarm: dict, points: list[dict], now: float, statistic: Callable[[list[dict], str], float | None]
) -> tuple[str, float] | None:
    """(``ALARM`` or ``OK``, the statistic's value) from the datapoints of the alarm's
    evaluation range; None when there are none (the state stays, as ministack keeps it)."""
    since = now - int(alarm.get("Period", 60)) * int(alarm.get("EvaluationPeriods", 1))
    recent = [p for p in points if p["Timestamp"] >= since]
    if not recent:
        return None
    value = statistic(recent, alarm.get("ExtendedStatistic") or alarm.get("Statistic", "Average"))
    compare = COMPARISONS.get(alarm.get("ComparisonOperator", ""))
    if value is None or compare is None:
        return None
    return ("ALARM" if compare(value, float(alarm.get("Threshold", 0))) else "OK"), value


def install() -> None:
    from ministack.services import cloudwatch as cw

    from localaws.compat import scope

    if getattr(cw._evaluate_alarm, "_localaws_patched", False):
        return

    def statistic(points: list[dict], name: str) -> float | None:
        return cw._stat_value(cw._calc_stats(points), name, points)

    def evaluate(alarm: dict) -> None:
        points = list(cw._metrics.get(metric_key(alarm, cw._dims_key)) or [])
        evaluated = state(alarm, points, time.time(), statistic)
        old = alarm["StateValue"]
        if evaluated is None or evaluated[0] == old:
            return
        new, value = evaluated
        stat = alarm.get("ExtendedStatistic") or alarm.get("Statistic", "Average")
        reason = f"Threshold Crossed: {stat} {value} {alarm.get('ComparisonOperator')} {alarm.get('Threshold')}"
        alarm.update(StateValue=new, StateReason=reason, StateUpdatedTimestamp=int(time.time()))
        cw._record_history(alarm["AlarmName"], old, new, reason)
        cw._dispatch_alarm_actions(alarm, old, new, reason)
        cw._evaluate_parent_alarms(alarm)

    def scheduled() -> None:
        while True:
            time.sleep(INTERVAL_SECONDS)
            for account, region in {key[:2] for key in list(cw._alarms._data)}:
                try:
                    with scope.account_region(account, region):
                        cw._evaluate_all_alarms()
                except Exception:  # noqa: BLE001 - evaluation must never stop
                    cw.logger.debug("localaws: alarm evaluation failed", exc_info=True)

    evaluate._localaws_patched = True
    cw._evaluate_alarm = evaluate
    threading.Thread(target=scheduled, name="localaws-alarm-evaluation", daemon=True).start()

"""CloudWatch Embedded Metric Format: a Lambda function's metric lines become metrics.

On AWS, a log line that a Lambda function writes in the Embedded Metric Format (a JSON
object whose ``_aws.CloudWatchMetrics`` lists a namespace, dimension sets and metrics)
is turned by CloudWatch Logs into metric datapoints: one per metric and dimension set,
the value read from the object's member of the metric's name (a number, or a list of
numbers), the dimensions' values from the members of their names. The change monitor
reports its counts this way (``NotUndone``, ``MaintenanceRefused``, ... in namespace
``ddbguard``), and our alarms read them.

ministack writes the line to the log group and stops there, so those alarms never left
``INSUFFICIENT_DATA``. This patch reads each line ministack writes for a function and
records the metrics it declares (``cloudwatch.record_metric``), in the function's account
and region. ``metrics_of`` holds the rule and is pure. Lines that are not EMF, or that
break its rules (a dimension or a value missing), are only logged, as on AWS.
"""

from __future__ import annotations

import json
from typing import Any

Datapoint = tuple[str, str, float, str, dict[str, str]]  # namespace, name, value, unit, dimensions


def _values(raw: Any) -> list[float]:
    items = raw if isinstance(raw, list) else [raw]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in items):
        return []
    return [float(v) for v in items]


def metrics_of(line: str) -> list[Datapoint]:
    """The datapoints an EMF log line declares; none for any other line."""
    try:
        doc = json.loads(line)
    except ValueError:
        return []
    directives = (doc.get("_aws") or {}).get("CloudWatchMetrics") if isinstance(doc, dict) else None
    if not isinstance(directives, list):
        return []
    out: list[Datapoint] = []
    for directive in directives:
        namespace = directive.get("Namespace")
        if not isinstance(namespace, str):
            continue
        sets = directive.get("Dimensions") or [[]]
        for metric in directive.get("Metrics") or []:
            name = metric.get("Name")
            values = _values(doc.get(name)) if isinstance(name, str) else []
            for dimension_set in sets:
                if not all(isinstance(doc.get(d), str) for d in dimension_set):
                    continue  # AWS rejects the line: a dimension without its value
                dims = {d: doc[d] for d in dimension_set}
                out.extend((namespace, name, v, metric.get("Unit", "None"), dims) for v in values)
    return out


def install() -> None:
    from ministack.services import cloudwatch
    from ministack.services import lambda_svc as ms

    original = ms._emit_lambda_logs
    if getattr(original, "_localaws_patched", False):
        return

    def emit(func: dict, request_id: str, log_text: str, *args: Any, **kwargs: Any) -> None:
        original(func, request_id, log_text, *args, **kwargs)
        try:
            for line in (log_text or "").splitlines():
                if '"_aws"' in line:
                    for namespace, name, value, unit, dims in metrics_of(line.strip()):
                        cloudwatch.record_metric(namespace, name, value, unit, dims)
        except Exception:  # noqa: BLE001 - metrics must never break an invocation
            cloudwatch.logger.debug("localaws: EMF extraction failed", exc_info=True)

    emit._localaws_patched = True
    ms._emit_lambda_logs = emit

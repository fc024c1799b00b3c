"""The ``AWS/SQS`` metrics AWS publishes for every queue, which our alarms read.

AWS pushes each queue's ``ApproximateNumberOfMessagesVisible``,
``ApproximateNumberOfMessagesNotVisible`` and ``ApproximateNumberOfMessagesDelayed``
(dimension ``QueueName``) to CloudWatch at one-minute intervals, whether anyone reads
the queue or not. The change monitor's failed-records alarm reads the first one on its
failure queue.

ministack publishes no SQS metric, so that alarm stayed ``INSUFFICIENT_DATA`` with
messages waiting. This patch records the three for every queue of every account and
region every ``LOCALAWS_SQS_METRICS_SECONDS`` (default 10: AWS's minute, shortened like
the alarm evaluation's, so that tests need not wait for it), from ministack's own
counters. ``datapoints`` holds the rule and is pure.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

INTERVAL_SECONDS = float(os.environ.get("LOCALAWS_SQS_METRICS_SECONDS", "10"))
METRICS = {
    "ApproximateNumberOfMessagesVisible": "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible": "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed": "ApproximateNumberOfMessagesDelayed",
}


def datapoints(queue: dict[str, Any]) -> list[tuple[str, float, dict[str, str]]]:
    """(metric, value, dimensions) for one queue, from its refreshed attributes."""
    attributes = queue.get("attributes") or {}
    return [
        (metric, float(attributes.get(attribute) or 0), {"QueueName": queue["name"]})
        for metric, attribute in METRICS.items()
    ]


def install() -> None:
    from ministack.services import cloudwatch, sqs

    from localaws.compat import scope

    if getattr(sqs, "_localaws_metrics", False):
        return

    def publish() -> None:
        while True:
            time.sleep(INTERVAL_SECONDS)
            for (account, region, _url), queue in list(sqs._queues._data.items()):
                try:
                    with scope.account_region(account, region):
                        with sqs._queues_lock:
                            sqs._refresh_counts(queue)
                        for metric, value, dims in datapoints(queue):
                            cloudwatch.record_metric("AWS/SQS", metric, value, "Count", dims)
                except Exception:  # noqa: BLE001 - publishing must never stop
                    cloudwatch.logger.debug("localaws: SQS metrics failed", exc_info=True)

    sqs._localaws_metrics = True
    threading.Thread(target=publish, name="localaws-sqs-metrics", daemon=True).start()

"""Counts per invocation, printed in CloudWatch Embedded Metric Format (EMF).

CloudWatch turns the printed JSON line into metrics in the ``ddbguard`` namespace, with
the table as dimension. No agent and no API call are needed.
"""

from __future__ import annotations

import json
import time
from collections import Counter

METRICS = ("Undone", "Skipped", "Superseded", "Audited", "Failed", "Escalated", "MaintenanceRefused", "NotUndone")


def emf_line(table: str, counts: Counter) -> str:
    return json.dumps(
        {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": "ddbguard",
                        "Dimensions": [["Table"]],
                        "Metrics": [{"Name": name, "Unit": "Count"} for name in METRICS],
                    }
                ],
            },
            "Table": table,
            **{name: counts.get(name, 0) for name in METRICS},
        },
        sort_keys=True,
    )

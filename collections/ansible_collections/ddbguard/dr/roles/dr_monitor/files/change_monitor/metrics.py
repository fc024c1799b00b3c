"""Counts per invocation, printed in CloudWatch Embedded Metric Format (EMF).

CloudWatch turns the printed JSON line into metrics in the ``ddbguard`` namespace, with
the table as dimension. No agent and no API call are needed. A batch counts each
record's outcome (``Outcome.metric``) and two events of its own.
"""

from __future__ import annotations

import json
import time
from collections import Counter

from change_monitor.outcomes import Outcome

ESCALATED = "Escalated"
MAINTENANCE_REFUSED = "MaintenanceRefused"
METRICS = (
    *(o.metric for o in Outcome if o is not Outcome.REFUSED),  # a refusal answers an operation, not a batch
    ESCALATED,
    MAINTENANCE_REFUSED,
)


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

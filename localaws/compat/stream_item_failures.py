"""``ReportBatchItemFailures`` of a DynamoDB stream trigger, as AWS reads it (row 6).

AWS checkpoints before the lowest failed sequence number and retries from that record;
an identifier that is missing, empty or not in the batch fails the whole batch.
ministack ignored the response: the whole batch counted as done, so failed records were
skipped silently. ``stream_trigger``'s poller calls ``failed_from`` after each invocation.
"""

from __future__ import annotations

from typing import Any


def failed_from(result: dict[str, Any], entries: list[tuple[int, dict]], report_item_failures: bool) -> int | None:
    """Absolute position from which the batch must be retried, or None when it succeeded.

    A function error fails the whole batch. With ReportBatchItemFailures, the lowest
    reported sequence number is the checkpoint. An identifier that is missing, empty or
    not in the batch makes AWS treat the whole batch as failed.
    """
    first = entries[0][0]
    if result.get("error"):
        return first
    body = result.get("body")
    if not report_item_failures or not isinstance(body, dict):
        return None
    failures = body.get("batchItemFailures") or []
    if not failures:
        return None
    positions = {r["dynamodb"]["SequenceNumber"]: p for p, r in entries}
    ids = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
    if any(not i or i not in positions for i in ids):
        return first
    return positions[min(ids, key=int)]

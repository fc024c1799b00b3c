"""Carries out decisions against DynamoDB.

Every write is conditional, so a newer legitimate write always wins. A failed condition
is the outcome ``superseded``: it is logged, not retried. Throttling and 5xx answers are
retried by botocore's ``standard`` retry mode.
"""

from __future__ import annotations

from typing import Any

from change_monitor import core, images

APPLIED = "applied"
SUPERSEDED = "superseded"
NOTHING = "nothing-to-do"


class DynamoDbActions:
    """Executes a ``core.Decision`` with one conditional DynamoDB call."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def execute(self, decision: core.Decision) -> str:
        if decision.action == core.RESTORE_DELETED:
            return self._put_if_absent(decision)
        return NOTHING

    def _put_if_absent(self, decision: core.Decision) -> str:
        try:
            self._client.put_item(
                TableName=decision.table,
                Item=images.to_wire(decision.item),
                ConditionExpression="attribute_not_exists(#k)",
                ExpressionAttributeNames={"#k": decision.condition_attribute},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return SUPERSEDED
        return APPLIED

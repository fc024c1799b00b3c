"""In-memory stand-ins for AWS clients, for tests of the change monitor's adapter."""

from __future__ import annotations

import copy
from typing import Any


class ConditionalCheckFailedException(Exception):
    """Raised like botocore's modelled exception of the same name."""


class _Exceptions:
    ConditionalCheckFailedException = ConditionalCheckFailedException


class FakeDynamoDb:
    """A DynamoDB table keyed on the first key attribute, honouring ConditionExpression.

    Supports the conditions the adapter uses; any other condition raises, so a test
    cannot pass on a condition the fake silently ignores.
    """

    exceptions = _Exceptions()

    def __init__(self, key: str = "pk", fail_on: set[str] | None = None) -> None:
        self.key = key
        self.items: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_on = fail_on or set()

    def _id(self, item_or_key: dict[str, Any]) -> str:
        return repr(item_or_key[self.key])

    def put_item(self, **kwargs: Any) -> dict:
        self.calls.append(("put_item", copy.deepcopy(kwargs)))
        item = kwargs["Item"]
        if self._id(item) in self.fail_on:
            raise RuntimeError("injected failure")
        condition = kwargs.get("ConditionExpression")
        if condition == "attribute_not_exists(#k)":
            if self._id(item) in self.items:
                raise ConditionalCheckFailedException()
        elif condition is not None:
            raise NotImplementedError(condition)
        self.items[self._id(item)] = copy.deepcopy(item)
        return {}

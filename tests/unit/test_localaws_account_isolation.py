"""Row 34: an isolated account's principals are refused every call; other accounts are not."""

from __future__ import annotations

import json

import pytest

from localaws.compat import account_isolation


@pytest.fixture(autouse=True)
def _none_isolated():
    yield
    for account in account_isolation.set_isolated("000000000000", False):
        account_isolation.set_isolated(account, False)


def test_an_account_that_is_not_isolated_is_let_through():
    assert account_isolation.refusal("000000000000", "dynamodb") is None


def test_every_service_refuses_an_isolated_account_with_an_explicit_deny():
    assert account_isolation.set_isolated("000000000000", True) == ["000000000000"]
    for service in ("dynamodb", "backup", "iam", "sts", "lambda"):
        status, headers, body = account_isolation.refusal("000000000000", service)
        assert status == 403 and headers["x-amzn-errortype"] == "AccessDeniedException"
        assert "explicitly denied" in json.loads(body)["Message"]
    assert account_isolation.refusal("222222222222", "backup") is None


def test_isolation_ends():
    account_isolation.set_isolated("000000000000", True)
    assert account_isolation.set_isolated("000000000000", False) == []
    assert account_isolation.refusal("000000000000", "dynamodb") is None

"""Row 34: an isolated account's principals are refused every call, in each service's own
protocol (an SDK reads AccessDenied); other accounts are not."""

from __future__ import annotations

import json

import botocore.session
import pytest
from botocore.parsers import create_parser

from localaws.compat import account_isolation

SOURCE, RECOVERY = "000000000000", "222222222222"


@pytest.fixture(autouse=True)
def _none_isolated():
    yield
    for account in account_isolation.set_isolated(SOURCE, False):
        account_isolation.set_isolated(account, False)


def test_only_an_isolated_account_is_refused_and_isolation_ends():
    assert not account_isolation.isolated(SOURCE)
    assert account_isolation.set_isolated(SOURCE, True) == [SOURCE]
    assert account_isolation.isolated(SOURCE) and not account_isolation.isolated(RECOVERY)
    assert account_isolation.set_isolated(SOURCE, False) == []
    assert not account_isolation.isolated(SOURCE)


def parsed(service: str, operation: str, answer) -> dict:
    """The error as botocore reads it from the answer."""
    status, headers, body = answer
    model = botocore.session.get_session().get_service_model(service)
    parser = create_parser(model.metadata["protocol"])
    shape = model.operation_model(operation).output_shape
    return parser.parse({"status_code": status, "headers": headers, "body": body}, shape)["Error"]


@pytest.mark.parametrize(
    ("service", "model", "operation", "action"),
    [
        ("dynamodb", "dynamodb", "DescribeTable", "dynamodb:DescribeTable"),
        ("sts", "sts", "GetCallerIdentity", "sts:GetCallerIdentity"),
        ("backup", "backup", "ListBackupVaults", "backup:ListBackupVaults"),
    ],
)
def test_the_denial_is_an_explicit_deny_each_sdk_reads(service, model, operation, action):
    answer = account_isolation.denial(SOURCE, service, action, "req-1", {})
    assert answer[0] in (400, 403)
    error = parsed(model, operation, answer)
    assert "AccessDenied" in error["Code"]
    assert "isolated" in error["Message"] and SOURCE in error["Message"]


def test_a_call_without_a_known_action_is_denied_too():
    status, _, body = account_isolation.denial(SOURCE, "dynamodb", None, "req-2", {})
    assert status == 403 and "AccessDenied" in json.loads(body)["__type"]

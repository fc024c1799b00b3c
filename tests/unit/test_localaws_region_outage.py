"""Row 30: a region that is down refuses what is signed for it, and only that."""

from __future__ import annotations

import json

import pytest

from localaws.compat import region_outage


@pytest.fixture(autouse=True)
def _all_up():
    yield
    for region in region_outage.set_down("us-east-1", False):
        region_outage.set_down(region, False)


def test_a_region_that_is_up_lets_every_request_through():
    assert region_outage.refusal("us-east-1", "dynamodb") is None


def test_a_region_that_is_down_answers_503_service_unavailable_for_its_services():
    assert region_outage.set_down("us-east-1", True) == ["us-east-1"]
    status, headers, body = region_outage.refusal("us-east-1", "dynamodb")
    assert status == 503
    assert headers["x-amzn-errortype"] == "ServiceUnavailable"
    assert "us-east-1" in json.loads(body)["Message"]


def test_only_the_region_that_is_down_refuses_and_iam_stays_up():
    region_outage.set_down("us-east-1", True)
    assert region_outage.refusal("us-west-2", "dynamodb") is None
    assert region_outage.refusal("us-east-1", "iam") is None
    assert region_outage.refusal("us-east-1", "backup") is not None


def test_a_region_brought_back_answers_again():
    region_outage.set_down("us-east-1", True)
    assert region_outage.set_down("us-east-1", False) == []
    assert region_outage.refusal("us-east-1", "dynamodb") is None

"""The arn_like test matches ARNs as IAM's ArnLike operator does, offline."""

from __future__ import annotations

import pytest
from ansible_collections.ddbguard.dr.plugins.test import arn_like as plugin

arn_like = plugin.arn_like
ROLE = "arn:aws:iam::123456789012:role/ddbguard-break-glass"


@pytest.mark.parametrize(
    "patterns",
    [
        ROLE,
        [ROLE],
        ["arn:aws:iam::111111111111:role/other", ROLE],
        "arn:aws:iam::123456789012:role/ddbguard-*",
        "arn:aws:iam::*:role/ddbguard-break-glas?",
        "arn:*:iam::123456789012:role/*",
    ],
)
def test_matching_patterns(patterns):
    assert arn_like(ROLE, patterns)


@pytest.mark.parametrize(
    "patterns",
    [
        [],
        "arn:aws:iam::123456789012:role/DDBGUARD-break-glass",  # case-sensitive
        "arn:aws:iam::123456789012:role/ddbguard-break-glass-2",
        "arn:aws:iam::999999999999:role/*",
        "arn:aws:iam::123456789012:user/*",
        "*",  # not an ARN pattern: its parts do not line up
        "arn:aws:iam::123456789012:role/[d]dbguard-break-glass",  # brackets are literal in IAM
    ],
)
def test_patterns_that_do_not_match(patterns):
    assert not arn_like(ROLE, patterns)


@pytest.mark.parametrize("value", [None, "", "not-an-arn", 5, "arn:aws:iam::123456789012"])
def test_values_that_are_not_arns(value):
    assert not arn_like(value, "arn:*:*:*:*:*")


def test_it_is_registered_under_its_name():
    assert plugin.TestModule().tests()["arn_like"] is arn_like

"""The aws_region test knows AWS's regions from botocore's bundled data, offline."""

from __future__ import annotations

import pytest
from ansible_collections.ddbguard.dr.plugins.test import aws_region as plugin

aws_region = plugin.aws_region


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "us-gov-west-1", "cn-north-1"])
def test_known_regions(region):
    assert aws_region(region)


@pytest.mark.parametrize("region", ["eu-nowhere-1", "us-east-1 ", "US-EAST-1", "", None, 1])
def test_unknown_regions(region):
    assert not aws_region(region)


def test_the_service_counts():
    assert aws_region("us-east-1", service="backup")
    assert not aws_region("us-east-1", service="no-such-service")


def test_it_is_registered_under_its_name():
    assert plugin.TestModule().tests()["aws_region"] is aws_region

"""The one ISO 8601 helper every module uses: what users write, what AWS returns."""

from __future__ import annotations

import datetime

import pytest
from ansible_collections.ddbguard.dr.plugins.module_utils import times


@pytest.mark.parametrize(
    "text",
    ["2026-11-24T10:15:00Z", "2026-11-24T10:15:00+00:00", "2026-11-24T11:15:00+01:00", "2026-11-24T10:15:00"],
)
def test_every_form_of_the_same_moment_parses_to_it(text):
    expected = datetime.datetime(2026, 11, 24, 10, 15, tzinfo=datetime.UTC)
    assert times.parse_time(text, "created_before") == expected


def test_a_time_that_is_not_iso_8601_names_the_option():
    with pytest.raises(ValueError, match="restore_date_time must be an ISO 8601 time"):
        times.parse_time("yesterday", "restore_date_time")


def test_datetimes_print_as_iso_and_other_values_pass_through():
    moment = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    assert times.iso(moment) == "2026-01-02T03:04:05+00:00"
    assert times.iso(None) is None and times.iso("latest") == "latest"
    assert times.iso_from_epoch(moment.timestamp()) == "2026-01-02T03:04:05+00:00"
    assert times.epoch(moment) == moment.timestamp() and times.epoch("12.5") == 12.5

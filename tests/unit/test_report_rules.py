"""The rule every drill report is held to (tests/report_rules.py), on the checks that broke it."""

from __future__ import annotations

from tests.report_rules import not_run_without_reason, passes_without_measurement


def test_the_passes_the_issue_found_are_caught():
    report = {
        "checks": [
            {
                "name": "the DR-region vault holds a copy",
                "status": "pass",
                "measured": "no copy yet: no scheduled backup has run, and the plan copies only what it backs up",
            },
            {
                "name": "copy-back puts the restored canaries back in the live table",
                "status": "pass",
                "measured": '{"copied": 0, "deleted": 0, "unchanged": 3}; 0 live canaries differ afterwards',
            },
            {"name": "measured", "status": "pass", "measured": '{"copied": 1}; 0 live canaries differ afterwards'},
            {"name": "honest", "status": "not-run", "measured": "no copy yet: no scheduled backup has run"},
        ]
    }
    assert [c["name"] for c in passes_without_measurement(report)] == [
        "the DR-region vault holds a copy",
        "copy-back puts the restored canaries back in the live table",
    ]
    assert not_run_without_reason(report) == []
    assert not_run_without_reason({"checks": [{"name": "x", "status": "not-run", "measured": " "}]})

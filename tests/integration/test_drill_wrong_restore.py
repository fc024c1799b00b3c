"""The drill notices a point-in-time restore that does not return the table as it was.

The local AWS here is started with ``LOCALAWS_PITR_AS_OF=0``: its point-in-time restore
copies the current items, whatever the time asked (what ministack does on its own), as a
faulty restore would. The drill must fail on it and say which items differ.
"""

from __future__ import annotations

import os

import pytest

from localaws import launcher
from tests import report_rules
from tests.integration.conftest import LocalAws, free_port, report_files

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def faulty_aws(tmp_path_factory):
    os.environ["LOCALAWS_PITR_AS_OF"] = "0"
    target = launcher.Target(port=free_port(), home=tmp_path_factory.mktemp("localaws"))
    try:
        launcher.start(target)
    finally:
        os.environ.pop("LOCALAWS_PITR_AS_OF", None)
    yield LocalAws(target)
    launcher.stop(target)


def test_the_drill_fails_and_says_why_when_a_restored_item_differs(faulty_aws, tmp_path):
    faulty_aws.playbook("site.yml")
    run = faulty_aws.playbook(
        "playbooks/verify.yml",
        "-e",
        f"ddbguard_report_dir={tmp_path}",
        "-e",
        '{"dr_drill_tiers": ["point_in_time"]}',
        check=False,
    )
    assert run.returncode != 0 and "Recovery drill FAILED" in run.stdout
    [report] = [r for r in report_files(tmp_path) if "drill_id" in r]
    [check] = [c for c in report["checks"] if c["name"] == "a point-in-time restore holds the table as it was at T"]
    assert check["status"] == "fail"
    assert "2 canaries not at their first version" in check["measured"]
    assert "the item written after T is there" in check["measured"]
    assert report["passed"] is False
    assert report_rules.passes_without_measurement(report) == [], report["checks"]

"""The tables that say what lives where stay complete: a module of the change monitor, a
role, or a molecule scenario added without its line fails here."""

from __future__ import annotations

import re

from tests.conftest import ROOT

COLLECTION_ROLES = ROOT / "collections/ansible_collections/ddbguard/dr/roles"


def test_every_module_of_the_change_monitor_is_in_its_readme_table():
    table = (ROOT / "lambda" / "README.md").read_text()
    modules = sorted(p.name for p in (ROOT / "lambda" / "change_monitor").glob("*.py") if p.name != "__init__.py")
    assert len(modules) >= 14
    missing = [m for m in modules if f"`{m}`" not in table and f"`{m}` (" not in table]
    assert missing == [], f"lambda/README.md's Shape table lacks {missing}"


def test_every_role_is_in_the_roles_readme_and_the_collections():
    roles_readme = (ROOT / "roles" / "README.md").read_text()
    collection_readme = (ROOT / "collections/ansible_collections/ddbguard/dr/README.md").read_text()
    collection = sorted(p.name for p in COLLECTION_ROLES.iterdir() if p.is_dir())
    local = sorted(p.name for p in (ROOT / "roles").iterdir() if p.is_dir())
    assert [r for r in collection + local if f"`{r}`" not in roles_readme] == []
    assert [r for r in collection if f"`ddbguard.dr.{r}`" not in collection_readme] == []


def test_every_molecule_scenario_is_named_in_the_tests_readme():
    text = " ".join((ROOT / "tests" / "README.md").read_text().split())
    scenarios = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))
    assert "default" in scenarios
    assert [s for s in scenarios if f"`{s}`" not in text] == []


def test_each_row_of_the_emulator_ledger_has_a_file_of_its_own():
    """docs/emulator.md: one file of localaws/compat/ per AWS behaviour, named first in its row."""
    rows = [line for line in (ROOT / "docs/emulator.md").read_text().splitlines() if re.match(r"^\| \d+ \|", line)]
    assert len(rows) >= 21
    files = [re.search(r"`localaws/compat/([a-z_]+\.py)`", row.rsplit(" | ", 1)[-1]) for row in rows]
    assert all(files), [row[:60] for row, f in zip(rows, files, strict=True) if not f]
    names = [f.group(1) for f in files]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    missing = [n for n in names if not (ROOT / "localaws/compat" / n).is_file()]
    assert missing == []
    # And each behaviour has its row; the helpers named here have none.
    # (stream_trigger.py is the stream poller that rows 6, 7, 16 and 18 live in.)
    helpers = {"__init__.py", "scope.py", "answers.py", "iam_request.py", "stream_trigger.py"}
    files = {p.name for p in (ROOT / "localaws/compat").glob("*.py")} - helpers
    assert sorted(files - set(names)) == []

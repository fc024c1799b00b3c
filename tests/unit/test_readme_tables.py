"""The tables that say what lives where stay complete: a module of the change monitor, a
role, or a molecule scenario added without its line fails here."""

from __future__ import annotations

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

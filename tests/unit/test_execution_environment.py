"""The collection as AWX and Ansible Automation Platform users run it: in an execution
environment that ansible-builder builds. No container engine is needed to check that the
definition makes a build context and that the collection's needs are read from it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT

COLLECTION = ROOT / "collections/ansible_collections/ddbguard/dr"
BIN = Path(sys.executable).parent
VERSION = yaml.safe_load((COLLECTION / "galaxy.yml").read_text())["version"]


def test_ansible_builder_reads_the_collections_python_needs(tmp_path):
    """ansible-builder's introspection (what it runs when an image includes ddbguard.dr)."""
    stage = tmp_path / "ansible_collections/ddbguard/dr"
    shutil.copytree(COLLECTION, stage, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    answer = subprocess.run(
        [BIN / "ansible-builder", "introspect", "--sanitize", tmp_path], capture_output=True, text=True, check=True
    )
    data = yaml.safe_load(answer.stdout.split("---", 1)[1])
    wanted = [line.split("#")[0].strip() for line in (COLLECTION / "requirements.txt").read_text().splitlines()]
    wanted = [w for w in wanted if w]
    assert wanted, "requirements.txt declares nothing"
    assert [line.split("#")[0].strip() for line in data["python"]] == wanted


def test_ansible_builder_creates_the_build_context_from_a_fresh_collection(tmp_path):
    shutil.copy(ROOT / "execution-environment.yml", tmp_path)
    shutil.copytree(ROOT / "execution-environment", tmp_path / "execution-environment")
    subprocess.run(
        [BIN / "ansible-galaxy", "collection", "build", "--output-path", tmp_path / "build", COLLECTION],
        capture_output=True,
        check=True,
    )
    answer = subprocess.run(
        [BIN / "ansible-builder", "create", "--output-filename", "Containerfile", "-c", tmp_path / "context"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert answer.returncode == 0, answer.stdout + answer.stderr
    context = tmp_path / "context"
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile
    assert "pip install" in containerfile or "pip_install" in containerfile
    tarball = context / "_build/collections" / f"ddbguard-dr-{VERSION}.tar.gz"
    assert tarball.is_file(), sorted(p.name for p in (context / "_build").rglob("*"))
    # The image installs exactly the collection that was built, and what it depends on.
    wanted = yaml.safe_load((context / "_build/requirements.yml").read_text())["collections"]
    assert f"/build/collections/{tarball.name}" in [c["name"] for c in wanted]
    galaxy = yaml.safe_load((COLLECTION / "galaxy.yml").read_text())["dependencies"]
    assert {c["name"]: c.get("version") for c in wanted if "/" not in c["name"]} == galaxy

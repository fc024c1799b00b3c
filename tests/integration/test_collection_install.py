"""The collection as operators get it: built into a tarball, installed alone, used alone.

The play below lives in a temporary folder, with an empty roles path and an
ansible.cfg of its own: nothing of this repository is on any path, only the installed
ddbguard.dr and the amazon.aws and community.aws that the `ansible` bundle carries.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import yaml

from localaws import principals
from tests.integration.conftest import ROOT

pytestmark = pytest.mark.integration

COLLECTION = ROOT / "collections" / "ansible_collections" / "ddbguard" / "dr"
BIN = Path(sys.executable).parent
MODULES = sorted(p.stem for p in (COLLECTION / "plugins" / "modules").glob("*.py"))
ROLES = sorted(p.name for p in (COLLECTION / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())
TABLE = "installed-collection-demo"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Build the tarball, install it into an empty collections path; return (tarball, env, workdir)."""
    work = tmp_path_factory.mktemp("collection")
    built = subprocess.run(
        [BIN / "ansible-galaxy", "collection", "build", "--output-path", work, COLLECTION],
        capture_output=True,
        text=True,
        check=True,
    )
    [tarball] = work.glob("ddbguard-dr-*.tar.gz")
    path = work / "installed"
    (work / "ansible.cfg").write_text(
        f"[defaults]\ncollections_path = {path}\nroles_path = {work / 'no-roles'}\ninterpreter_python = auto_silent\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_CONFIG=str(work / "ansible.cfg"), ANSIBLE_NOCOLOR="1", PATH=f"{BIN}{os.pathsep}{env['PATH']}")
    # --no-deps: amazon.aws and community.aws come with the pinned `ansible` bundle, as
    # they would come from Galaxy on a machine that can reach it.
    subprocess.run(
        [BIN / "ansible-galaxy", "collection", "install", "--no-deps", "-p", path, tarball],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=work,
    )
    assert "Created collection" in built.stdout
    return tarball, env, work


def test_the_tarball_holds_roles_modules_and_the_monitor_but_no_caches(installed):
    tarball, _env, _work = installed
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
        manifest = json.loads(archive.extractfile("MANIFEST.json").read())
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/output/" in n or ".cache" in n]
    assert not [n for n in names if n.startswith("tests/output") or ".pytest_cache" in n or ".hypothesis" in n]
    for role in ("dr_kms", "dr_table", "dr_monitor", "dr_drill"):
        assert f"roles/{role}/meta/argument_specs.yml" in names
    assert "roles/dr_monitor/files/change_monitor/handler.py" in names
    assert {f"plugins/modules/{m}.py" for m in MODULES} <= set(names)
    assert manifest["collection_info"]["dependencies"] == {
        "amazon.aws": ">=10.0.0,<11.0.0",
        "community.aws": ">=10.0.0,<11.0.0",
        "ansible.utils": ">=6.0.0,<7.0.0",
    }


def test_ansible_doc_lists_every_module_and_role_from_the_installed_copy(installed):
    _tarball, env, work = installed
    modules = subprocess.run(
        [BIN / "ansible-doc", "-t", "module", "-l", "ddbguard.dr", "--json"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=work,
    )
    assert sorted(k.split(".")[-1] for k in json.loads(modules.stdout)) == MODULES
    roles = subprocess.run(
        [BIN / "ansible-doc", "-t", "role", "-l", "ddbguard.dr", "--json"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=work,
    )
    listed = json.loads(roles.stdout)
    assert sorted(k.split(".")[-1] for k in listed) == ROLES
    for role in ROLES:
        shown = subprocess.run(
            [BIN / "ansible-doc", "-t", "role", f"ddbguard.dr.{role}"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            cwd=work,
        )
        assert re.search(r"ENTRY POINT: \*?main\*? - \S", shown.stdout), shown.stdout[:500]
        assert str(work / "installed" / "ansible_collections" / "ddbguard" / "dr") in shown.stdout.splitlines()[0]
    where = subprocess.run(
        [BIN / "ansible-galaxy", "collection", "list", "ddbguard.dr", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=work,
    )
    assert list(json.loads(where.stdout)) == [str(work / "installed" / "ansible_collections")]


def test_a_play_using_only_the_installed_roles_protects_a_table(installed, local_aws):
    _tarball, env, work = installed
    operator = principals.load(local_aws.target.dir)["operator"]
    play = [
        {
            "name": "Protect a table with the installed collection only",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
            "module_defaults": {
                "group/ddbguard.dr.aws": {
                    "region": "us-east-1",
                    "endpoint_url": local_aws.endpoint,
                    # The operator's key (localaws/principals.py): the local AWS evaluates IAM.
                    "access_key": operator["access_key_id"],
                    "secret_key": operator["secret_access_key"],
                }
            },
            "roles": [
                {
                    "role": "ddbguard.dr.dr_kms",
                    "vars": {"dr_kms_region": "us-east-1", "dr_kms_log_group_names": ["/aws/lambda/*-change-monitor"]},
                },
                {
                    "role": "ddbguard.dr.dr_table",
                    "vars": {"dr_table_name": TABLE, "dr_table_kms_key_arn": "{{ dr_kms_key_arn }}"},
                },
                {
                    "role": "ddbguard.dr.dr_monitor",
                    "vars": {
                        "dr_monitor_table_name": TABLE,
                        "dr_monitor_region": "us-east-1",
                        "dr_monitor_mode": "undo",
                        "dr_monitor_stream_arn": "{{ dr_table_stream_arn }}",
                        "dr_monitor_kms_key_arn": "{{ dr_kms_key_arn }}",
                    },
                },
            ],
        }
    ]
    (work / "protect.yml").write_text(yaml.safe_dump(play, sort_keys=False))
    run = subprocess.run(
        [BIN / "ansible-playbook", "-i", "localhost,", "protect.yml"],
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-2000:]
    assert str(ROOT) not in run.stdout

    ddb = local_aws.client("dynamodb")
    table = ddb.describe_table(TableName=TABLE)["Table"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert table["DeletionProtectionEnabled"] is True
    # The monitor was packaged from the installed collection: a deleted item comes back.
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": "installed"}, "n": {"N": "1"}})
    time.sleep(1)
    ddb.delete_item(TableName=TABLE, Key={"pk": {"S": "installed"}})
    deadline = time.monotonic() + 30
    item = None
    while item is None and time.monotonic() < deadline:
        item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": "installed"}}, ConsistentRead=True).get("Item")
        time.sleep(0.1)
    assert item is not None and item["n"] == {"N": "1"}

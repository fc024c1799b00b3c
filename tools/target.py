"""What `make logs` and `make status` read of an inventory, and their AWS clients.

The variables are those of group ``all`` (untemplated: ``ansible-inventory --export``).
On the local inventory the clients act as one of the local AWS's principals
(localaws/principals.py) on $LOCAL_AWS_PORT; on AWS they use the standard credential
chain, in the inventory's region (``ddbguard_aws.region``).
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import boto3
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "collections"))
sys.path.insert(0, str(ROOT))

from localaws import launcher, principals  # noqa: E402


def module_utils(name: str):
    """One of the collection's module_utils (this repository's copy)."""
    return importlib.import_module(f"ansible_collections.ddbguard.dr.plugins.module_utils.{name}")


def inventory(path: str) -> dict:
    """The variables of group `all` of an inventory (untemplated)."""
    out = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-inventory"), "-i", path, "--list", "--export"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    doc = json.loads(out)
    return doc.get("all", {}).get("vars", {}) or doc.get("_meta", {}).get("hostvars", {}).get("localhost", {})


def defaults_of(role: str) -> dict:
    """A role's defaults, as the collection ships them (for what the inventory leaves out)."""
    path = ROOT / "collections/ansible_collections/ddbguard/dr/roles" / role / "defaults/main.yml"
    return yaml.safe_load(path.read_text()) or {}


def region(variables: dict) -> str:
    return (variables.get("ddbguard_aws") or {}).get("region") or "us-east-1"


def client_factory(variables: dict, local_principal: str):
    """A function (service, region=None) -> boto3 client, for the inventory's target."""
    default = region(variables)
    if variables.get("ddbguard_target") == "local":
        target = launcher.Target.from_env()

        def local(service: str, where: str | None = None):
            return principals.client(target.dir, target.endpoint, local_principal, service, where or default)

        return local
    session = boto3.Session()

    def aws(service: str, where: str | None = None):
        return session.client(service, region_name=where or default)

    return aws

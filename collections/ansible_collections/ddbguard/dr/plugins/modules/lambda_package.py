#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: lambda_package
version_added: 0.1.0
short_description: Build a reproducible zip of Lambda source code
description:
  - Zips the files under O(src) with fixed timestamps and permissions and in name order,
    so that the same source always gives the same bytes.
  - Fills a gap that C(community.general.archive) leaves. That module stores each file's
    modification time, so a fresh checkout of unchanged code yields a new zip, and
    C(amazon.aws.lambda) then redeploys the function and reports a change on every run.
  - Reports a change only when the bytes at O(dest) would differ.
author:
  - ddbguard maintainers (@ddbguard)
options:
  src:
    description: Directory holding the code.
    type: path
    required: true
  dest:
    description: Path of the zip to write.
    type: path
    required: true
  prefix:
    description: Folder inside the zip that holds the files (for a package, its name). Empty for the zip root.
    type: str
    default: ""
  include:
    description: Glob patterns (relative to O(src)) of the files to include.
    type: list
    elements: str
    default: ["*.py"]
  exclude:
    description: Glob patterns of files to leave out.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Package the change monitor
  ddbguard.dr.lambda_package:
    src: "{{ playbook_dir }}/lambda/change_monitor"
    prefix: change_monitor
    dest: "{{ playbook_dir }}/build/change_monitor.zip"
  register: monitor_zip
"""

RETURN = r"""
dest:
  description: Path of the zip.
  returned: always
  type: str
code_sha256:
  description: Base64 SHA-256 of the zip, as Lambda reports it in C(CodeSha256).
  returned: always
  type: str
files:
  description: Archive names of the files in the zip.
  returned: always
  type: list
  elements: str
"""

import os
import tempfile
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ddbguard.dr.plugins.module_utils.package import build, collect, lambda_code_sha256

ARGUMENT_SPEC = dict(
    src=dict(type="path", required=True),
    dest=dict(type="path", required=True),
    prefix=dict(type="str", default=""),
    include=dict(type="list", elements="str", default=["*.py"]),
    exclude=dict(type="list", elements="str", default=[]),
)
SUPPORTS_CHECK_MODE = True


def differs(dest: str, data: bytes) -> bool:
    """Whether ``dest`` is missing or holds other bytes."""
    try:
        with open(dest, "rb") as handle:
            return handle.read() != data
    except FileNotFoundError:
        return True


def write(dest: str, data: bytes) -> None:
    """Replace ``dest`` atomically, through a file of this process's own (two plays may
    package the same function at once on one controller)."""
    folder = os.path.dirname(dest) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".lambda-package-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def run(module: AnsibleModule) -> dict[str, Any]:
    src, dest = module.params["src"], module.params["dest"]
    if not os.path.isdir(src):
        module.fail_json(msg=f"src {src} is not a directory")
    files = collect(src, module.params["include"], module.params["exclude"])
    if not files:
        module.fail_json(msg=f"no file under {src} matches {module.params['include']}")
    data = build(files, module.params["prefix"].strip("/"))
    changed = differs(dest, data)
    if changed and not module.check_mode:
        write(dest, data)
    return dict(changed=changed, dest=dest, code_sha256=lambda_code_sha256(data), files=[rel for rel, _path in files])


def main() -> None:
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()

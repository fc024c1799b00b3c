"""Offline stand-in for the pip bootstrap script that ansible-test downloads.

ansible-test bootstraps pip into each virtual environment it creates with a script it
downloads from ci-files.testing.ansible.com. That host is not reachable from the
machines this project is built on (only the package registries are), so
``tools/sanity.sh`` saves this file where ansible-test caches that script
(``~/.ansible/test/cache/get_pip_<version>.py``). It does what the original does, from
the package index instead: install the pip that ships with Python (``ensurepip``), then
``pip install`` the packages ansible-test asks for (its pinned pip).

ansible-test calls it as ``get_pip.py [pip options] pip==X --no-setuptools --no-wheel``.
The last two options belong to get-pip.py, not to ``pip install``, so they are dropped.
"""

from __future__ import annotations

import os
import subprocess
import sys

OWN_OPTIONS = ("--no-setuptools", "--no-wheel")


def main(argv: list[str]) -> int:
    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True)  # noqa: S603
    args = [a for a in argv if a not in OWN_OPTIONS]
    cert = os.environ.get("PIP_CERT")
    command = [sys.executable, "-m", "pip", "install", *(["--cert", cert] if cert else []), *args]
    return subprocess.run(command, check=False).returncode  # noqa: S603


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reproducible zip archives for Lambda code: same files in, same bytes out."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import io
import os
import zipfile

# 1980-01-01, the earliest time a zip entry can carry.
FIXED_DATE_TIME = (1980, 1, 1, 0, 0, 0)


def collect(src: str, include: list[str], exclude: list[str]) -> list[tuple[str, str]]:
    """Sorted (archive name, absolute path) of the files under ``src`` that match."""
    found = []
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in files:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src).replace(os.sep, "/")
            if any(fnmatch.fnmatch(rel, p) for p in include) and not any(fnmatch.fnmatch(rel, p) for p in exclude):
                found.append((rel, path))
    return sorted(found)


def build(files: list[tuple[str, str]], prefix: str) -> bytes:
    """Zip bytes with fixed timestamps and permissions, entries in name order."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for rel, path in files:
            info = zipfile.ZipInfo(f"{prefix}/{rel}" if prefix else rel, date_time=FIXED_DATE_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(path, "rb") as handle:
                archive.writestr(info, handle.read())
    return buf.getvalue()


def lambda_code_sha256(data: bytes) -> str:
    """The digest Lambda reports as ``CodeSha256``: base64 of the SHA-256."""
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")

"""lambda_package writes the function's archive whole, whoever else writes it at the same time."""

from __future__ import annotations

import io
import os
import threading
import zipfile

from ansible_collections.ddbguard.dr.plugins.modules import lambda_package


def archive(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        out.writestr("a.py", "x" * size)
    return buffer.getvalue()


def test_a_package_is_written_whole_even_by_two_writers_at_once(tmp_path):
    """Two plays may package the same function at once: each writes a file of its own,
    then renames it; the package is always one whole archive and no scratch file is left."""
    dest = str(tmp_path / "build" / "f.zip")
    payloads = [archive(200_000), archive(200_001)]

    def write_often(payload: bytes) -> None:
        for _attempt in range(20):
            lambda_package.write(dest, payload)

    threads = [threading.Thread(target=write_often, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with open(dest, "rb") as handle:
        assert handle.read() in payloads
    with zipfile.ZipFile(dest) as written:
        assert written.testzip() is None
    assert os.listdir(tmp_path / "build") == ["f.zip"]
    assert os.stat(dest).st_mode & 0o777 == 0o644

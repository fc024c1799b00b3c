"""AWS-compatibility patches for ministack, installed in the emulator process only.

Each patch module exposes ``install()`` and documents the AWS behaviour it follows.
The list here is the single place that decides which patches run; ``docs/emulator.md``
has one row per patch.
"""

from __future__ import annotations

from localaws.compat import backup, pitr, stream_trigger, streams, ttl

PATCHES = (backup, pitr, streams, stream_trigger, ttl)


def install() -> list[str]:
    """Install every patch; return their names for the start-up log."""
    names = []
    for patch in PATCHES:
        patch.install()
        names.append(patch.__name__.rsplit(".", 1)[-1])
    return names

"""AWS-compatibility patches for ministack, installed in the emulator process only.

Each patch module exposes ``install()`` and documents the AWS behaviour it follows.
The list here is the single place that decides which patches run. ``docs/emulator.md``
has one row per AWS behaviour, naming the file that makes it faithful (a file may handle
several rows until each behaviour has its own); ``scope`` is a helper, not a patch.
"""

from __future__ import annotations

from localaws.compat import (
    alarm_evaluation,
    backup,
    backup_plan_versions,
    backup_selection_conditions,
    backup_vault_policy,
    embedded_metrics,
    pitr,
    pitr_history,
    restore_encryption,
    sqs_metrics,
    stream_trigger,
    streams,
    ttl,
    ttl_update_limit,
)

PATCHES = (
    backup,
    backup_vault_policy,
    backup_selection_conditions,
    backup_plan_versions,
    pitr,
    pitr_history,
    restore_encryption,  # after pitr_history: it wraps the point-in-time restore that one installs
    streams,
    stream_trigger,
    ttl,
    ttl_update_limit,
    embedded_metrics,
    sqs_metrics,
    alarm_evaluation,
)


def install() -> list[str]:
    """Install every patch; return their names for the start-up log."""
    names = []
    for patch in PATCHES:
        patch.install()
        names.append(patch.__name__.rsplit(".", 1)[-1])
    return names

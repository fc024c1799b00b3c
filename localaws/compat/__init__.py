"""AWS-compatibility patches for ministack, installed in the emulator process only.

``docs/emulator.md`` has one row per AWS behaviour, and each row one file here that makes
it faithful. Most are patches: they expose ``install()``, and ``PATCHES`` is the single
place that decides which run. The behaviours met inside one ministack handler are modules
that its patch calls: ``stream_trigger`` (the stream poller) calls ``stream_item_failures``,
``stream_retries``, ``stream_metrics`` and ``stream_lanes``; ``backup`` (the AWS Backup
router) calls ``backup_vault_not_found``, ``backup_vault_lock`` and ``restore_job_role``.
``scope`` and ``answers`` are helpers.
"""

from __future__ import annotations

from localaws.compat import (
    account_isolation,
    alarm_evaluation,
    backup,
    backup_plan_versions,
    backup_selection_conditions,
    backup_vault_policy,
    embedded_metrics,
    full_export,
    iam_action_names,
    iam_pass_role,
    iam_policy_arn,
    iam_principal_arn,
    iam_resource_arns,
    incremental_export,
    logs_pagination,
    pitr,
    pitr_history,
    ram,
    region_outage,
    restore_encryption,
    sqs_metrics,
    stepfunctions_role,
    stream_filter,
    stream_trigger,
    streams,
    ttl,
    ttl_update_limit,
)

PATCHES = (
    backup,
    ram,  # after backup: RAM's state is kept with AWS Backup's
    backup_vault_policy,
    backup_selection_conditions,
    backup_plan_versions,
    pitr,
    pitr_history,
    incremental_export,  # after pitr_history: it reads the history that one keeps
    full_export,  # after incremental_export: it wraps that one's export and shares its writing
    restore_encryption,  # after pitr_history: it wraps the point-in-time restore that one installs
    streams,
    stream_filter,
    stream_trigger,
    ttl,
    ttl_update_limit,
    embedded_metrics,
    sqs_metrics,
    logs_pagination,
    alarm_evaluation,
    iam_action_names,
    iam_principal_arn,
    iam_resource_arns,
    iam_pass_role,
    iam_policy_arn,
    stepfunctions_role,
    account_isolation,  # an isolated account is refused before any patch below sees its request
    region_outage,  # last: a region that is down answers before any other patch sees the request
)


def install() -> list[str]:
    """Install every patch; return their names for the start-up log."""
    names = []
    for patch in PATCHES:
        patch.install()
        names.append(patch.__name__.rsplit(".", 1)[-1])
    return names

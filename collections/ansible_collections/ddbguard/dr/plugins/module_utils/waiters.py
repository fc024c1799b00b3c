# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiters that botocore lacks, built on amazon.aws' BaseWaiterFactory.

botocore has ``table_exists`` (table ACTIVE) but nothing that waits for an export, a table's SSE
change to settle, for point-in-time recovery to leave ENABLING, or for an event source
mapping to leave Creating/Updating. The factory adds throttling retries to each.
"""

from __future__ import annotations

from typing import Any

try:
    from botocore.exceptions import WaiterError
except ImportError:  # pragma: no cover - AnsibleAWSModule reports the missing botocore
    WaiterError = Exception

from ansible_collections.amazon.aws.plugins.module_utils.waiter import BaseWaiterFactory, custom_waiter_config
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardAWSError

_TABLE_SETTLED = (
    "Table.TableStatus == 'ACTIVE' && "
    "(Table.SSEDescription.Status == null || Table.SSEDescription.Status == 'ENABLED' "
    "|| Table.SSEDescription.Status == 'DISABLED')"
)
_PITR_STATUS = "ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus"
_TTL_STATUS = "TimeToLiveDescription.TimeToLiveStatus"


class DrWaiterFactory(BaseWaiterFactory):
    @property
    def _waiter_model_data(self) -> dict[str, Any]:
        return dict(
            table_settled=dict(
                operation="DescribeTable",
                delay=2,
                maxAttempts=300,
                acceptors=[
                    dict(state="success", matcher="path", argument=_TABLE_SETTLED, expected=True),
                    dict(state="retry", matcher="path", argument=_TABLE_SETTLED, expected=False),
                ],
            ),
            pitr_settled=dict(
                operation="DescribeContinuousBackups",
                delay=2,
                maxAttempts=300,
                acceptors=[
                    dict(state="success", matcher="path", argument=_PITR_STATUS, expected="ENABLED"),
                    dict(state="success", matcher="path", argument=_PITR_STATUS, expected="DISABLED"),
                    dict(state="retry", matcher="path", argument=_PITR_STATUS, expected="ENABLING"),
                    dict(state="retry", matcher="path", argument=_PITR_STATUS, expected="DISABLING"),
                ],
            ),
            ttl_settled=dict(
                operation="DescribeTimeToLive",
                delay=2,
                maxAttempts=300,
                acceptors=[
                    dict(state="success", matcher="path", argument=_TTL_STATUS, expected="ENABLED"),
                    dict(state="success", matcher="path", argument=_TTL_STATUS, expected="DISABLED"),
                    dict(state="retry", matcher="path", argument=_TTL_STATUS, expected="ENABLING"),
                    dict(state="retry", matcher="path", argument=_TTL_STATUS, expected="DISABLING"),
                ],
            ),
            backup_job_completed=dict(
                operation="DescribeBackupJob",
                delay=5,
                maxAttempts=720,
                acceptors=[
                    dict(state="success", matcher="path", argument="State", expected="COMPLETED"),
                    dict(state="failure", matcher="path", argument="State", expected="FAILED"),
                    dict(state="failure", matcher="path", argument="State", expected="ABORTED"),
                    dict(state="failure", matcher="path", argument="State", expected="EXPIRED"),
                    dict(state="retry", matcher="path", argument="State", expected="CREATED"),
                    dict(state="retry", matcher="path", argument="State", expected="PENDING"),
                    dict(state="retry", matcher="path", argument="State", expected="RUNNING"),
                ],
            ),
            # Every end state succeeds: the caller reads the job and reports AWS's message.
            copy_job_ended=dict(
                operation="DescribeCopyJob",
                delay=5,
                maxAttempts=2880,
                acceptors=[
                    dict(state="success", matcher="path", argument="CopyJob.State", expected="COMPLETED"),
                    dict(state="success", matcher="path", argument="CopyJob.State", expected="FAILED"),
                    dict(state="success", matcher="path", argument="CopyJob.State", expected="ABORTED"),
                    dict(state="success", matcher="path", argument="CopyJob.State", expected="PARTIAL"),
                    dict(state="retry", matcher="path", argument="CopyJob.State", expected="CREATED"),
                    dict(state="retry", matcher="path", argument="CopyJob.State", expected="RUNNING"),
                ],
            ),
            restore_job_completed=dict(
                operation="DescribeRestoreJob",
                delay=5,
                maxAttempts=1440,
                acceptors=[
                    dict(state="success", matcher="path", argument="Status", expected="COMPLETED"),
                    dict(state="failure", matcher="path", argument="Status", expected="FAILED"),
                    dict(state="failure", matcher="path", argument="Status", expected="ABORTED"),
                    dict(state="retry", matcher="path", argument="Status", expected="PENDING"),
                    dict(state="retry", matcher="path", argument="Status", expected="RUNNING"),
                ],
            ),
            export_completed=dict(
                operation="DescribeExport",
                delay=5,
                maxAttempts=720,
                acceptors=[
                    dict(
                        state="success", matcher="path", argument="ExportDescription.ExportStatus", expected="COMPLETED"
                    ),
                    dict(state="failure", matcher="path", argument="ExportDescription.ExportStatus", expected="FAILED"),
                    dict(
                        state="retry", matcher="path", argument="ExportDescription.ExportStatus", expected="IN_PROGRESS"
                    ),
                ],
            ),
            event_source_mapping_settled=dict(
                operation="GetEventSourceMapping",
                delay=1,
                maxAttempts=300,
                acceptors=[
                    dict(state="success", matcher="path", argument="State", expected="Enabled"),
                    dict(state="success", matcher="path", argument="State", expected="Disabled"),
                    dict(state="retry", matcher="path", argument="State", expected="Creating"),
                    dict(state="retry", matcher="path", argument="State", expected="Enabling"),
                    dict(state="retry", matcher="path", argument="State", expected="Updating"),
                    dict(state="retry", matcher="path", argument="State", expected="Disabling"),
                ],
            ),
            event_source_mapping_deleted=dict(
                operation="GetEventSourceMapping",
                delay=1,
                maxAttempts=300,
                acceptors=[
                    dict(state="success", matcher="error", expected="ResourceNotFoundException"),
                    dict(state="retry", matcher="path", argument="State", expected="Deleting"),
                ],
            ),
        )


_FACTORY: DrWaiterFactory | None = None


def _config(timeout: int, pause: int) -> dict[str, int]:
    return custom_waiter_config(timeout=timeout, default_pause=pause)


def wait(client: Any, waiter_name: str, timeout: int, **params: Any) -> None:
    """Wait with a waiter of ours; raise ``DdbguardAWSError`` naming it on timeout or failure."""
    global _FACTORY  # pylint: disable=global-statement
    if _FACTORY is None:
        _FACTORY = DrWaiterFactory()
    try:
        _FACTORY.get_waiter(client, waiter_name).wait(WaiterConfig=_config(timeout, 1), **params)
    except WaiterError as err:
        raise DdbguardAWSError(
            message=f"{waiter_name}: not reached within {timeout}s, or a failure state was reached", exception=err
        ) from err


def wait_table_active(client: Any, name: str, timeout: int) -> None:
    """botocore's own ``table_exists`` waiter (table ACTIVE), with our timeout."""
    try:
        client.get_waiter("table_exists").wait(TableName=name, WaiterConfig=_config(timeout, 2))
    except WaiterError as err:
        raise DdbguardAWSError(message=f"Table {name} did not become ACTIVE within {timeout}s", exception=err) from err

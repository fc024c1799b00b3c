# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiters that botocore lacks, built on amazon.aws' BaseWaiterFactory.

botocore has ``table_exists`` (table ACTIVE) but nothing that waits for a table's SSE
change to settle, for point-in-time recovery to leave ENABLING, or for an event source
mapping to leave Creating/Updating. The factory adds throttling retries to each.
"""

from ansible_collections.amazon.aws.plugins.module_utils.waiter import BaseWaiterFactory, custom_waiter_config

_TABLE_SETTLED = (
    "Table.TableStatus == 'ACTIVE' && "
    "(Table.SSEDescription.Status == null || Table.SSEDescription.Status == 'ENABLED' "
    "|| Table.SSEDescription.Status == 'DISABLED')"
)
_PITR_STATUS = "ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus"
_TTL_STATUS = "TimeToLiveDescription.TimeToLiveStatus"


class DrWaiterFactory(BaseWaiterFactory):
    @property
    def _waiter_model_data(self):
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


_FACTORY = None


def wait(module, client, waiter_name, timeout, **params):
    """Wait with a waiter of ours; fail the module with a clear message on timeout."""
    global _FACTORY
    if _FACTORY is None:
        _FACTORY = DrWaiterFactory()
    try:
        from botocore.exceptions import WaiterError
    except ImportError:  # pragma: no cover - AnsibleAWSModule already reported it
        WaiterError = Exception
    try:
        _FACTORY.get_waiter(client, waiter_name).wait(
            WaiterConfig=custom_waiter_config(timeout=timeout, default_pause=1), **params
        )
    except WaiterError as err:
        module.fail_json_aws(err, msg=f"Timed out after {timeout}s waiting for {waiter_name}")

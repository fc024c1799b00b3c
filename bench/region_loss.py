"""Recovery from a recovery point at table sizes: restored in the table's own region (tier 2),
copied to the DR region then restored there (tier 3, a lost region), and copied to a
logically air-gapped vault then restored by the recovery account it is shared with (tier 3,
a lost account).

For each size, on a fresh local AWS (as the accounts' roots: the bench times AWS Backup's
jobs, not our modules): a table of N items of about 1 KB, an AWS Backup vault in the
primary and in the DR region, a logically air-gapped vault shared through AWS RAM with the
recovery account (accepted), and a backup role in each account. Measured, each from its
start call to the end the API reports (the table ACTIVE for restores): the backup job; the
restore of its recovery point in the primary region; the copy job to the DR region's vault;
the restore of the copy in the DR region; the copy job to the air-gapped vault; the restore
of that copy by the recovery account, into itself; and the items each restored table of
tier 3 holds (counted by a ``Scan`` with ``Select: COUNT``). ``BENCH_REGION_LOSS_SIZES``
(comma-separated) overrides the sizes.
"""

from __future__ import annotations

import json
import os
import time

import common
import copy_back

from localaws import principals

SIZES = [int(n) for n in os.environ.get("BENCH_REGION_LOSS_SIZES", "1000,10000,100000").split(",")]
PRIMARY, DR = "us-east-1", "us-west-2"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _client(target, service: str, region: str, account: str = principals.ACCOUNT):
    return principals.root_client(service, target.endpoint, region, account=account)


def _count(client, table: str) -> int:
    held = 0
    kwargs: dict = {"TableName": table, "Select": "COUNT"}
    while True:
        page = client.scan(**kwargs)
        held += page["Count"]
        if "LastEvaluatedKey" not in page:
            return held
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _until(call, done, timeout: float = 3600.0) -> float:
    """Seconds from ``call()`` to ``done()`` (polled every 50 ms)."""
    began = time.monotonic()
    call()
    while not done():
        if time.monotonic() - began > timeout:
            raise TimeoutError("not done in time")
        time.sleep(0.05)
    return time.monotonic() - began


def one_size(target, n: int, role: str, recovery_role: str) -> dict:
    table = f"bench-region-{n}"
    ddb, dr_ddb = _client(target, "dynamodb", PRIMARY), _client(target, "dynamodb", DR)
    backup, dr_backup = _client(target, "backup", PRIMARY), _client(target, "backup", DR)
    common.create_table(ddb, table)
    common.write_all(ddb, table, [{"PutRequest": {"Item": copy_back.item(i, 1)}} for i in range(n)])
    vault = f"bench-vault-{n}"
    backup.create_backup_vault(BackupVaultName=vault)
    dr_vault = dr_backup.create_backup_vault(BackupVaultName=vault)["BackupVaultArn"]
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    job: dict = {}

    backup_s = _until(
        lambda: job.update(backup.start_backup_job(BackupVaultName=vault, ResourceArn=arn, IamRoleArn=role)),
        lambda: backup.describe_backup_job(BackupJobId=job["BackupJobId"])["State"] == "COMPLETED",
    )
    point = backup.describe_backup_job(BackupJobId=job["BackupJobId"])["RecoveryPointArn"]

    def restore(client, table_client, point_arn: str, target_table: str, with_role: str = role) -> float:
        started: dict = {}

        def finished() -> bool:
            status = client.describe_restore_job(RestoreJobId=started["RestoreJobId"])["Status"]
            if status in ("FAILED", "ABORTED"):
                raise RuntimeError(f"restore {status}")
            return status == "COMPLETED" and (
                table_client.describe_table(TableName=target_table)["Table"]["TableStatus"] == "ACTIVE"
            )

        return _until(
            lambda: started.update(
                client.start_restore_job(
                    RecoveryPointArn=point_arn, IamRoleArn=with_role, Metadata={"targetTableName": target_table}
                )
            ),
            finished,
        )

    restore_s = restore(backup, ddb, point, f"{table}-restored")

    def copy_to(destination: str, **extra) -> tuple[float, str]:
        copy: dict = {}
        seconds = _until(
            lambda: copy.update(
                backup.start_copy_job(
                    RecoveryPointArn=point,
                    SourceBackupVaultName=vault,
                    DestinationBackupVaultArn=destination,
                    IamRoleArn=role,
                    **extra,
                )
            ),
            lambda: (
                backup.describe_copy_job(CopyJobId=copy["CopyJobId"])["CopyJob"]["State"] in ("COMPLETED", "FAILED")
            ),
        )
        copied = backup.describe_copy_job(CopyJobId=copy["CopyJobId"])["CopyJob"]
        if copied["State"] != "COMPLETED":
            raise RuntimeError(f"copy {copied['State']}: {copied.get('StatusMessage')}")
        return seconds, copied["DestinationRecoveryPointArn"]

    copy_s, dr_point = copy_to(dr_vault)
    dr_restore_s = restore(dr_backup, dr_ddb, dr_point, table)
    lag_s, lag_point = copy_to(_shared_lag(target, n), Lifecycle={"DeleteAfterDays": 7})
    recovery_ddb = _client(target, "dynamodb", PRIMARY, principals.RECOVERY_ACCOUNT)
    recovery_backup = _client(target, "backup", PRIMARY, principals.RECOVERY_ACCOUNT)
    account_restore_s = restore(recovery_backup, recovery_ddb, lag_point, table, recovery_role)
    return {
        "items": n,
        "backup_seconds": round(backup_s, 3),
        "restore_seconds": round(restore_s, 3),
        "copy_seconds": round(copy_s, 3),
        "dr_restore_seconds": round(dr_restore_s, 3),
        "dr_items": _count(dr_ddb, table),
        "air_gapped_copy_seconds": round(lag_s, 3),
        "recovery_account_restore_seconds": round(account_restore_s, 3),
        "recovery_account_items": _count(recovery_ddb, table),
    }


def _shared_lag(target, n: int) -> str:
    """A logically air-gapped vault of the source account, shared with the recovery account
    (the share accepted); its ARN."""
    name = f"bench-air-gapped-{n}"
    backup = _client(target, "backup", PRIMARY)
    arn = backup.create_logically_air_gapped_backup_vault(
        BackupVaultName=name, MinRetentionDays=7, MaxRetentionDays=35
    )["BackupVaultArn"]
    share = _client(target, "ram", PRIMARY).create_resource_share(
        name=name, resourceArns=[arn], principals=[principals.RECOVERY_ACCOUNT], allowExternalPrincipals=True
    )["resourceShare"]
    recipient = _client(target, "ram", PRIMARY, principals.RECOVERY_ACCOUNT)
    [invitation] = recipient.get_resource_share_invitations(resourceShareArns=[share["resourceShareArn"]])[
        "resourceShareInvitations"
    ]
    recipient.accept_resource_share_invitation(resourceShareInvitationArn=invitation["resourceShareInvitationArn"])
    return arn


def run() -> dict:
    with common.local_aws(periodic_saves=False) as target:
        roles = [
            _client(target, "iam", PRIMARY, account).create_role(
                RoleName="bench-backup", AssumeRolePolicyDocument=json.dumps(TRUST)
            )["Role"]["Arn"]
            for account in (principals.ACCOUNT, principals.RECOVERY_ACCOUNT)
        ]
        return {"sizes": [one_size(target, n, *roles) for n in SIZES]}


def markdown(result: dict) -> str:
    lines = [
        "## Recovery from a recovery point: in the region, in the DR region, and in the recovery account",
        "",
        __doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
        "",
        "| Items | Backup job (s) | Restore in the region (s) | Copy to the DR region (s) | Restore in the DR region (s) "
        "| Items there | Copy to the air-gapped vault (s) | Restore in the recovery account (s) | Items there |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for size in result["sizes"]:
        lines.append(
            f"| {size['items']:,} | {size['backup_seconds']:.2f} | {size['restore_seconds']:.2f} "
            f"| {size['copy_seconds']:.2f} | {size['dr_restore_seconds']:.2f} | {size['dr_items']:,} "
            f"| {size['air_gapped_copy_seconds']:.2f} | {size['recovery_account_restore_seconds']:.2f} "
            f"| {size['recovery_account_items']:,} |"
        )
    lines += [
        "",
        "Jobs complete at once on the local AWS (rows 4, 29 and 33 of docs/emulator.md): these times are its own"
        " cost of copying the data (a deep copy of every item per backup, copy and restore; the recovery account's"
        " restore copies the backup into that account first), not what AWS takes.",
    ]
    return "\n".join(lines) + "\n"

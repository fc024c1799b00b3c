"""Recovery from a recovery point at table sizes: restored in the table's own region (tier 2),
and copied to the DR region then restored there (tier 3, a lost region).

For each size, on a fresh local AWS (as the account's root: the bench times AWS Backup's
jobs, not our modules): a table of N items of about 1 KB, an AWS Backup vault in the
primary and in the DR region, and a backup role. Measured, each from its start call to
the end the API reports (the table ACTIVE for restores): the backup job; the restore of
its recovery point in the primary region; the copy job to the DR region's vault; the
restore of the copy in the DR region; and the items the DR region's table holds (counted
by a ``Scan`` with ``Select: COUNT``). A copy to another account (tier 3, a lost account)
is not emulated by the local AWS (docs/emulator.md, row 29): not measured here.
``BENCH_REGION_LOSS_SIZES`` (comma-separated) overrides the sizes.
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


def _client(target, service: str, region: str):
    return principals.root_client(service, target.endpoint, region)


def _until(call, done, timeout: float = 3600.0) -> float:
    """Seconds from ``call()`` to ``done()`` (polled every 50 ms)."""
    began = time.monotonic()
    call()
    while not done():
        if time.monotonic() - began > timeout:
            raise TimeoutError("not done in time")
        time.sleep(0.05)
    return time.monotonic() - began


def one_size(target, n: int, role: str) -> dict:
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

    def restore(client, table_client, point_arn: str, target_table: str) -> float:
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
                    RecoveryPointArn=point_arn, IamRoleArn=role, Metadata={"targetTableName": target_table}
                )
            ),
            finished,
        )

    restore_s = restore(backup, ddb, point, f"{table}-restored")
    copy: dict = {}
    copy_s = _until(
        lambda: copy.update(
            backup.start_copy_job(
                RecoveryPointArn=point, SourceBackupVaultName=vault, DestinationBackupVaultArn=dr_vault, IamRoleArn=role
            )
        ),
        lambda: backup.describe_copy_job(CopyJobId=copy["CopyJobId"])["CopyJob"]["State"] in ("COMPLETED", "FAILED"),
    )
    copied = backup.describe_copy_job(CopyJobId=copy["CopyJobId"])["CopyJob"]
    if copied["State"] != "COMPLETED":
        raise RuntimeError(f"copy {copied['State']}: {copied.get('StatusMessage')}")
    dr_restore_s = restore(dr_backup, dr_ddb, copied["DestinationRecoveryPointArn"], table)
    held = 0
    kwargs: dict = {"TableName": table, "Select": "COUNT"}
    while True:
        page = dr_ddb.scan(**kwargs)
        held += page["Count"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return {
        "items": n,
        "backup_seconds": round(backup_s, 3),
        "restore_seconds": round(restore_s, 3),
        "copy_seconds": round(copy_s, 3),
        "dr_restore_seconds": round(dr_restore_s, 3),
        "dr_items": held,
    }


def run() -> dict:
    with common.local_aws(periodic_saves=False) as target:
        iam = _client(target, "iam", PRIMARY)
        role = iam.create_role(RoleName="bench-backup", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
        return {"sizes": [one_size(target, n, role) for n in SIZES]}


def markdown(result: dict) -> str:
    lines = [
        "## Recovery from a recovery point: in the region, and in the DR region after a copy",
        "",
        __doc__.split("\n\n", 1)[1].replace("\n", " ").strip(),
        "",
        "| Items | Backup job (s) | Restore in the region (s) | Copy to the DR region (s) | Restore in the DR region (s) "
        "| Items in the DR region's table |",
        "|---|---|---|---|---|---|",
    ]
    for size in result["sizes"]:
        lines.append(
            f"| {size['items']:,} | {size['backup_seconds']:.2f} | {size['restore_seconds']:.2f} "
            f"| {size['copy_seconds']:.2f} | {size['dr_restore_seconds']:.2f} | {size['dr_items']:,} |"
        )
    lines += [
        "",
        "Jobs complete at once on the local AWS (rows 4 and 29 of docs/emulator.md): these times are its own cost"
        " of copying the data (a deep copy of every item per backup, copy and restore), not what AWS takes.",
    ]
    return "\n".join(lines) + "\n"

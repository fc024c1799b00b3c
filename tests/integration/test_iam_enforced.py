"""What our policies promise, proven by IAM evaluation on the local AWS (AUTH=true).

site.yml provisions the demo table as the operator (localaws/principals.py). Then each
principal tries what it must not be able to do, and is refused by the emulator's
evaluation of identity policies, key policies, the vault policy and the rest. The
monitor's role cannot be assumed outside Lambda (its trust names the service only), so its
policies are read back from the target and evaluated with the same engine.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from localaws import principals

pytestmark = pytest.mark.integration

TABLE = "ddbguard-demo"
ACCOUNT = "000000000000"
MONITOR = f"{TABLE}-change-monitor"
MONITOR_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{MONITOR}"
BACKUP_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ddbguard-backup"
VAULT = "ddbguard-vault"


@pytest.fixture(scope="module")
def provisioned(local_aws):
    local_aws.playbook("site.yml")
    backup = local_aws.client("backup", who="operator")
    # One recovery point in the vault, made as the drill does (the operator starts a job).
    job = backup.start_backup_job(
        BackupVaultName=VAULT,
        ResourceArn=f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{TABLE}",
        IamRoleArn=BACKUP_ROLE,
    )
    # Jobs complete at once locally (docs/emulator.md, row 4).
    point = backup.describe_backup_job(BackupJobId=job["BackupJobId"])["RecoveryPointArn"]
    return {"point": point}


def refused(call, *args, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(*args, **kwargs)
    error = caught.value.response["Error"]
    assert error["Code"] in ("AccessDenied", "AccessDeniedException"), error
    return error["Message"]


def marker_key(local_aws) -> str:
    kms = local_aws.client("kms", who="auditor")
    return kms.describe_key(KeyId=f"alias/ddbguard/{TABLE}/marker")["KeyMetadata"]["Arn"]


def test_only_the_monitors_role_may_generate_the_marker(local_aws, provisioned):
    key = marker_key(local_aws)
    for who in ("writer", "operator", "auditor"):
        message = refused(
            local_aws.client("kms", who=who).generate_mac, KeyId=key, Message=b"x", MacAlgorithm="HMAC_SHA_256"
        )
        assert "kms:GenerateMac" in message, message
    # A role session that is not the monitor's: the break-glass role, assumed by the operator.
    other = local_aws.break_glass_client("kms")
    refused(other.generate_mac, KeyId=key, Message=b"x", MacAlgorithm="HMAC_SHA_256")
    # And the monitor's role may: its own decisions name marked writes (the drill proves undo with it).
    policy = json.loads(
        local_aws.client("kms", who="auditor").get_key_policy(KeyId=key, PolicyName="default")["Policy"]
    )
    assert MONITOR_ROLE in json.dumps(policy)


def test_a_table_writer_cannot_reach_the_audit_table_the_maintenance_switch_or_the_monitor(local_aws, provisioned):
    writer = local_aws.client
    # It may write the table itself: it is the application.
    writer("dynamodb", who="writer").put_item(TableName=TABLE, Item={"pk": {"S": "iam-writer-probe"}})
    refused(
        writer("dynamodb", who="writer").put_item,
        TableName=f"{TABLE}-ddbguard-audit",
        Item={"pk": {"S": "forged"}, "sk": {"S": "forged"}},
    )
    refused(
        writer("ssm", who="writer").put_parameter,
        Name=f"/ddbguard/{TABLE}/maintenance-until",
        Value="2099-01-01T00:00:00Z",
        Type="String",
        Overwrite=True,
    )
    for payload in ({"ddbguard": "retire-canaries"}, {"ddbguard": "restore-items"}):
        refused(writer("lambda", who="writer").invoke, FunctionName=MONITOR, Payload=json.dumps(payload).encode())
    refused(
        writer("lambda", who="writer").update_function_configuration,
        FunctionName=MONITOR,
        Environment={"Variables": {}},
    )


def test_the_operator_cannot_delete_a_recovery_point_or_change_the_vault_policy(local_aws, provisioned):
    backup = local_aws.client("backup", who="operator")
    message = refused(backup.delete_recovery_point, BackupVaultName=VAULT, RecoveryPointArn=provisioned["point"])
    assert "explicit deny in a resource-based policy" in message, message
    policy = backup.get_backup_vault_access_policy(BackupVaultName=VAULT)["Policy"]
    message = refused(
        backup.put_backup_vault_access_policy, BackupVaultName=VAULT, Policy=json.dumps({"Statement": []})
    )
    assert "explicit deny in a resource-based policy" in message, message
    refused(backup.delete_backup_vault_access_policy, BackupVaultName=VAULT)
    assert backup.get_backup_vault_access_policy(BackupVaultName=VAULT)["Policy"] == policy
    assert backup.describe_recovery_point(BackupVaultName=VAULT, RecoveryPointArn=provisioned["point"])["Status"]


def _monitor_policies(local_aws) -> list:
    from ministack.core.iam_evaluator import parse_policy_document

    iam = local_aws.client("iam", who="auditor")
    docs = [
        iam.get_role_policy(RoleName=MONITOR, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=MONITOR)["PolicyNames"]
    ]
    assert iam.list_attached_role_policies(RoleName=MONITOR)["AttachedPolicies"] == []
    assert docs, "the monitor's role has its inline policy"
    return [parse_policy_document(doc) for doc in docs]


def test_only_break_glass_may_delete_an_export_or_change_what_protects_the_exports(local_aws, provisioned):
    bucket = f"ddbguard-exports-{ACCOUNT}-us-east-1"
    operator = local_aws.client("s3", who="operator")
    operator.put_object(Bucket=bucket, Key="ddbguard-rollback/AWSDynamoDB/probe", Body=b"{}")  # as an export writes
    for who in ("operator", "writer", "tester"):
        s3 = local_aws.client("s3", who=who)
        refused(s3.delete_object, Bucket=bucket, Key="ddbguard-rollback/AWSDynamoDB/probe")
        refused(s3.put_bucket_lifecycle_configuration, Bucket=bucket, LifecycleConfiguration={"Rules": []})
        refused(s3.delete_bucket_policy, Bucket=bucket)
        refused(s3.put_bucket_versioning, Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
        refused(s3.delete_bucket, Bucket=bucket)
    # The bucket is as site.yml left it, read back from the target.
    auditor = local_aws.client("s3", who="tester")
    assert auditor.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = auditor.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    block = auditor.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    (rule,) = auditor.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert rule["Expiration"]["Days"] == 7 and rule["Status"] == "Enabled"
    # The break-glass role may.
    local_aws.break_glass_client("s3").delete_object(Bucket=bucket, Key="ddbguard-rollback/AWSDynamoDB/probe")


def test_the_monitors_role_cannot_delete_the_table_its_backups_or_the_vault(local_aws, provisioned):
    from ministack.core.iam_evaluator import EvalContext, evaluate

    policies = _monitor_policies(local_aws)
    table = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{TABLE}"
    vault = f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-vault:{VAULT}"

    def decision(action: str, resource: str) -> str:
        ctx = EvalContext(
            principal_arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/{MONITOR}/{MONITOR}",
            principal_type="AssumedRole",
            principal_account=ACCOUNT,
            action=action,
            resource_arn=resource,
            region="us-east-1",
        )
        return evaluate(ctx, policies).decision

    forbidden = {
        "dynamodb:DeleteTable": table,
        "dynamodb:UpdateTable": table,
        "dynamodb:DeleteBackup": f"{table}/backup/*",
        "dynamodb:UpdateContinuousBackups": table,
        "backup:DeleteRecoveryPoint": provisioned["point"],
        "backup:DeleteBackupVault": vault,
        "backup:PutBackupVaultAccessPolicy": vault,
        "backup:DeleteBackupPlan": f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-plan:*",
        "kms:ScheduleKeyDeletion": marker_key(local_aws),
        "iam:PutRolePolicy": MONITOR_ROLE,
    }
    assert {a: decision(a, r) for a, r in forbidden.items() if decision(a, r) == "Allow"} == {}
    # The engine does allow what the monitor needs: the table's items, with conditions.
    assert decision("dynamodb:PutItem", table) == "Allow"


def test_the_operator_may_pass_each_role_only_to_its_service(local_aws, provisioned):
    backup = local_aws.client("backup", who="operator")
    message = refused(
        backup.start_restore_job,
        RecoveryPointArn=provisioned["point"],
        IamRoleArn=MONITOR_ROLE,
        Metadata={"targetTableName": f"{TABLE}-restore-iam"},
        ResourceType="DynamoDB",
    )
    assert "iam:PassRole" in message, message
    message = refused(
        local_aws.client("lambda", who="operator").create_function,
        FunctionName="other-change-monitor",
        Role=BACKUP_ROLE,
        Runtime="python3.12",
        Handler="x.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},
    )
    assert "iam:PassRole" in message, message


def test_the_operator_may_attach_only_aws_backups_policies_to_the_backup_role(local_aws, provisioned):
    iam = local_aws.client("iam", who="operator")
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    refused(iam.attach_role_policy, RoleName="ddbguard-backup", PolicyArn=admin)
    refused(iam.attach_role_policy, RoleName=MONITOR, PolicyArn=admin)
    iam.attach_role_policy(
        RoleName="ddbguard-backup", PolicyArn="arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
    )
    attached = local_aws.client("iam", who="auditor").list_attached_role_policies(RoleName="ddbguard-backup")
    assert admin not in [p["PolicyArn"] for p in attached["AttachedPolicies"]]


def test_the_operator_holds_exactly_the_published_policy_and_its_key_is_private(local_aws):
    from tests.integration.conftest import ROOT

    iam = local_aws.client("iam", who="auditor")
    assert iam.list_user_policies(UserName="ddbguard-operator")["PolicyNames"] == ["ddbguard-operator"]
    held = iam.get_user_policy(UserName="ddbguard-operator", PolicyName="ddbguard-operator")["PolicyDocument"]
    held = json.loads(held) if isinstance(held, str) else held
    assert held == json.loads((ROOT / "docs" / "operator-policy.json").read_text())
    assert iam.list_attached_user_policies(UserName="ddbguard-operator")["AttachedPolicies"] == []
    assert iam.list_groups_for_user(UserName="ddbguard-operator")["Groups"] == []
    assert local_aws.client("sts", who="operator").get_caller_identity()["Arn"].endswith(":user/ddbguard-operator")
    keys = principals.path(local_aws.target.dir)
    assert keys.stat().st_mode & 0o077 == 0, "principals.json is readable by its owner only"

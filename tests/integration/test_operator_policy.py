"""docs/operator-policy.json is exactly what the plays need, proven by IAM evaluation.

The local AWS evaluates IAM (AUTH=true) and the plays run as the operator user, which
holds this policy and nothing else (localaws/principals.py). Here the emulator also logs
each evaluation (localaws/iam_log.py) while the plays run: provision, the drill,
teardown, provision again, and the teardown that deletes the data through the break-glass
role. Then every logged request of the operator is evaluated again, by ministack's own
engine, against the policy with one statement taken out, and with one action taken out:
each statement and each action must be needed by some request of the flow. One removal is
also run end to end, to show the refusal as the operator meets it.
"""

from __future__ import annotations

import copy
import datetime
import json
import math
import time

import pytest

from localaws import iam_log, launcher, principals
from tests import iam_lint
from tests.integration.conftest import ROOT, LocalAws, free_port

pytestmark = pytest.mark.integration

POLICY = json.loads((ROOT / "docs" / "operator-policy.json").read_text())
RECOVERY_POLICY = json.loads((ROOT / "docs" / "recovery-policy.json").read_text())
# The recovery account's actions for paths this flow does not take (the flow runs
# recover-account.yml twice and the drill's account-loss tier).
RECOVERY_OTHER_PATHS = {
    "iam:TagRole": "amazon.aws.iam_role, when the recovery role's tags change",
    "iam:UpdateAssumeRolePolicy": "amazon.aws.iam_role, when the recovery role's trust policy changes",
}
RECORDER = ROOT / "tests" / "recorder"

# Actions the policy must hold that AWS checks on the operator but the local AWS never
# evaluates: the services use the key or the storage for the operator inside the emulator.
# Not proven here; named in docs/emulator.md ("Not evaluated here").
NOT_EVALUATED_HERE = {
    "kms:CreateGrant": "DynamoDB, AWS Backup and SQS take a grant on the key for the operator",
    "kms:RetireGrant": "the same services retire it",
    "kms:Decrypt": "the same services decrypt with the key for the operator",
    "backup-storage:MountCapsule": "CreateBackupVault mounts the vault's storage",
}
# Actions the policy holds for paths this flow does not take, each with the path. The flow
# is the local inventory's settings, made once; these are changes to what exists, tags,
# and settings the local inventory leaves off. The molecule scenarios take some of them
# (dr_backup locks its vault), as the operator too.
OTHER_PATHS = {
    "backup:ListRestoreJobs": "dr_restore finds a restore job it started before (a retried run)",
    # A new bucket already blocks public access and enforces bucket ownership (AWS's defaults
    # since April 2023, the local AWS's too): amazon.aws.s3_bucket sets them on one that does not.
    "s3:PutBucketPublicAccessBlock": "an exports bucket made before AWS blocked public access by default",
    "s3:PutBucketOwnershipControls": "an exports bucket made before AWS enforced bucket ownership by default",
    "kms:PutKeyPolicy": "a marker key's policy changes (kms_hmac_key)",
    "kms:TagResource": "a marker key's tags change (kms_hmac_key)",
    "kms:UpdateKeyDescription": "a marker key's description changes (kms_hmac_key)",
    "iam:TagRole": "amazon.aws.iam_role, when the roles' tags change",
    "iam:UpdateAssumeRolePolicy": "amazon.aws.iam_role, when a trust policy changes",
    "iam:GetRolePolicy": "amazon.aws.iam_policy, when the monitor's policy exists with other content",
    "lambda:UpdateFunctionCode": "a new version of the change monitor",
    "lambda:UpdateFunctionConfiguration": "a monitor setting changes",
    "lambda:ListTags": "amazon.aws.lambda, when the function has tags to compare",
    "lambda:TagResource": "amazon.aws.lambda, when its tags change",
    "lambda:UpdateEventSourceMapping": "a stream-trigger setting changes (lambda_stream_trigger)",
    "logs:AssociateKmsKey": "a log group made before its key (amazon.aws.cloudwatchlogs_log_group)",
    "logs:TagResource": "a log group's tags change",
    "sqs:TagQueue": "a failure queue's tags change",
    "sqs:ListQueueTags": "community.aws.sqs_queue, when the queue has tags to compare",
    "sns:Subscribe": "dr_alerts with e-mail subscribers (dr_alerts_emails)",
    "sns:TagResource": "the topic's tags change",
    "backup:DeleteBackupVaultAccessPolicy": "a vault policy that does not reserve its removal",
    "backup:PutBackupVaultLockConfiguration": "dr_backup_vault_lock_mode governance or compliance (molecule dr_backup)",
    "backup:DeleteBackupVaultLockConfiguration": "a governance lock turned off",
    "backup:TagResource": "a vault's or a plan's tags change",
    "backup:UpdateBackupPlan": "the plan's rules change",
    "backup:UpdateRestoreTestingPlan": "the restore testing plan's schedule or recovery point rule changes",
    "backup:UpdateRestoreTestingSelection": "a restore testing selection's tables, window or overrides change",
    # On a recovery point (RestoreAndCopyRecoveryPointsWithTheBackupRole); on vaults and plans the flow needs it.
    "backup:ListTags": "a restore from a recovery point skips the drill's points by their tag",
    "states:DescribeStateMachine": "site.yml again on a table whose copy-back job exists (compares the definition)",
    "states:ListTagsForResource": "site.yml run again on a table whose copy-back job exists (it compares the tags)",
    "states:UpdateStateMachine": "a copy-back job's definition or role changes (a new version of the collection)",
    "states:TagResource": "a copy-back job's tags change",
    "states:UntagResource": "a copy-back job's tags change",
    "ram:AssociateResourceShare": "a recovery account added to dr_backup_air_gapped_recovery_account_ids",
    "ram:DisassociateResourceShare": "a recovery account removed from dr_backup_air_gapped_recovery_account_ids",
    # On ddbguard-vault the flow needs it; on the air-gapped vault (ManageTheAirGappedVault) only
    # once it is empty, and the vault's lock keeps the flow's copies in it for 7 days at least.
    "backup:DeleteBackupVault": "the teardown that deletes data, on an air-gapped vault that is empty",
}
# Actions that AWS does not let a policy scope to a resource: "Resource": "*" is their only form.
UNSCOPABLE = {
    "sts:GetCallerIdentity",
    "iam:ListAccountAliases",
    "kms:CreateKey",
    "kms:ListAliases",
    "sns:ListTopics",
    "ssm:DescribeParameters",
    "backup:ListBackupPlans",
    "backup:DescribeBackupJob",
    "backup:ListRestoreJobs",
    "backup:DescribeRestoreJob",
    "backup:DescribeCopyJob",
    "backup-storage:MountCapsule",
    "lambda:ListEventSourceMappings",
    "lambda:CreateEventSourceMapping",
    "logs:DescribeLogGroups",
    "states:ListStateMachines",
    "ram:GetResourceShares",
    "ram:GetResourceShareAssociations",
    "ram:CreateResourceShare",
}


@pytest.fixture(scope="module")
def local_aws(tmp_path_factory):
    home = tmp_path_factory.mktemp("localaws")
    target = launcher.Target(port=free_port(), home=home, iam_log=home / "iam.jsonl")
    launcher.start(target)
    yield LocalAws(target)
    launcher.stop(target)


@pytest.fixture(scope="module")
def flow(local_aws, tmp_path_factory):
    """The whole flow, once: each API call the plays' processes made (tests/recorder), and
    each request of the operator as the emulator evaluated it (localaws/iam_log.py)."""
    calls = tmp_path_factory.mktemp("calls") / "calls.txt"
    env = {"PYTHONPATH": str(RECORDER), "DDBGUARD_RECORD_API_CALLS": str(calls)}
    reports = tmp_path_factory.mktemp("reports")
    local_aws.playbook("site.yml", env=env)
    local_aws.run_plan("ddbguard-plan")  # its copy in the air-gapped vault is what recover-account.yml restores
    local_aws.playbook("playbooks/verify.yml", "-e", f"ddbguard_report_dir={reports}", env=env)
    lost = ["-e", f"ddbguard_recover_source_account_id={principals.ACCOUNT}"]
    local_aws.playbook("playbooks/recover-account.yml", *lost, env=env)
    local_aws.playbook("playbooks/recover-account.yml", *lost, env=env)  # again: finds the table it restored
    local_aws.playbook("playbooks/restore.yml", "-e", "dr_restore_table=ddbguard-demo", env=env)
    distributed = {"dr_restore_table": "ddbguard-demo", "dr_restore_distributed": True, "dr_restore_segments": 2}
    local_aws.playbook("playbooks/restore.yml", "-e", json.dumps(distributed), env=env)
    local_aws.playbook("playbooks/replay.yml", env=env)
    local_aws.playbook("playbooks/rollback.yml", "-e", json.dumps(_window_with_a_change(local_aws)), env=env)
    local_aws.playbook("playbooks/rollback.yml", "-e", json.dumps(_exported_window(local_aws)), env=env)
    local_aws.playbook("playbooks/teardown.yml", env=env)
    # Provisioned again, with no recovery account any more: the share is deleted.
    local_aws.playbook("site.yml", "-e", json.dumps({"dr_backup_air_gapped_recovery_account_ids": []}), env=env)
    break_glass = principals.load(local_aws.target.dir)["break_glass"]["arn"]
    confirm = {"ddbguard_teardown_confirm": ["ddbguard-demo"], "ddbguard_break_glass_role_arn": break_glass}
    local_aws.playbook("playbooks/teardown.yml", "-e", json.dumps(confirm), env=env)
    return set(calls.read_text().split()), local_aws.target.iam_log


def _window_with_a_change(aws) -> dict:
    """A window of whole seconds in which an application created an item (the rollback keeps it)."""
    start = math.ceil(time.time() + 0.5)
    time.sleep(max(0.0, start - time.time()))
    aws.client("dynamodb", who="writer").put_item(TableName="ddbguard-demo", Item={"pk": {"S": "rollback-probe"}})
    end = start + 2
    time.sleep(max(0.0, end + 0.5 - time.time()))
    iso = lambda t: datetime.datetime.fromtimestamp(t, datetime.UTC).isoformat()  # noqa: E731
    return {"rollback_table": "ddbguard-demo", "rollback_from": iso(start), "rollback_to": iso(end)}


def _exported_window(aws) -> dict:
    """A 15-minute window, read from an incremental export: the table's history is aged by
    20 minutes (the local target's control, docs/emulator.md) after an application wrote."""
    import urllib.request

    start = time.time() - 1.0
    aws.client("dynamodb", who="writer").put_item(TableName="ddbguard-demo", Item={"pk": {"S": "export-probe"}})
    url = f"{aws.endpoint}/_localaws/pitr/age?table=ddbguard-demo&seconds=1200"
    urllib.request.urlopen(urllib.request.Request(url, method="POST", data=b"")).close()  # noqa: S310
    iso = lambda t: datetime.datetime.fromtimestamp(t, datetime.UTC).isoformat()  # noqa: E731
    return {"rollback_table": "ddbguard-demo", "rollback_from": iso(start - 1200), "rollback_to": iso(start - 300)}


def _evaluations_of(local_aws, flow, who: str) -> list[dict]:
    arn = principals.load(local_aws.target.dir)[who]["arn"]
    unique = {}
    for line in flow[1].read_text().splitlines():
        entry = json.loads(line)
        if entry["principal_arn"] == arn:
            key = json.dumps({k: v for k, v in entry.items() if k != "decision"}, sort_keys=True)
            unique.setdefault(key, entry)
    return list(unique.values())


@pytest.fixture(scope="module")
def evaluations(local_aws, flow):
    """The operator's requests of the whole flow, as the emulator evaluated them."""
    return _evaluations_of(local_aws, flow, "operator")


@pytest.fixture(scope="module")
def recovery_evaluations(local_aws, flow):
    """The recovery account's requests of the flow (recover-account.yml, the drill's account-loss tier)."""
    return _evaluations_of(local_aws, flow, "recovery")


def decide(policy: dict, entry: dict) -> str:
    from ministack.core.iam_evaluator import evaluate, parse_policy_document

    return evaluate(iam_log.context(entry), [parse_policy_document(policy)]).decision


def without(policy: dict, sid: str, action: str | None = None) -> dict:
    reduced = copy.deepcopy(policy)
    statements = []
    for statement in reduced["Statement"]:
        if statement["Sid"] == sid:
            if action is None:
                continue
            statement["Action"] = [a for a in iam_lint._list(statement["Action"]) if a != action]
            if not statement["Action"]:
                continue
        statements.append(statement)
    reduced["Statement"] = statements
    return reduced


def needed(evaluations: list[dict], reduced: dict, whole: dict = POLICY) -> list[str]:
    """The requests that the whole policy allows and the reduced one refuses."""
    return [
        f"{e['action']} on {e['resource_arn']}"
        for e in evaluations
        if decide(whole, e) == "Allow" and decide(reduced, e) != "Allow"
    ]


def test_the_flow_ran_as_the_operator_across_every_service(evaluations):
    services = {e["action"].split(":")[0] for e in evaluations}
    assert services >= {"dynamodb", "kms", "iam", "lambda", "logs", "sqs", "ssm", "cloudwatch", "sns", "backup", "sts"}
    actions = {e["action"] for e in evaluations}
    assert {"dynamodb:CreateTable", "backup:StartBackupJob", "backup:DeleteBackupVault", "iam:PassRole"} <= actions


def test_the_operator_was_refused_nothing_the_flow_asked(evaluations):
    refused = sorted({f"{e['action']} on {e['resource_arn']}" for e in evaluations if e["decision"] != "Allow"})
    assert refused == []


def test_every_statement_is_needed_by_the_flow(evaluations):
    """Taken out, each statement refuses some request of the flow (a statement of actions the
    local AWS never evaluates is named in NOT_EVALUATED_HERE instead)."""
    unneeded = [
        s["Sid"]
        for s in iam_lint.statements(POLICY)
        if s["Effect"] == "Allow"
        and not set(iam_lint._list(s["Action"])) <= set(NOT_EVALUATED_HERE)
        and not needed(evaluations, without(POLICY, s["Sid"]))
    ]
    assert unneeded == []


def test_every_action_is_needed_by_the_flow_or_named_with_its_path(evaluations):
    """Each action is needed by a request of the flow, or named above with the path that
    needs it; and nothing named above is in fact needed by the flow (the lists stay exact)."""
    unneeded = []
    for statement in iam_lint.statements(POLICY):
        for action in iam_lint._list(statement["Action"]):
            if not needed(evaluations, without(POLICY, statement["Sid"], action)):
                unneeded.append(action)
    assert sorted(set(unneeded)) == sorted(set(NOT_EVALUATED_HERE) | set(OTHER_PATHS)), sorted(set(unneeded))


def test_every_call_of_the_plays_was_evaluated(flow, evaluations, recovery_evaluations):
    """A call the emulator does not evaluate would be allowed to anyone: none may be left."""
    recorded, _log = flow
    evaluated = {e["action"] for e in evaluations + recovery_evaluations}
    # The break-glass role's deletions, and the calls AWS never evaluates.
    others = {
        "backup:DeleteRecoveryPoint",
        "backup:DeleteBackupVaultAccessPolicy",
        "s3:ListBucketVersions",  # the exports bucket's deletion, by the break-glass role
        "s3:DeleteObject",
        "s3:DeleteBucket",
        "sts:GetCallerIdentity",
    }
    assert sorted(recorded - evaluated - others) == [], sorted(recorded - evaluated - others)


def test_the_recovery_account_was_refused_nothing_and_reached_nothing_of_the_source(local_aws, recovery_evaluations):
    refused = sorted(
        {f"{e['action']} on {e['resource_arn']}" for e in recovery_evaluations if e["decision"] != "Allow"}
    )
    assert refused == []
    actions = {e["action"] for e in recovery_evaluations}
    assert {"ram:AcceptResourceShareInvitation", "backup:StartRestoreJob", "iam:PassRole"} <= actions
    # Only the shared vault, its recovery points and the share's invitation are the source account's.
    source = [
        e
        for e in recovery_evaluations
        if f":{principals.ACCOUNT}:" in e["resource_arn"]
        and not e["resource_arn"].startswith(("arn:aws:backup:", "arn:aws:ram:"))
    ]
    assert source == []


def test_every_statement_and_action_of_the_recovery_policy_is_needed(recovery_evaluations):
    """docs/recovery-policy.json, as the operator's: each statement and each action is needed by a
    request of the flow, or named in RECOVERY_OTHER_PATHS with the path that needs it."""
    unneeded_statements = [
        s["Sid"]
        for s in iam_lint.statements(RECOVERY_POLICY)
        if not needed(recovery_evaluations, without(RECOVERY_POLICY, s["Sid"]), RECOVERY_POLICY)
    ]
    assert unneeded_statements == []
    unneeded = [
        action
        for statement in iam_lint.statements(RECOVERY_POLICY)
        for action in iam_lint._list(statement["Action"])
        if not needed(recovery_evaluations, without(RECOVERY_POLICY, statement["Sid"], action), RECOVERY_POLICY)
    ]
    assert sorted(set(unneeded)) == sorted(RECOVERY_OTHER_PATHS), sorted(set(unneeded))


def test_a_statement_taken_out_stops_the_play_that_needs_it_with_access_denied(tmp_path):
    reduced = tmp_path / "operator-policy.json"
    reduced.write_text(json.dumps(without(POLICY, "PassTheMonitorRolesToLambdaOnly")))
    target = launcher.Target(port=free_port(), home=tmp_path / "localaws", operator_policy=reduced)
    launcher.start(target)
    try:
        run = LocalAws(target).playbook("site.yml", check=False)
    finally:
        launcher.stop(target)
    assert run.returncode != 0
    assert "is not authorized to perform: iam:PassRole" in run.stdout, run.stdout[-3000:]


def test_the_published_policy_is_least_privilege():
    for statement in iam_lint.statements(POLICY):
        actions = iam_lint._list(statement["Action"])
        assert not [a for a in actions if a == "*" or a.endswith(":*")], statement["Sid"]
        if "*" in iam_lint._list(statement["Resource"]):
            assert set(actions) <= UNSCOPABLE, statement["Sid"]
        if "iam:PassRole" in actions:
            assert "iam:PassedToService" in json.dumps(statement["Condition"]), statement["Sid"]
    assert iam_lint.unexplained_findings("operator", POLICY) == []

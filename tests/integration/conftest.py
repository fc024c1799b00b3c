"""A local AWS per test module, on a free port, with its own state folder.

Tests drive the project the way an operator does: ``ansible-playbook`` from the project
root with ``LOCAL_AWS_PORT`` pointing at the emulator started here, or boto3 against its
endpoint.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from localaws import launcher, principals

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LocalAws:
    target: launcher.Target

    @property
    def endpoint(self) -> str:
        return self.target.endpoint

    def client(self, service: str, region: str = "us-east-1", who: str = "tester"):
        """A client acting as one of the principals the launcher made (localaws/principals.py):
        ``tester`` (sets up and checks: an administrator of the services we use), ``operator``
        (what the plays hold), ``writer`` (an application: items only), ``auditor``
        (read-only); in the recovery account, ``recovery`` (docs/recovery-policy.json) or
        ``recovery_auditor`` (read-only). No test acts as an account's root; the plays act
        as the operator."""
        return principals.client(self.target.dir, self.endpoint, who, service, region)

    def break_glass_client(self, service: str, region: str = "us-east-1"):
        """A client acting as the break-glass role, which only the operator may assume."""
        role = principals.load(self.target.dir)["break_glass"]["arn"]
        creds = self.client("sts", who="operator").assume_role(RoleArn=role, RoleSessionName="tests")["Credentials"]
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )

    def region_down(self, region: str, down: bool = True) -> None:
        """Take a region down, or bring it back (localaws/controls.py): while it is down,
        every request signed for it but IAM's answers 503, as in a region outage."""
        url = f"{self.endpoint}/_localaws/region/outage?region={region}&down={str(down).lower()}"
        with urllib.request.urlopen(urllib.request.Request(url, method="POST", data=b""), timeout=10) as answer:  # noqa: S310
            assert (region in json.loads(answer.read())["down"]) == down

    def isolate_account(self, account: str, isolated: bool = True) -> None:
        """Deny every principal of an account, or stop (localaws/controls.py, row 34)."""
        url = f"{self.endpoint}/_localaws/account/isolation?account={account}&isolated={str(isolated).lower()}"
        with urllib.request.urlopen(urllib.request.Request(url, method="POST", data=b""), timeout=10) as answer:  # noqa: S310
            assert (account in json.loads(answer.read())["isolated"]) == isolated

    def run_plan(self, plan: str) -> list[dict]:
        """The plan's next scheduled run, now (localaws/controls.py, row 35): what each job made."""
        return launcher.run_plan(self.target, plan)["runs"]

    def run_restore_test(self, plan: str = "ddbguard_restore_test") -> list[dict]:
        """The restore testing plan's next scheduled run, now (localaws/controls.py, row 38)."""
        return launcher.run_restore_test(self.target, plan)["runs"]

    def corrupt_copies(self, vault_arn: str, key_prefix: str, corrupt: bool = True) -> None:
        """Make every copy into a vault come out with the items under ``key_prefix`` changed,
        or stop (localaws/controls.py): a fault for the tests that prove the drill sees it."""
        query = urllib.parse.urlencode({"vault": vault_arn, "key_prefix": key_prefix, "corrupt": str(corrupt).lower()})
        url = f"{self.endpoint}/_localaws/backup/corrupt-copies?{query}"
        with urllib.request.urlopen(urllib.request.Request(url, method="POST", data=b""), timeout=10) as answer:  # noqa: S310
            assert (vault_arn in json.loads(answer.read())["corrupted"]) == corrupt

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "LOCAL_AWS_PORT": str(self.target.port),
                "LOCAL_AWS_HOME": str(self.target.home),
                "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_FORCE_COLOR": "0",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            }
        )
        return env

    def playbook(self, *args: str, check: bool = True, env: dict[str, str] | None = None) -> PlaybookRun:
        """Run ansible-playbook from the project root; fail the test on a non-zero exit when asked."""
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "ansible-playbook"), *args],
            cwd=ROOT,
            env={**self.env(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=900,
        )
        run = PlaybookRun(proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode != 0:
            command = " ".join(args)
            pytest.fail(
                f"ansible-playbook {command} exited {proc.returncode}:\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
            )
        return run

    def popen(self, *args: str) -> subprocess.Popen:
        """Start ansible-playbook from the project root and return at once (for a test that
        acts while the play runs); its output goes to a pipe the caller may read."""
        return subprocess.Popen(
            [str(Path(sys.executable).parent / "ansible-playbook"), *args],
            cwd=ROOT,
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


@dataclass
class PlaybookRun:
    returncode: int
    stdout: str
    stderr: str

    def recap_by_host(self) -> dict[str, dict[str, int]]:
        """The PLAY RECAP counters of each host (localhost, and one host per table)."""
        lines = re.findall(r"^(\S+)\s*:\s*(ok=.+)$", self.stdout.split("PLAY RECAP")[-1], re.M)
        assert lines, f"no PLAY RECAP in output:\n{self.stdout[-3000:]}"
        return {host: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counters)} for host, counters in lines}

    def recap(self) -> dict[str, int]:
        """The PLAY RECAP counters, summed over every host."""
        total: dict[str, int] = {}
        for counters in self.recap_by_host().values():
            for key, value in counters.items():
                total[key] = total.get(key, 0) + value
        return total


@pytest.fixture(scope="module")
def local_aws(tmp_path_factory):
    target = launcher.Target(port=free_port(), home=tmp_path_factory.mktemp("localaws"))
    launcher.start(target)
    yield LocalAws(target)
    launcher.stop(target)


def wait_for(predicate, timeout=30.0, what="condition"):
    """The predicate's first truthy value, polled every 50 ms; the test fails after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def report_files(directory: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(directory.glob("drill-*.json"))]


def resources(aws: LocalAws) -> dict[str, list]:
    """What site.yml makes, by kind, as the AWS APIs list them."""
    backup = aws.client("backup", who="auditor")
    return {
        "tables": sorted(aws.client("dynamodb", who="auditor").list_tables()["TableNames"]),
        "vaults": [v["BackupVaultName"] for v in backup.list_backup_vaults()["BackupVaultList"]],
        "dr_vaults": [
            v["BackupVaultName"]
            for v in aws.client("backup", "us-west-2", who="auditor").list_backup_vaults()["BackupVaultList"]
        ],
        "recovery_points": [
            p["RecoveryPointArn"]
            for v in backup.list_backup_vaults()["BackupVaultList"]
            for p in backup.list_recovery_points_by_backup_vault(BackupVaultName=v["BackupVaultName"])["RecoveryPoints"]
        ],
        "plans": [p["BackupPlanName"] for p in backup.list_backup_plans()["BackupPlansList"]],
        "restore_testing_plans": [
            p["RestoreTestingPlanName"] for p in backup.list_restore_testing_plans()["RestoreTestingPlans"]
        ],
        "functions": [f["FunctionName"] for f in aws.client("lambda", who="auditor").list_functions()["Functions"]],
        # The launcher's break-glass role is the account's, not site.yml's (localaws/principals.py).
        "roles": sorted(
            r["RoleName"]
            for r in aws.client("iam", who="auditor").list_roles()["Roles"]
            if r["RoleName"] != principals.BREAK_GLASS_ROLE
        ),
        "queues": aws.client("sqs", who="auditor").list_queues().get("QueueUrls", []),
        "topics": [t["TopicArn"] for t in aws.client("sns", who="auditor").list_topics()["Topics"]],
        "alarms": [a["AlarmName"] for a in aws.client("cloudwatch", who="auditor").describe_alarms()["MetricAlarms"]],
        "rules": [r["Name"] for r in aws.client("events", who="auditor").list_rules()["Rules"]],
        "dashboards": [
            d["DashboardName"] for d in aws.client("cloudwatch", who="auditor").list_dashboards()["DashboardEntries"]
        ],
        "log_groups": [g["logGroupName"] for g in aws.client("logs", who="auditor").describe_log_groups()["logGroups"]],
        "parameters": [p["Name"] for p in aws.client("ssm", who="auditor").describe_parameters()["Parameters"]],
        "buckets": [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]],
    }

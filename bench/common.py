"""What the benchmarks share: a local AWS of their own, provisioning, the naive handler."""

from __future__ import annotations

import io
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "lambda")]

from localaws import launcher, principals  # noqa: E402

NAIVE_HANDLER = """
import os, boto3
ddb = boto3.client("dynamodb")
def lambda_handler(event, context):
    for record in event["Records"]:
        if record["eventName"] == "REMOVE":
            ddb.put_item(TableName=os.environ["TABLE"], Item=record["dynamodb"]["OldImage"])
    return {"batchItemFailures": []}
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def local_aws(periodic_saves: bool = True):
    """A fresh local AWS on a free port, stopped afterwards. ``periodic_saves=False``: it
    saves its state only when it stops (``localaws/checkpoint.py``); a save deep-copies every
    table and its point-in-time history while holding the interpreter, which at a million
    items stalls every request for seconds (measured with py-spy: 85 % of the emulator's
    samples during a 1,000,000-item rollback), a cost of the local target, not of the code
    measured."""
    target = launcher.Target(port=free_port(), home=Path(tempfile.mkdtemp(prefix="ddbguard-bench-")))
    saved = os.environ.get("LOCALAWS_SAVE_SECONDS")
    if not periodic_saves:
        os.environ["LOCALAWS_SAVE_SECONDS"] = str(10**9)
    try:
        launcher.start(target)
    finally:
        if saved is None:
            os.environ.pop("LOCALAWS_SAVE_SECONDS", None)
        else:
            os.environ["LOCALAWS_SAVE_SECONDS"] = saved
    try:
        yield target
    finally:
        launcher.stop(target)


def client(target, service: str, endpoint: str | None = None, who: str = "root"):
    """A client of the bench: as the account's root for the floor's set-up and the probes
    (not ours to measure), or as one of the launcher's principals (``writer``: the
    application whose writes the monitors undo)."""
    if who == "root":
        return principals.root_client(service, endpoint or target.endpoint)
    keys = principals.load(target.dir)[who]
    return boto3.client(
        service,
        endpoint_url=endpoint or target.endpoint,
        region_name="us-east-1",
        aws_access_key_id=keys["access_key_id"],
        aws_secret_access_key=keys["secret_access_key"],
    )


def ansible_playbook(target, *args: str) -> None:
    """ansible-playbook of this venv against ``target``, from the project's root, quietly."""
    env = dict(
        os.environ,
        LOCAL_AWS_PORT=str(target.port),
        LOCAL_AWS_HOME=str(target.home),
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
    )
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def provision(target, table: str, **extra) -> None:
    """site.yml for ``table`` (its monitor protects deletes)."""
    variables = {
        "ddbguard_tables": [{"name": table, "hash_key_name": "pk", "monitor_protected_events": ["REMOVE"]}],
        **extra,
    }
    ansible_playbook(target, "site.yml", "-e", json.dumps(variables))


def create_table(ddb, table: str, stream: bool = True, sort_key: str = "", pitr: bool = False) -> None:
    """An on-demand table keyed on ``pk`` (and ``sort_key``), with a NEW_AND_OLD_IMAGES stream.
    ``pitr``: point-in-time recovery on, as ``site.yml`` leaves a protected table; the local AWS
    then keeps a history of every write (``localaws.compat.pitr_history``), which each write pays."""
    keys = [("pk", "HASH")] + ([(sort_key, "RANGE")] if sort_key else [])
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": name, "KeyType": kind} for name, kind in keys],
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"} for name, _kind in keys],
        BillingMode="PAY_PER_REQUEST",
        **({"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}} if stream else {}),
    )
    if pitr:
        ddb.update_continuous_backups(
            TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )


def naive_table(target, table: str, batch_size: int = 100) -> None:
    """A table with a stream and point-in-time recovery, as a protected table has, and the
    naive handler on it (no conditions, no marker)."""
    ddb, lam, iam = client(target, "dynamodb"), client(target, "lambda"), client(target, "iam")
    create_table(ddb, table, pitr=True)
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    role = iam.create_role(RoleName=f"{table}-naive", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    rights = {
        "Statement": [
            {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": f"arn:aws:dynamodb:*:*:table/{table}"}
        ]
    }
    iam.put_role_policy(RoleName=f"{table}-naive", PolicyName="naive", PolicyDocument=json.dumps(rights))
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("naive.py", NAIVE_HANDLER)
    lam.create_function(
        FunctionName=f"{table}-naive",
        Runtime="python3.12",
        Role=role,
        Handler="naive.lambda_handler",
        Code={"ZipFile": code.getvalue()},
        Environment={"Variables": {"TABLE": table}},
        Timeout=300,
    )
    stream = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    lam.create_event_source_mapping(
        FunctionName=f"{table}-naive",
        EventSourceArn=stream,
        StartingPosition="LATEST",
        BatchSize=batch_size,
        MaximumBatchingWindowInSeconds=0,
    )
    time.sleep(1)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[rank]


def write_all(ddb, table: str, requests: list[dict], threads: int = 8) -> None:
    """BatchWriteItem of ``requests`` into ``table``, 25 at a time on ``threads`` threads."""

    def one(chunk):
        pending = {table: chunk}
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    chunks = [requests[i : i + 25] for i in range(0, len(requests), 25)]
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, chunks))


def peak_rss(stop: threading.Event, found: list[int], needle: str) -> None:
    """The RSS (KB) of every process whose command line holds ``needle`` (a module's
    AnsiballZ file), polled every 50 ms until ``stop``: ``max(found)`` is its peak."""
    while not stop.is_set():
        out = subprocess.run(["ps", "-eo", "rss=,args="], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if needle in line:
                found.append(int(line.split(None, 1)[0]))
        time.sleep(0.05)


def cpu_seconds(target) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the local AWS's server process and, apart,
    by its child processes (the Lambda functions' warm workers, live or exited), from ``/proc``:
    the difference of two readings says which side spent a run's CPU."""
    tick = os.sysconf("SC_CLK_TCK")

    def stat(pid: int) -> list[str]:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    def used(fields: list[str]) -> float:
        return (int(fields[11]) + int(fields[12])) / tick  # utime, stime

    server = int(target.pid_file.read_text().strip())
    own = stat(server)
    children = (int(own[13]) + int(own[14])) / tick  # cutime, cstime: the workers that exited
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = stat(int(entry.name))
            except (OSError, IndexError):
                continue
            if int(fields[1]) == server:  # ppid
                children += used(fields)
    return {"server": used(own), "workers": children}


def run_module(target, module: str, options: dict, principal: str = "tester") -> tuple[dict, float, float]:
    """One task of ``ddbguard.dr.<module>`` through ansible-playbook, acting as ``principal``:
    its result, the module process's peak RSS (MB, polled every 50 ms) and the playbook's
    wall seconds (Ansible's start included)."""
    scratch = Path(tempfile.mkdtemp(prefix=f"bench-{module}-"))
    play = scratch / "play.yml"
    play.write_text(
        "- hosts: localhost\n  gather_facts: false\n"
        "  module_defaults: {group/ddbguard.dr.aws: '{{ ddbguard_aws }}'}\n"
        f"  tasks:\n    - ddbguard.dr.{module}: '{{{{ options }}}}'\n      register: result\n"
        f"    - ansible.builtin.copy: {{content: '{{{{ result | to_json }}}}', dest: '{scratch}/result.json'}}\n"
    )
    stop, rss = threading.Event(), []
    poller = threading.Thread(target=peak_rss, args=(stop, rss, f"AnsiballZ_{module}"))
    poller.start()
    began = time.monotonic()
    try:
        ansible_playbook(
            target, str(play), "-e", json.dumps({"options": options, "ddbguard_local_principal": principal})
        )
    finally:
        seconds = time.monotonic() - began
        stop.set()
        poller.join()
    return json.loads((scratch / "result.json").read_text()), (max(rss) / 1024 if rss else 0.0), seconds

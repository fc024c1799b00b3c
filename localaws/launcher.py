"""Start, stop and inspect the local AWS emulator process.

One emulator per port. Its files live in ``<home>/<port>/``: ``server.pid``,
``server.log``, ``state/`` (ministack's persisted state, saved on a clean stop) and
``tmp/`` (its scratch files). ``home`` defaults to ``.localaws/`` at the project root,
which git ignores.

Every operation is idempotent: ``start`` reuses a healthy emulator that this launcher
started and replaces a stale pid file; ``stop`` only signals a process whose command
line is our server, and reports ``stopped`` or ``not-running``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from localaws import MINISTACK_VERSION, principals

PROJECT_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
DEFAULT_PORT = 4566
SERVER_MODULE = "localaws.server"


class LauncherError(RuntimeError):
    """A start or stop that cannot complete; the message says what to do."""


@dataclass(frozen=True)
class Target:
    """Where one emulator listens and keeps its files."""

    port: int = DEFAULT_PORT
    home: Path = PROJECT_ROOT / ".localaws"
    # What the operator user holds (localaws/principals.py); a test may give it less.
    operator_policy: Path = principals.OPERATOR_POLICY
    # Where the emulator logs its IAM evaluations (localaws/iam_log.py), when asked.
    iam_log: Path | None = None

    @classmethod
    def from_env(cls, port: int | None = None) -> Target:
        home = Path(os.environ.get("LOCAL_AWS_HOME", PROJECT_ROOT / ".localaws"))
        return cls(port=port or int(os.environ.get("LOCAL_AWS_PORT", DEFAULT_PORT)), home=home)

    @property
    def dir(self) -> Path:
        return self.home / str(self.port)

    @property
    def pid_file(self) -> Path:
        return self.dir / "server.pid"

    @property
    def log_file(self) -> Path:
        return self.dir / "server.log"

    @property
    def state_dir(self) -> Path:
        return self.dir / "state"

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def server_env(self) -> dict[str, str]:
        """Environment for the emulator process: loopback only, persistent state."""
        env = {k: v for k, v in os.environ.items() if k not in ("AWS_SESSION_TOKEN", "AWS_PROFILE")}
        env.update(
            {
                "GATEWAY_PORT": str(self.port),
                "BIND_HOST": HOST,
                "MINISTACK_HOST": "localhost",
                "PERSIST_STATE": "1",
                # IAM evaluation on, as on AWS: every request is allowed or refused by the
                # caller's policies (localaws/principals.py makes the callers).
                "AUTH": "true",
                # The account's root key, which only the launcher's bootstrap uses; never
                # a key of the operator's own environment.
                "AWS_ACCESS_KEY_ID": principals.ROOT_KEY,
                "AWS_SECRET_ACCESS_KEY": principals.ROOT_KEY,
                "STATE_DIR": str(self.state_dir),
                "TMPDIR": str(self.dir / "tmp"),
                # These listeners would bind 0.0.0.0 on their own ports; we need neither.
                "IOT_MTLS_ENABLED": "0",
                "SFTP_ENABLED": "0",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])),
            }
        )
        env.pop("LOCALAWS_IAM_LOG", None)
        if self.iam_log is not None:
            env["LOCALAWS_IAM_LOG"] = str(self.iam_log)
        return env


def health(target: Target, timeout: float = 1.0) -> dict | None:
    """ministack's health document, or None when nothing healthy answers."""
    try:
        with urllib.request.urlopen(f"{target.endpoint}/_ministack/health", timeout=timeout) as resp:  # noqa: S310 - http://127.0.0.1 only
            return json.load(resp)
    except (OSError, ValueError, urllib.error.URLError):
        return None


def _read_pid(target: Target) -> int | None:
    try:
        return int(target.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _is_our_server(pid: int) -> bool:
    """True when ``pid`` is alive and runs our server module (not a recycled pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return SERVER_MODULE.encode() in cmdline


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex((HOST, port)) == 0


def _log_tail(target: Target, lines: int = 20) -> str:
    try:
        return "\n".join(target.log_file.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_healthy(target: Target, alive: Callable[[], bool], timeout: float) -> dict:
    """Wait for the health endpoint while ``alive()`` says the process still runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = health(target)
        if doc is not None:
            if doc.get("version") != MINISTACK_VERSION:
                raise LauncherError(
                    f"{target.endpoint} answers as ministack {doc.get('version')}, expected {MINISTACK_VERSION}"
                )
            if doc.get("auth") != "enabled":
                raise LauncherError(
                    f"{target.endpoint} does not evaluate IAM (started by an older launcher?); "
                    "stop it (make local-aws-stop) and start it again"
                )
            return doc
        if not alive():
            raise LauncherError(f"the local AWS exited during start-up; log {target.log_file}:\n{_log_tail(target)}")
        time.sleep(0.1)
    raise LauncherError(
        f"the local AWS did not become healthy within {timeout:.0f}s; log {target.log_file}:\n{_log_tail(target)}"
    )


def status(target: Target) -> dict:
    pid = _read_pid(target)
    running = pid is not None and _is_our_server(pid)
    doc = health(target) if running else None
    return {
        "status": "running" if doc else ("starting" if running else "stopped"),
        "pid": pid if running else None,
        "endpoint": target.endpoint,
        "state_dir": str(target.state_dir),
        "log": str(target.log_file),
    }


def start(target: Target, timeout: float = 60.0) -> dict:
    """Start the emulator unless ours already runs on this port; wait until healthy."""
    pid = _read_pid(target)
    if pid is not None and _is_our_server(pid):
        _wait_healthy(target, lambda: _is_our_server(pid), timeout)
        principals.bootstrap(target.endpoint, target.dir, target.operator_policy)
        return {**status(target), "action": "reused"}
    if pid is not None:
        target.pid_file.unlink(missing_ok=True)  # stale: that process is gone
    if _port_in_use(target.port):
        raise LauncherError(
            f"{HOST}:{target.port} is in use by a process this launcher did not start; "
            "stop it or choose another port with LOCAL_AWS_PORT"
        )
    (target.dir / "tmp").mkdir(parents=True, exist_ok=True)
    target.state_dir.mkdir(parents=True, exist_ok=True)
    with open(target.log_file, "ab") as log:
        proc = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter and module
            [sys.executable, "-m", SERVER_MODULE],
            cwd=PROJECT_ROOT,
            env=target.server_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    target.pid_file.write_text(f"{proc.pid}\n")
    try:
        # Just after Popen the child may not have exec'd yet, so ask Popen, not /proc.
        _wait_healthy(target, lambda: proc.poll() is None, timeout)
    except LauncherError:
        # Stop it through its Popen handle: /proc may not show our server yet.
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        target.pid_file.unlink(missing_ok=True)
        raise
    principals.bootstrap(target.endpoint, target.dir, target.operator_policy)
    return {**status(target), "action": "started"}


def _cpu_ticks(pid: int) -> int:
    """CPU time the process has used (user + system, in clock ticks); 0 when unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    except (OSError, IndexError, ValueError):
        return 0


def _progress(target: Target, pid: int) -> tuple:
    """What changes while the server saves: its CPU time, and the state folder's files
    (names, sizes, times). A hung or idle process writes nothing and uses little CPU."""
    try:
        files = tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in target.state_dir.iterdir()))
    except OSError:
        files = ()
    return _cpu_ticks(pid), files


def stop(target: Target, timeout: float = 30.0, limit: float = 1800.0) -> dict:
    """Stop our emulator by PID; it saves its state on the way out, and we wait for that.

    The process is killed only when it has made no progress for ``timeout`` seconds (no
    CPU time used, no state file written: nothing is being saved), or after ``limit``
    seconds in all. A large state takes longer to save than any fixed timeout (50,000
    items with a stream and PITR: 8 s and 183 MB here), and killing it half-way lost every
    table created since the last clean stop."""
    pid = _read_pid(target)
    if pid is None or not _is_our_server(pid):
        target.pid_file.unlink(missing_ok=True)
        return {**status(target), "action": "not-running"}
    os.kill(pid, signal.SIGTERM)
    started = last_change = time.monotonic()
    ticks, files = _progress(target, pid)
    busy = max(1, os.sysconf("SC_CLK_TCK") // 50)  # 20 ms of CPU per 100 ms check: saving, not idling
    while _is_our_server(pid) and time.monotonic() - last_change < timeout and time.monotonic() - started < limit:
        time.sleep(0.1)
        now_ticks, now_files = _progress(target, pid)
        if now_files != files or now_ticks - ticks >= busy:
            last_change = time.monotonic()
        ticks, files = now_ticks, now_files
    if _is_our_server(pid):
        os.kill(pid, signal.SIGKILL)
    # Lambda workers are children in the server's own session: end whatever remains.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    _reap(pid)
    target.pid_file.unlink(missing_ok=True)
    return {**status(target), "action": "stopped"}


def _reap(pid: int) -> None:
    """Collect the exit status when the server is our own child (tests start it so)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def reset(target: Target) -> dict:
    """Wipe every resource in a running emulator (ministack's ``/_ministack/reset``)."""
    req = urllib.request.Request(f"{target.endpoint}/_ministack/reset", method="POST", data=b"")  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(req, timeout=30):  # noqa: S310 - http://127.0.0.1 only
            pass
    except (OSError, urllib.error.URLError) as exc:
        raise LauncherError(f"reset failed: {exc}; is the local AWS running?") from exc
    principals.bootstrap(target.endpoint, target.dir, target.operator_policy)  # the reset wiped them too
    return {**status(target), "action": "reset"}


def run_plan(target: Target, plan: str) -> dict:
    """Run the plan's next scheduled run now, through the control (localaws/controls.py)."""
    return _control(target, "run-plan", plan)


def run_restore_test(target: Target, plan: str) -> dict:
    """Run the restore testing plan's next scheduled run now (localaws/controls.py, row 38)."""
    return _control(target, "run-restore-test", plan)


def _control(target: Target, control: str, plan: str) -> dict:
    if health(target) is None:
        raise LauncherError(f"the local AWS does not answer on port {target.port}")
    query = urllib.parse.urlencode({"plan": plan})
    url = f"{target.endpoint}/_localaws/backup/{control}?{query}"
    request = urllib.request.Request(url, method="POST", data=b"")  # noqa: S310 - our own loopback endpoint
    try:
        with urllib.request.urlopen(request, timeout=300) as answer:  # noqa: S310 - our own loopback endpoint
            return json.loads(answer.read())
    except urllib.error.HTTPError as err:
        raise LauncherError(f"{control} {plan}: {err.read().decode(errors='replace')}") from err

"""Run every molecule scenario (``molecule test -s <name>``), in two lanes at once.

Each scenario starts a local AWS of its own (state under its ephemeral folder) on the port
``MOLECULE_LOCAL_AWS_PORT`` names; each lane takes a free port of its own and runs its
scenarios one after the other, so two local AWS targets at most run at once, one per core
of the CI machine. A lane's output goes to ``build/molecule/<scenario>.log`` and is printed
whole when the scenario ends. Exits non-zero, naming them, when any scenario failed.

    python tools/molecule_all.py            # every scenario
    python tools/molecule_all.py dr_kms     # only these
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOGS = ROOT / "build" / "molecule"
# Rough relative durations (a fresh clone on 2 cores), to balance the lanes; a new
# scenario counts as 1.
WEIGHTS = {"default": 6, "dr_drill": 5, "dr_backup": 3, "dr_monitor": 2, "dr_restore": 2}
_PRINT = threading.Lock()


def scenarios() -> list[str]:
    return sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))


def lanes(names: list[str], count: int = 2) -> list[list[str]]:
    """Heaviest first, each to the lane with the least work so far."""
    found: list[list[str]] = [[] for _ in range(count)]
    load = [0.0] * count
    for name in sorted(names, key=lambda n: (-WEIGHTS.get(n, 1), n)):
        lane = load.index(min(load))
        found[lane].append(name)
        load[lane] += WEIGHTS.get(name, 1)
    return [lane for lane in found if lane]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_lane(names: list[str], failed: list[str]) -> None:
    bin_dir = Path(sys.executable).parent  # the virtualenv's: molecule runs ansible-config and the like from PATH
    env = {
        **os.environ,
        "MOLECULE_LOCAL_AWS_PORT": str(free_port()),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_CONFIG": os.environ.get("ANSIBLE_CONFIG", str(ROOT / "ansible.cfg")),
    }
    molecule = bin_dir / "molecule"
    for name in names:
        log = LOGS / f"{name}.log"
        began = time.monotonic()
        with log.open("w") as out:
            code = subprocess.call([str(molecule), "test", "-s", name], cwd=ROOT, env=env, stdout=out, stderr=out)
        with _PRINT:
            sys.stdout.write(log.read_text())
            print(f"== molecule {name}: {'passed' if code == 0 else 'FAILED'} in {time.monotonic() - began:.0f} s")
            sys.stdout.flush()
        if code != 0:
            failed.append(name)


def main(argv: list[str]) -> int:
    LOGS.mkdir(parents=True, exist_ok=True)
    names = argv or scenarios()
    unknown = sorted(set(names) - set(scenarios()))
    if unknown:
        print(f"no such molecule scenario: {', '.join(unknown)}", file=sys.stderr)
        return 2
    failed: list[str] = []
    threads = [threading.Thread(target=run_lane, args=(lane, failed)) for lane in lanes(names)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"== molecule: {len(names) - len(failed)} of {len(names)} scenarios passed")
    if failed:
        print(f"== molecule FAILED: {', '.join(sorted(failed))}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

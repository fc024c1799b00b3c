"""Command line: ``python -m localaws {start,stop,status,reset,run-plan,run-restore-test} [--port N] [--plan NAME]``.

``run-plan`` runs a backup plan's next scheduled run now (``docs/emulator.md``, row 35):
its backup jobs and their copies, where on AWS they come at the rule's schedule.
``run-restore-test`` runs a restore testing plan's next scheduled run now (row 38): its
restore jobs and their ``Restore Job State Change`` events.

Prints one JSON object, so that scripts and Ansible can read the result; exits 1 with
the reason on standard error when the operation cannot be done.
"""

from __future__ import annotations

import argparse
import json
import sys

from localaws import launcher


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localaws", description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "status", "reset", "run-plan", "run-restore-test"])
    parser.add_argument(
        "--plan", help="run-plan: the plan's name (ddbguard-plan); run-restore-test: ddbguard_restore_test"
    )
    parser.add_argument("--port", type=int, help="default: $LOCAL_AWS_PORT or 4566")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for health")
    args = parser.parse_args(argv)
    target = launcher.Target.from_env(args.port)
    try:
        if args.command == "start":
            result = launcher.start(target, timeout=args.timeout)
        elif args.command == "stop":
            result = launcher.stop(target)
        elif args.command == "reset":
            result = launcher.reset(target)
        elif args.command == "run-plan":
            result = launcher.run_plan(target, args.plan or "ddbguard-plan")
        elif args.command == "run-restore-test":
            result = launcher.run_restore_test(target, args.plan or "ddbguard_restore_test")
        else:
            result = launcher.status(target)
    except launcher.LauncherError as exc:
        print(f"localaws: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

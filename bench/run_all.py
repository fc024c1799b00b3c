"""Run every benchmark and rewrite docs/benchmarks.md with the machine and the date."""

from __future__ import annotations

import datetime
import subprocess

import bulk_restore
import common
import core_decision
import undo_latency


def main() -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=common.ROOT
    ).stdout.strip()
    sections = [
        core_decision.markdown(core_decision.run()),
        undo_latency.markdown(undo_latency.run()),
        bulk_restore.markdown(bulk_restore.run()),
    ]
    header = (
        "# Benchmarks\n\n"
        f"- Date: {datetime.datetime.now(datetime.UTC).strftime('%Y-%m-%d %H:%M UTC')}\n"
        f"- Machine: {common.machine()}\n"
        f"- Commit: {commit or 'uncommitted'}; ministack {common.launcher.MINISTACK_VERSION} (the local AWS)\n"
        "- Produced by `make bench` (`bench/run_all.py`); rerun it to refresh this page.\n\n"
        "These numbers describe the change monitor on the local AWS emulator, where the stream poller, "
        "Lambda and DynamoDB share one process and two cores. They are not the latency of DynamoDB "
        "Streams and Lambda on AWS, whose poller adds its own delay (typically a few hundred ms).\n\n"
    )
    (common.ROOT / "docs" / "benchmarks.md").write_text(header + "\n".join(sections))
    print(header + "\n".join(sections))


if __name__ == "__main__":
    main()

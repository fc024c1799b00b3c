"""Run the benchmarks and write their sections into docs/benchmarks.md.

    python run_all.py                 # every benchmark; rewrites their sections
    python run_all.py site_runtime    # only these; replaces their sections, keeps the others

Each section says when, and at which commit, it was measured; the page's header says on
which machine. Sections no benchmark writes (written by hand, such as what each change
to the monitor gave, measured at the commits they name) are kept as they are.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys

import bulk_undo
import common
import copy_back
import copy_back_job
import core_decision
import recreation
import region_loss
import restore_validation
import site_runtime
import status
import window_rollback

BENCHMARKS = {
    "core_decision": core_decision,
    "bulk_undo": bulk_undo,
    "site_runtime": site_runtime,
    "recreation": recreation,
    "window_rollback": window_rollback,
    "copy_back": copy_back,
    "copy_back_job": copy_back_job,
    "region_loss": region_loss,
    "status": status,
    "restore_validation": restore_validation,
}
PAGE = common.ROOT / "docs" / "benchmarks.md"
RESULTS = common.ROOT / "bench" / "results"


def _stamp() -> str:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=common.ROOT
    ).stdout.strip()
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"_Measured {when}, commit {commit or 'uncommitted'}._\n\n"


def _section(name: str) -> str:
    """A benchmark's section of the page; its raw results (every sample) go to
    ``bench/results/<name>.json``, so the page's numbers can be derived again."""
    module = BENCHMARKS[name]
    result = module.run()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    text = module.markdown(result)
    heading, _, body = text.partition("\n\n")
    return f"{heading}\n\n{_stamp()}{body}"


def _split(page: str) -> tuple[str, list[str]]:
    parts = re.split(r"(?m)^(?=## )", page)
    return parts[0], parts[1:]


def main(names: list[str]) -> None:
    header = (
        "# Benchmarks\n\n"
        f"- Machine: {common.machine()}\n"
        f"- ministack {common.launcher.MINISTACK_VERSION} (the local AWS)\n"
        "- Produced by `make bench` (`bench/run_all.py`); rerun it to refresh this page.\n\n"
        "These numbers describe ddbguard on the local AWS emulator, where the stream poller, "
        "Lambda and DynamoDB share one process and two cores. They are not the latency of DynamoDB "
        "Streams and Lambda on AWS, whose poller adds its own delay (typically a few hundred ms).\n\n"
    )
    _old_header, sections = _split(PAGE.read_text()) if PAGE.exists() else ("", [])
    for name in names or list(BENCHMARKS):
        new = _section(name)
        title = new.splitlines()[0]
        sections = [new if s.splitlines()[0] == title else s for s in sections]
        if new not in sections:
            sections.append(new)
    PAGE.write_text(
        header + "".join(s if s.endswith("\n\n") else s.rstrip("\n") + "\n\n" for s in sections).rstrip("\n") + "\n"
    )
    print(PAGE.read_text())


if __name__ == "__main__":
    main(sys.argv[1:])

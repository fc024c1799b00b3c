"""Emulator process entry point: pinned-version check, compatibility layer, ministack.

Started by ``localaws.launcher``, never by hand. Configuration arrives through the
environment variables that ministack reads (``GATEWAY_PORT``, ``BIND_HOST``,
``PERSIST_STATE``, ``STATE_DIR``), set by the launcher.
"""

from __future__ import annotations

import logging
import os
import sys
from importlib.metadata import version

from localaws import MINISTACK_VERSION


def check_version(found: str, pinned: str = MINISTACK_VERSION) -> None:
    """Refuse to run on a ministack release the compatibility layer was not tested on."""
    if found != pinned:
        raise SystemExit(
            f"localaws: ministack {found} is installed but the compatibility layer is "
            f"written for {pinned}; install requirements.txt (make bootstrap)."
        )


def main() -> None:
    check_version(version("ministack"))
    import ministack.app

    from localaws import compat

    names = compat.install()
    logging.getLogger("localaws").info("AWS compatibility patches installed: %s", ", ".join(names))
    from localaws import checkpoint, controls, iam_log

    controls.install()

    if iam_log.install():
        logging.getLogger("localaws").info("IAM evaluations logged to %s", os.environ["LOCALAWS_IAM_LOG"])

    if checkpoint.install():
        logging.getLogger("localaws").info("periodic state saves every %s s at least", checkpoint.DEFAULT_SECONDS)
    sys.argv = ["ministack"]
    ministack.app.main()


if __name__ == "__main__":
    main()

"""Local AWS target: launcher and AWS-compatibility layer for the ministack emulator.

What lives here:

- ``launcher``: start / stop / status of a ministack process bound to 127.0.0.1, with
  state kept under a git-ignored folder so that a restart keeps provisioned resources.
- ``server``: the process entry point. It checks the pinned ministack version, installs
  the compatibility layer, then hands over to ministack's own server.
- ``compat``: thin patches that make ministack answer as documented AWS does where our
  flow meets a difference. Each one is listed in ``docs/emulator.md``.

Dependencies: the standard library and ministack only. Nothing in ``roles/``,
``collections/`` or ``lambda/`` imports this package; they reach the emulator over HTTP
exactly as they reach AWS.
"""

# The exact ministack release the compatibility layer was written and tested against.
# The server refuses to start on any other version, so an upgrade cannot silently change
# the behaviour the patches rely on (docs/emulator.md).
MINISTACK_VERSION = "1.5.33"

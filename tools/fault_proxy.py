"""microburst (the AWS fault proxy pinned in requirements.txt), forwarding each request as signed.

microburst sends a request on with the upstream's ``Host`` header. SigV4 signs ``Host``, so
a local AWS that verifies signatures (IAM evaluation on, docs/emulator.md) refuses every
request that went through it, unless microburst signs it again, as one identity of its own:
the function behind the proxy would no longer be evaluated as itself. Here microburst keeps
the client's ``Host``, so the request reaches the local AWS exactly as its caller signed it
and is evaluated as that caller. Used by the end-to-end throttling test and the bench.

Usage: ``python tools/fault_proxy.py --upstream URL --port N --host 127.0.0.1`` (microburst's
own arguments).
"""

from __future__ import annotations

import sys

from microburst import forward
from microburst.cli import main

_original = forward.Upstream._outbound_headers


def _as_signed(self, request):
    headers = _original(self, request)
    headers["host"] = request.headers.get("Host", headers["host"])
    return headers


forward.Upstream._outbound_headers = _as_signed

if __name__ == "__main__":
    sys.exit(main())

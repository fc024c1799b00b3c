"""Run emulator code as a request of one account and region would run.

ministack keeps each account's and region's resources apart by two context variables
that a request sets. Work that no request carries (a periodic evaluation, a publisher)
must set them itself, for each account and region it visits, and reset them after.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def account_region(account: str, region: str) -> Iterator[None]:
    from ministack.core.responses import _request_account_id, _request_region

    account_token = _request_account_id.set(account)
    region_token = _request_region.set(region)
    try:
        yield
    finally:
        _request_account_id.reset(account_token)
        _request_region.reset(region_token)

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ISO 8601 times, in one place for every module: parse what users write, print what AWS returns.

A time without a zone is taken as UTC, the zone every AWS API reports in.
"""

from __future__ import annotations

import datetime
from typing import Any


def parse_time(text: str, option: str) -> datetime.datetime:
    """``2026-11-24T10:15:00Z`` (or any ISO 8601 form) as an aware datetime.

    Raises ``ValueError`` whose message names ``option``, for the module to report.
    """
    try:
        moment = datetime.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{option} must be an ISO 8601 time such as 2026-11-24T10:15:00Z, got {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def iso(value: Any) -> Any:
    """A datetime (as boto3 returns them) as ISO 8601 text; anything else unchanged."""
    return value.isoformat() if hasattr(value, "isoformat") else value


def iso_from_epoch(epoch: float) -> str:
    """Seconds since the epoch as ISO 8601 text in UTC."""
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).isoformat()


def epoch(value: Any) -> float:
    """A timestamp as epoch seconds, from a datetime (boto3) or a number."""
    return value.timestamp() if hasattr(value, "timestamp") else float(value)

"""Function errors of a DynamoDB stream trigger, as AWS handles them (row 7).

AWS bisects the batch (``BisectBatchOnFunctionError``), retries up to
``MaximumRetryAttempts``, then sends the batch's description to the on-failure
destination and moves on. ministack retried the whole batch forever and used the
destination only after ``MaximumRecordAgeInSeconds``, so one poison record blocked the
shard. ``decide`` is AWS's reaction to one invocation; it is pure, so it is unit-tested
without a server. ``stream_trigger``'s poller applies it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

RETRY_BACKOFF_SECONDS = 0.2
MAX_BACKOFF_SECONDS = 5.0


@dataclass
class MappingState:
    """Retry bookkeeping of one mapping (kept in memory, as AWS keeps it internally)."""

    limit: int | None = None  # batch size while bisecting; None = the mapping's BatchSize
    attempts: int = 0  # failed attempts of the batch at the head of the shard
    retry_at: float = 0.0


@dataclass
class Outcome:
    """What to do after one invocation."""

    advance_to: int  # new absolute stream position
    finished: list[tuple[int, dict]] = field(default_factory=list)  # entries sent to the failure destination
    condition: str | None = None  # RetryAttemptsExhausted / MaxRecordAgeExceeded
    retry: bool = False


def decide(
    state: MappingState,
    entries: list[tuple[int, dict]],
    failed_at: int | None,
    end_position: int,
    bisect: bool,
    max_retries: int,
) -> Outcome:
    """AWS's reaction to one invocation of ``entries`` (a batch, with absolute positions)."""
    if failed_at is None:
        state.limit, state.attempts = None, 0
        return Outcome(advance_to=end_position)
    remaining = [e for e in entries if e[0] >= failed_at]
    progressed = failed_at > entries[0][0]
    state.attempts = 1 if progressed else state.attempts + 1
    if bisect and len(remaining) > 1:
        state.limit = max(1, len(remaining) // 2)
        state.attempts = 0
        return Outcome(advance_to=failed_at, retry=True)
    if max_retries != -1 and state.attempts > max_retries:
        state.limit, state.attempts = None, 0
        return Outcome(advance_to=remaining[-1][0] + 1, finished=remaining, condition="RetryAttemptsExhausted")
    return Outcome(advance_to=failed_at, retry=True)


def backoff_seconds(state: MappingState) -> float:
    """How long the head of the shard waits before its next attempt (0.2 s doubling, up to 5 s)."""
    return min(RETRY_BACKOFF_SECONDS * (2 ** max(state.attempts - 1, 0)), MAX_BACKOFF_SECONDS)

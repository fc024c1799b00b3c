"""How one batch is carried out: each key in stream order, the keys together, in waves.

A key's records are decided and carried out in stream order: ``core.decide`` for a record
runs only after the key's previous undo has been written, as it always has, since the
memory of good states moves with each decision. Decisions that need no write (skips,
audits, changes the monitor cannot undo) settle at once. An undo waits for the next wave.

Wave *n* holds the next undo of every key that has one. Its items are all distinct, so
``writes`` may send them to DynamoDB together (``DynamoDbActions.execute_many``: a
transaction of up to 100 conditional puts instead of 100 requests), and a key's next
undo still waits for the wave after. When a key's undo fails, the key stops there: its
later records are left for Lambda's retry, which starts from the lowest failed record.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

from change_monitor import core
from change_monitor.outcomes import Outcome


@dataclass
class Step:
    """One record of the batch and what became of it (``outcome`` None: not attempted)."""

    index: int
    record: dict[str, Any]
    decision: core.Decision | None = None
    outcome: str | None = None
    error: str | None = None


def run(
    groups: list[list[tuple[int, dict[str, Any]]]],
    decide: Callable[[dict[str, Any]], core.Decision],
    settle: Callable[[core.Decision], str],
    execute_many: Callable[[list[core.Decision]], list[str | BaseException]],
    memory: MutableMapping[str, Any] | Any,
) -> list[Step]:
    """Carry out every key's records (``groups``, each in stream order); return the steps.

    ``decide`` is the pure core bound to the policy; ``settle`` names the outcome of a
    decision that needs no write; ``execute_many`` writes one wave of undos on distinct
    items and returns an outcome or the exception for each, in order."""
    steps = [[Step(index, record) for index, record in group] for group in groups]
    cursors = [0] * len(steps)
    while True:
        wave = list(_advance(steps, cursors, decide, settle, memory))
        if not wave:
            return [step for key in steps for step in key]
        outcomes = execute_many([step.decision for _key, step in wave])
        for (key, step), outcome in zip(wave, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                step.outcome, step.error = Outcome.FAILED, repr(outcome)
                cursors[key] = len(steps[key])  # the key's later records wait for the retry
            else:
                step.outcome = outcome
                cursors[key] += 1


def _advance(
    steps: list[list[Step]],
    cursors: list[int],
    decide: Callable[[dict[str, Any]], core.Decision],
    settle: Callable[[core.Decision], str],
    memory: Any,
) -> Iterator[tuple[int, Step]]:
    """Decide each key's records up to its next undo; yield (key, step) of those undos."""
    for key, key_steps in enumerate(steps):
        while cursors[key] < len(key_steps):
            step = key_steps[cursors[key]]
            try:
                step.decision = decide(step.record)
                if step.decision.remember:
                    memory.put(*step.decision.remember)
            except Exception as exc:  # noqa: BLE001 - reported to Lambda for retry, never swallowed
                step.outcome, step.error = Outcome.FAILED, repr(exc)
                cursors[key] = len(key_steps)
                break
            if step.decision.action in core.UNDO_ACTIONS:
                yield key, step
                break
            step.outcome = settle(step.decision)
            cursors[key] += 1

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decision logic of ``ddbguard.dr.dynamodb_window_rollback``: the changes of a window, and
what to write for each. No AWS calls.

A window's changes come from one of two sources, both giving, for every item written in
``[from, to)``, its state at ``from`` (``old``, None when it did not exist) and at ``to``
(``new``, None when it was deleted):

- an incremental export's data files (``export_changes``), one line per item;
- the table's stream (``stream_changes``): for each item, the old image of its first record
  in the window and the new image of its last (DynamoDB Streams orders records per item).

Each change is planned against the live item, read by key (``plan``):

- live equals ``old``: nothing to do (``unchanged``; a re-run finds its own writes so);
- live equals ``new``: put ``old`` back (or delete the item, when it did not exist at
  ``from`` and deletion was asked), conditional on the live item still being what was read;
- anything else: a write made after ``to``, which always wins (``superseded``).

Items are boto3's wire form throughout. The monitor's marker attribute is ignored in every
comparison and never written back from an old image.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.ddbguard.dr.plugins.module_utils import items as itm

ROLLBACK = "rollback"  # put the state at from back
DELETE = "delete"  # the item did not exist at from: delete it (asked for)
UNCHANGED = "unchanged"  # live already is the state at from
SUPERSEDED = "superseded"  # written after to: left as it is
CREATED = "created"  # created in the window, deletion not asked: left as it is
EXCLUDED = "excluded"  # under a reserved key prefix: never touched
OUTCOMES = ("rolled_back", "deleted", UNCHANGED, SUPERSEDED, CREATED, EXCLUDED, "planned")


@dataclass(frozen=True)
class Change:
    key: dict[str, Any]
    old: dict[str, Any] | None
    new: dict[str, Any] | None


@dataclass
class Entry:
    change: Change
    action: str
    expected: dict[str, Any] | None = None  # the live item as read (None: absent)
    outcome: str = ""


def key_id(key: dict[str, Any]) -> str:
    return json.dumps(itm.from_wire(key), sort_keys=True)


def export_changes(lines: Iterable[str]) -> Iterator[Change]:
    """Changes from an incremental export's data lines (DynamoDB JSON, binary as base64)."""
    for text in lines:
        if not text.strip():
            continue
        line = json.loads(text)
        yield Change(
            key=itm.to_wire(line["Keys"]),
            old=itm.to_wire(line["OldImage"]) if "OldImage" in line else None,
            new=itm.to_wire(line["NewImage"]) if "NewImage" in line else None,
        )


def stream_changes(records: Iterable[dict[str, Any]], start: float, end: float) -> dict[str, Change]:
    """Changes from stream records (boto3's GetRecords form, in order per item), for the
    records whose creation time (whole seconds, as DynamoDB Streams gives it) is in
    ``[start, end)``. Holds one entry per item changed in the window."""
    out: dict[str, Change] = {}
    for record in records:
        data = record["dynamodb"]
        created = data["ApproximateCreationDateTime"]
        at = created.timestamp() if hasattr(created, "timestamp") else float(created)
        if not start <= at < end:
            continue
        kid = key_id(data["Keys"])
        first = out.get(kid)
        out[kid] = Change(
            key=data["Keys"],
            old=first.old if first else data.get("OldImage"),
            new=data.get("NewImage"),
        )
    return out


def under_prefix(key: dict[str, Any], hash_key: str, prefixes: list[str]) -> bool:
    """Whether the partition key is a string starting with one of ``prefixes``."""
    value = (key.get(hash_key) or {}).get("S")
    return isinstance(value, str) and any(p and value.startswith(p) for p in prefixes)


def plan(change: Change, live: dict[str, Any] | None, delete_created: bool, ignore: list[str]) -> Entry:
    """What to write for one change, given the live item (None: absent)."""
    if itm.same_item(change.old, live, ignore):
        return Entry(change, UNCHANGED, live, UNCHANGED)
    if not itm.same_item(change.new, live, ignore):
        return Entry(change, SUPERSEDED, live, SUPERSEDED)
    if change.old is None:
        if not delete_created:
            return Entry(change, CREATED, live, CREATED)
        return Entry(change, DELETE, live)
    return Entry(change, ROLLBACK, live)


def image(entry: Entry, ignore: list[str]) -> dict[str, Any] | None:
    """What to put for an entry (None: delete)."""
    if entry.action == DELETE:
        return None
    return {k: v for k, v in (entry.change.old or {}).items() if k not in ignore}


def condition(entry: Entry) -> dict[str, Any]:
    """ConditionExpression kwargs: the live item is still what was read (or still absent)."""
    from ansible_collections.ddbguard.dr.plugins.module_utils import copy_back

    return copy_back.condition(entry.change.key, entry.expected)


@dataclass
class Tally:
    """Counts per outcome, every superseded and failed key, and a bounded sample of the rest."""

    sample_size: int = 20
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    superseded: list[dict[str, Any]] = field(default_factory=list)
    sample: list[dict[str, Any]] = field(default_factory=list)

    def add(self, entry: Entry) -> None:
        outcome = entry.outcome
        if outcome == "applied":
            outcome = "deleted" if entry.action == DELETE else "rolled_back"
        self.counts[outcome] += 1
        key = itm.from_wire(entry.change.key)
        if outcome == SUPERSEDED:
            self.superseded.append(key)
        elif len(self.sample) < self.sample_size:
            self.sample.append({"key": key, "outcome": outcome})

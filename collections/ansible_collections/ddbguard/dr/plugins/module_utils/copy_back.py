# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decision logic of ``ddbguard.dr.dynamodb_copy_back``: what to copy back, and how. No AWS calls.

Items are boto3's wire form. Each planned write carries the live item as the plan saw it
(``expected``): the write is conditional on the live item still being that (or still
absent), so a write made since the plan always wins.
"""

from __future__ import annotations

import json
from typing import Any

from ansible_collections.ddbguard.dr.plugins.module_utils import items as itm

COPY = "copy"
DELETE = "delete"
UNCHANGED = "unchanged"
EXCLUDED = "excluded"


def key_id(key: dict[str, Any]) -> str:
    """A stable identity for a key (wire form)."""
    return json.dumps(itm.from_wire(key), sort_keys=True)


def strip(item: dict[str, Any] | None, ignore: list[str]) -> dict[str, Any] | None:
    return None if item is None else {k: v for k, v in item.items() if k not in ignore}


def excluded(keys: dict[str, dict[str, Any]], hash_key: str, prefixes: list[str]) -> set[str]:
    """Key ids whose partition key is a string starting with one of ``prefixes`` (wire form):
    never copied nor deleted (the drill's canaries stay out of a live table)."""
    out = set()
    for kid, key in keys.items():
        value = (key.get(hash_key) or {}).get("S")
        if isinstance(value, str) and any(p and value.startswith(p) for p in prefixes):
            out.add(kid)
    return out


def plan(
    restored: dict[str, dict[str, Any]],
    live: dict[str, dict[str, Any]],
    keys: dict[str, dict[str, Any]],
    delete_missing: bool,
    ignore: list[str],
) -> list[dict[str, Any]]:
    """One entry per key: copy the restored image, delete the live item, or leave it.

    ``restored`` and ``live`` map key ids to items; ``keys`` maps the key ids to consider to
    their keys. A key absent from the restored table is deleted from the live one only
    when ``delete_missing`` is true.
    """
    out = []
    for kid in sorted(keys):
        source, target = restored.get(kid), live.get(kid)
        image = strip(source, ignore)
        if source is None and (target is None or not delete_missing):
            action = UNCHANGED
        elif source is None:
            action = DELETE
        elif target is not None and itm.same_item(image, target, ignore):
            action = UNCHANGED
        else:
            action = COPY
        out.append({"key": keys[kid], "action": action, "image": image if action == COPY else None, "expected": target})
    return out


def condition(key: dict[str, Any], expected: dict[str, Any] | None) -> dict[str, Any]:
    """ConditionExpression kwargs: the live item is still ``expected`` (or still absent)."""
    if expected is None:
        names = {f"#k{i}": name for i, name in enumerate(sorted(key))}
        return {
            "ConditionExpression": " AND ".join(f"attribute_not_exists({n})" for n in names),
            "ExpressionAttributeNames": names,
        }
    names, values, parts = {}, {}, []
    for i, (name, value) in enumerate(sorted(expected.items())):
        names[f"#a{i}"] = name
        values[f":a{i}"] = value
        parts.append(f"#a{i} = :a{i}")
    return {
        "ConditionExpression": " AND ".join(parts),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def counts(entries: list[dict[str, Any]]) -> dict[str, int]:
    out = {"copied": 0, "deleted": 0, "unchanged": 0, "superseded": 0, "excluded": 0, "planned": 0}
    for entry in entries:
        outcome = entry["outcome"]
        if outcome == "applied":
            out["copied" if entry["action"] == COPY else "deleted"] += 1
        else:
            out[outcome] += 1
    return out


def sample(entries: list[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """At most ``size`` entries that were not superseded, for a report: the writes and
    exclusions first (what an operator checks), then unchanged keys; keys in DynamoDB JSON."""
    others = [e for e in entries if e["outcome"] != "superseded"]
    ordered = [e for e in others if e["action"] != UNCHANGED] + [e for e in others if e["action"] == UNCHANGED]
    return [{"key": itm.from_wire(e["key"]), "action": e["action"], "outcome": e["outcome"]} for e in ordered[:size]]

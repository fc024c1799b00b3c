"""Delete, then re-create with new content 36 ms later: what the application keeps, per policy.

Under REMOVE+MODIFY on every item, the re-creation is a modification of the item the
monitor put back, so the new content is reverted; under REMOVE alone the re-creation wins
(the restore is conditional on the item being absent). README, "What each protected event
means for a live application".
"""

from __future__ import annotations

import time

import common

ITEMS = 200
GAP = 0.036
POLICIES = {"bench-recreate-remove": ["REMOVE"], "bench-recreate-remove-modify": ["REMOVE", "MODIFY"]}


def measure(ddb, table: str, items: int) -> dict:
    keys = [{"pk": {"S": f"item-{i}"}} for i in range(items)]
    for key in keys:
        ddb.put_item(TableName=table, Item={**key, "content": {"S": "old"}})
    time.sleep(2)  # the inserts pass the monitor first
    for key in keys:
        ddb.delete_item(TableName=table, Key=key)
        time.sleep(GAP)
        ddb.put_item(TableName=table, Item={**key, "content": {"S": "new"}})
    time.sleep(15)  # every undo has landed
    final = [ddb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item") for key in keys]
    kept = sum(1 for item in final if item and item["content"]["S"] == "new")
    reverted = sum(1 for item in final if item and item["content"]["S"] == "old")
    return {"items": items, "kept_new": kept, "reverted_to_old": reverted, "missing": items - kept - reverted}


def run(items: int = ITEMS) -> dict:
    tables = [{"name": name, "hash_key_name": "pk", "protected_events": events} for name, events in POLICIES.items()]
    with common.local_aws() as target:
        common.provision(target, "unused", ddbguard_tables=tables)
        ddb = common.client(target, "dynamodb")
        return {name: {"events": POLICIES[name], **measure(ddb, name, items)} for name in POLICIES}


def markdown(result: dict) -> str:
    rows = "\n".join(
        f"| `{r['events']}` | {r['items']} | {r['kept_new']} | {r['reverted_to_old']} | {r['missing']} |"
        for r in result.values()
    )
    return (
        "## Delete then re-create, per protected events\n\n"
        f"An application deletes each item and re-creates it with new content {GAP * 1000:.0f} ms later; "
        "after every undo has landed, what does each item hold? On the local AWS, through the real trigger.\n\n"
        "| protected_events | items | new content kept | reverted to old | missing |\n|---|---|---|---|---|\n"
        f"{rows}\n\n"
        "Under REMOVE+MODIFY on every item the monitor reverts the re-creation (a modification of the item "
        "it put back): protecting MODIFY on all items makes the table read-only in effect. Protect "
        "modifications with a scope (key prefix or flag attribute) instead; see the README.\n"
    )

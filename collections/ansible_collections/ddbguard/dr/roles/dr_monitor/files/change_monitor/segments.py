"""The distributed copy-back: one Scan segment of a restored table, compared and written back.

``playbooks/restore.yml`` (``dr_restore_distributed``) starts a Step Functions state
machine whose Distributed Map runs one child execution per segment; each child invokes
the monitor with the operation ``copy-back-segment`` until the segment is done. An
invocation:

1. reads the segment's record in the audit table (``<table>#copy-back``, sort key
   ``<job>#<side>#<segment>``): a finished segment answers ``done`` and writes nothing (a
   re-run after an interruption skips it); an unfinished one resumes after its last page;
2. scans pages of its segment (``Segment``/``TotalSegments``) until its time is spent,
   reads the other table's items of each page with ``BatchGetItem`` (consistent reads), and
   plans each key as ``dynamodb_copy_back`` does: copy the restored image when the live
   item differs or is absent; on the ``live`` side (only with ``delete_missing``), delete
   a live item the restored table lacks; never touch the keys under an excluded prefix;
3. writes through ``operations.execute``: every write is conditional on the live item
   still being what the page read (a newer write wins and is ``superseded``), marked as the
   monitor's own, so it is not undone as an unintended change;
4. adds the page's counts to the segment's record, with the key to resume from, in one
   conditional update (``pages`` must be what this invocation read, so two invocations of
   one segment never both count a page), and keeps each superseded key as its own record
   (``<table>#copy-back-superseded``), so the report lists them all at any size.

An interruption between a page's writes and its record leaves those writes applied: the
re-run reads the page again, finds those items equal and counts them ``unchanged``; no item
is written twice. The invocation holds one page (at most ``page_size`` items, 1,000 by default,
and 1 MB, of each table); the page's live items are read 100 keys at a time.
With ``plan`` nothing is written to the live table: the counts say what would be.
"""

from __future__ import annotations

import json
import time
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from change_monitor import audit, images, marker
from change_monitor.outcomes import Outcome

OPERATION = "copy-back-segment"
RESTORED, LIVE = "restored", "live"
COUNTS = ("compared", "copied", "deleted", "unchanged", "superseded", "excluded", "planned")
RECORD_DAYS = 35  # as long as a recovery point is kept: the report of a copy-back outlives its restore
BATCH_GET_KEYS = 100  # DynamoDB's limit of keys in one BatchGetItem
PAGE_ITEMS = 1000  # a Scan page's items at most (a page also ends at 1 MB); its record is one write
BATCH_GET_ATTEMPTS = 8
FIELDS = {"#pages": "pages", "#done": "done", "#last": "last_key", "#at": "updated_at", "#exp": "expires_at"}
_DESERIALIZE = TypeDeserializer().deserialize


class SegmentError(ValueError):
    """The request is not a valid segment of a copy-back; nothing was written."""


def parse(event: dict[str, Any], table: str) -> dict[str, Any]:
    """The job and the segment an invocation asks for, or SegmentError naming what is wrong."""
    job, item = event.get("job") or {}, event.get("item") or {}
    source = job.get("source_table", "")
    if not source.startswith(f"{table}-restore-"):
        raise SegmentError(f"source_table must be a restore of {table} ({table}-restore-*), got {source!r}")
    if not str(job.get("id", "")).strip():
        raise SegmentError("the job needs its id")
    total = job.get("total_segments")
    if not isinstance(total, int) or not 1 <= total <= 1_000_000:
        raise SegmentError(f"total_segments must be 1-1000000, got {total!r}")
    if item.get("side") not in (RESTORED, LIVE) or not isinstance(item.get("segment"), int):
        raise SegmentError(f"each item needs a side (restored or live) and a segment number, got {item!r}")
    if not 0 <= item["segment"] < total:
        raise SegmentError(f"segment {item['segment']} is outside 0-{total - 1}")
    names = job.get("key_names")
    if not isinstance(names, list) or not 1 <= len(names) <= 2:
        raise SegmentError(f"key_names must list the table's key attributes, got {names!r}")
    return {
        "id": str(job["id"]),
        "source": source,
        "total": total,
        "side": item["side"],
        "segment": item["segment"],
        "key_names": names,
        "delete_missing": bool(job.get("delete_missing")),
        "exclude": [p for p in job.get("exclude_key_prefixes") or [] if p],
        "ignore": list(job.get("ignore_attributes") or []),
        "plan": bool(job.get("plan")),
        "page_size": min(max(int(job.get("page_size") or PAGE_ITEMS), 1), PAGE_ITEMS),
    }


def record_key(table: str, job: dict[str, Any]) -> dict[str, Any]:
    return {"pk": {"S": f"{table}#copy-back"}, "sk": {"S": f"{job['id']}#{job['side']}#{job['segment']:07d}"}}


def _same(a: dict[str, Any], b: dict[str, Any], ignore: list[str]) -> bool:
    """Whether two items hold the same values. Equal wire forms are the same item; unequal
    ones may still be (a set's members in another order), so they are compared by value."""
    if not ignore and a == b:
        return True

    def digest(item: dict[str, Any]) -> str:
        return marker.state_digest(images.from_wire({k: v for k, v in item.items() if k not in ignore}))

    return digest(a) == digest(b)


def _excluded(key: dict[str, Any], hash_key: str, prefixes: list[str]) -> bool:
    value = (key.get(hash_key) or {}).get("S")
    return isinstance(value, str) and any(value.startswith(p) for p in prefixes)


def _batch_get(client: Any, table: str, keys: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The items of ``table`` at ``keys`` (wire form), by key id; absent keys are missing."""
    found: dict[str, dict[str, Any]] = {}
    for first in range(0, len(keys), BATCH_GET_KEYS):
        pending: dict[str, Any] = {table: {"Keys": keys[first : first + BATCH_GET_KEYS], "ConsistentRead": True}}
        for attempt in range(BATCH_GET_ATTEMPTS):
            answer = client.batch_get_item(RequestItems=pending)
            for item in answer.get("Responses", {}).get(table, []):
                found[key_id({k: item[k] for k in keys[0]})] = item
            pending = answer.get("UnprocessedKeys") or {}
            if not pending:
                break
            time.sleep(min(0.05 * 2**attempt, 1.0))
        else:
            raise RuntimeError(f"{len(pending[table]['Keys'])} keys of {table} left unprocessed")
    return found


def key_id(key: dict[str, Any]) -> str:
    return json.dumps(images.from_wire(key), sort_keys=True)


def plan_page(
    job: dict[str, Any], page: list[dict[str, Any]], others: dict[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The writes of one page (event form, for ``operations.Write``) and its other counts."""
    names, hash_key = job["key_names"], job["key_names"][0]
    counts = dict.fromkeys(COUNTS, 0)
    writes = []
    for item in page:
        key = {k: item[k] for k in names}
        other = others.get(key_id(key))
        counts["compared"] += 1
        if _excluded(key, hash_key, job["exclude"]):
            counts["excluded"] += 1
        elif job["side"] == RESTORED:
            if other is not None and _same(item, other, job["ignore"]):
                counts["unchanged"] += 1
            else:
                image = {k: v for k, v in item.items() if k not in job["ignore"]}
                writes.append({"key": key, "image": image, "expected": other})
        elif other is None and job["delete_missing"]:
            writes.append({"key": key, "image": None, "expected": item})
        # the live side leaves the keys both tables hold to the restored side, which counts them
        elif other is not None:
            counts["compared"] -= 1
    return writes, counts


def _read_record(client: Any, audit_table: str, table: str, job: dict[str, Any]) -> dict[str, Any]:
    got = client.get_item(TableName=audit_table, Key=record_key(table, job), ConsistentRead=True).get("Item")
    return {k: _DESERIALIZE(v) for k, v in (got or {}).items()}


def _save(
    client: Any,
    audit_table: str,
    table: str,
    job: dict[str, Any],
    pages: int,
    counts: dict[str, int],
    last_key: dict[str, Any] | None,
) -> bool:
    """Add a page to the segment's record; False when another invocation counted it first."""
    names = {f"#c{i}": name for i, name in enumerate(COUNTS)}
    values = {f":c{i}": {"N": str(counts[name])} for i, name in enumerate(COUNTS)}
    values.update(
        {
            ":pages": {"N": str(pages + 1)},
            ":read": {"N": str(pages)},
            ":done": {"BOOL": last_key is None},
            ":last": {"S": json.dumps(images.from_wire(last_key)) if last_key else ""},
            ":at": {"N": str(int(time.time()))},
            ":exp": {"N": str(int(time.time()) + RECORD_DAYS * 86400)},
            ":zero": {"N": "0"},
        }
    )
    adds = ", ".join(f"{n} = if_not_exists({n}, :zero) + {v}" for n, v in zip(names, values, strict=False))
    try:
        client.update_item(
            TableName=audit_table,
            Key=record_key(table, job),
            UpdateExpression=f"SET {adds}, #pages = :pages, #done = :done, #last = :last, #at = :at, #exp = :exp",
            ConditionExpression="attribute_not_exists(#pages) OR #pages = :read",
            ExpressionAttributeNames=names | FIELDS,
            ExpressionAttributeValues=values,
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def _keep_superseded(client: Any, audit_table: str, table: str, job: dict[str, Any], keys: list) -> None:
    expires = int(time.time()) + RECORD_DAYS * 86400
    texts = [json.dumps(key, sort_keys=True) for key in keys]
    pk = f"{table}#copy-back-superseded"
    audit.AuditTrail(client, audit_table).put_records(
        {"pk": pk, "sk": f"{job['id']}#{t}", "key": t, "expires_at": expires} for t in texts
    )


def run(
    event: dict[str, Any],
    client: Any,
    table: str,
    audit_table: str,
    execute: Any,
    deadline: float,
) -> dict[str, Any]:
    """Pages of one segment until ``deadline`` (``time.monotonic``); the segment's state.

    ``execute(writes) -> outcomes`` carries out a page's writes (``operations.execute``
    through the monitor's marker)."""
    if not audit_table:
        raise SegmentError("this monitor has no audit table: a copy-back job keeps its segments there")
    job = parse(event, table)
    record = _read_record(client, audit_table, table, job)
    pages = int(record.get("pages", 0))
    start = json.loads(record["last_key"]) if record.get("last_key") else None
    done = bool(record.get("done"))
    scanned = job["source"] if job["side"] == RESTORED else table
    other = table if job["side"] == RESTORED else job["source"]
    while not done and time.monotonic() < deadline:
        kwargs = {"Segment": job["segment"], "TotalSegments": job["total"], "Limit": job["page_size"]}
        if start:
            kwargs["ExclusiveStartKey"] = images.to_wire(start)
        answer = client.scan(TableName=scanned, ConsistentRead=True, **kwargs)
        page = answer.get("Items", [])
        keys = [{k: item[k] for k in job["key_names"]} for item in page]
        writes, counts = plan_page(job, page, _batch_get(client, other, keys))
        superseded = []
        if writes and job["plan"]:
            counts["planned"] += len(writes)
        elif writes:
            event_form = [
                {
                    "key": images.from_wire(w["key"]),
                    "image": images.from_wire(w["image"]) if w["image"] else None,
                    "expected": images.from_wire(w["expected"]) if w["expected"] else None,
                }
                for w in writes
            ]
            for write, outcome in zip(event_form, execute(event_form), strict=True):
                if outcome == Outcome.SUPERSEDED:
                    counts["superseded"] += 1
                    superseded.append(write["key"])
                else:
                    counts["copied" if write["image"] is not None else "deleted"] += 1
        _keep_superseded(client, audit_table, table, job, superseded)
        last = answer.get("LastEvaluatedKey")
        if not _save(client, audit_table, table, job, pages, counts, last):
            break  # another invocation of this segment counted this page: follow its record
        pages, done = pages + 1, last is None
        start = images.from_wire(last) if last else None
    record = _read_record(client, audit_table, table, job)
    return {
        "operation": OPERATION,
        "segment": job["segment"],
        "side": job["side"],
        "done": bool(record.get("done")),
        "pages": int(record.get("pages", 0)),
        "counts": {name: int(record.get(name, 0)) for name in COUNTS},
    }

"""``ParallelizationFactor`` of a DynamoDB stream trigger (row 18).

AWS hands up to 10 batches of one shard to the function at the same time, keeping the
records of one partition key in order, each on one of the concurrent batches with its
own checkpoint and retries. ministack stored the setting and ignored it. Here a record's
lane follows its partition key (CRC-32, stable across restarts), and each lane keeps its
position beside the mapping's; ``stream_trigger``'s poller runs the lanes concurrently.
"""

from __future__ import annotations

import json
import zlib


def lane_of(record: dict, partition_key: str, factor: int) -> int:
    """The concurrent batch (0 to ``factor - 1``) that carries ``record``: all records of one
    partition key go to the same one, as AWS keeps them in order. Stable across restarts."""
    if factor <= 1:
        return 0
    value = ((record.get("dynamodb") or {}).get("Keys") or {}).get(partition_key)
    return zlib.crc32(json.dumps(value, sort_keys=True).encode("utf-8")) % factor


def lane_batch(
    raw: list[dict], kept: set[int], pos: int, lane: int, factor: int, partition_key: str, limit: int
) -> tuple[list[tuple[int, dict]], int]:
    """The batch of ``lane`` in the records read from ``pos`` (``kept``: ids of those the
    filter keeps), and the position after it: past every record read when the batch took
    all of the lane's, else just after the batch's last record."""
    entries = [(pos + i, r) for i, r in enumerate(raw) if id(r) in kept and lane_of(r, partition_key, factor) == lane]
    batch = entries[:limit]
    end_position = pos + len(raw) if len(batch) == len(entries) else batch[-1][0] + 1
    return batch, end_position


def position_key(esm_id: str, lane: int) -> str:
    """Where a lane's position is kept: lane 0 under the mapping's own id (as ministack keeps it)."""
    return esm_id if lane == 0 else f"{esm_id}#{lane}"


def align(ms, esm_id: str, factor: int) -> None:
    """When the factor changes, no record is skipped: new lanes start where the first lane
    stands, and lanes that go away hand their records back (from the lowest position)."""
    with ms._dynamodb_stream_positions_lock:
        positions = ms._dynamodb_stream_positions
        if esm_id not in positions:
            return
        extra = [k for k in positions if k.startswith(f"{esm_id}#") and int(k.rsplit("#", 1)[1]) >= factor]
        if extra:
            positions[esm_id] = min([positions[esm_id], *(positions.pop(k) for k in extra)])
        for lane in range(1, factor):
            positions.setdefault(position_key(esm_id, lane), positions[esm_id])


def release(ms, esm_id: str) -> None:
    """A deleted mapping leaves none of its lanes' positions behind."""
    with ms._dynamodb_stream_positions_lock:
        for key in [k for k in ms._dynamodb_stream_positions if str(k).startswith(f"{esm_id}#")]:
            ms._dynamodb_stream_positions.pop(key, None)

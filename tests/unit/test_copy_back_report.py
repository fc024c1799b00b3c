"""The copy-back's result is bounded at any table size: counts per outcome, every superseded
key, and a sample of the rest with the writes first (a restore report used to list every
unchanged item: 20.8 MB at 100,000 items)."""

from __future__ import annotations

import json

from ansible_collections.ddbguard.dr.plugins.module_utils import copy_back as cb


def entries(n_unchanged: int, n_copied: int, n_superseded: int) -> list[dict]:
    out = []
    for i in range(n_unchanged):
        out.append({"key": {"pk": {"S": f"same-{i}"}}, "action": cb.UNCHANGED, "outcome": "unchanged"})
    for i in range(n_copied):
        out.append({"key": {"pk": {"S": f"copy-{i}"}}, "action": cb.COPY, "outcome": "applied"})
    for i in range(n_superseded):
        out.append({"key": {"pk": {"N": str(i)}}, "action": cb.COPY, "outcome": "superseded"})
    return out


def test_the_sample_is_bounded_and_lists_the_writes_before_the_unchanged_keys():
    planned = entries(100_000, 30, 2)
    sample = cb.sample(planned, 20)
    assert len(sample) == 20
    assert all(s["action"] == cb.COPY and s["outcome"] == "applied" for s in sample)
    assert sample[0] == {"key": {"pk": {"S": "copy-0"}}, "action": "copy", "outcome": "applied"}
    assert len(json.dumps(sample)) < 2_000


def test_unchanged_keys_fill_what_the_writes_leave_and_superseded_ones_are_never_sampled():
    sample = cb.sample(entries(5, 1, 3), 4)
    assert [s["key"]["pk"]["S"] for s in sample] == ["copy-0", "same-0", "same-1", "same-2"]
    assert cb.sample(entries(5, 1, 3), 0) == []


def test_the_counts_still_count_every_entry():
    assert cb.counts(entries(7, 2, 1)) == {
        "copied": 2,
        "deleted": 0,
        "unchanged": 7,
        "superseded": 1,
        "excluded": 0,
        "planned": 0,
    }

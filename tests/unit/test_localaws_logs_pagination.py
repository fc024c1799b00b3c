"""Row 36: FilterLogEvents pages with nextToken past its limit, as AWS does."""

from __future__ import annotations

import pytest

from localaws.compat import logs_pagination as lp


def events(n: int, start: int = 0, step: int = 1, text: str = "x") -> list[dict]:
    return [
        {"timestamp": start + i * step, "ingestionTime": start + i * step, "message": f"{text}{i}"} for i in range(n)
    ]


def everything(streams, matches=lambda m: True, limit=3, **kw):
    out, positions, pages = [], None, 0
    while True:
        page, positions = lp.page(streams, matches, limit, positions=positions, **kw)
        out += page
        pages += 1
        if positions is None:
            return out, pages
        positions = lp.decode(lp.encode(positions))


def test_one_stream_is_paged_whole_and_in_order():
    streams = {"a": events(10)}
    out, pages = everything(streams, limit=3)
    assert [e["message"] for e in out] == [f"x{i}" for i in range(10)]
    assert pages == 4 and all(e["logStreamName"] == "a" for e in out)


def test_streams_are_merged_by_time_across_pages():
    streams = {"a": events(5, start=0, step=2, text="a"), "b": events(5, start=1, step=2, text="b")}
    out, _ = everything(streams, limit=4)
    assert [e["timestamp"] for e in out] == list(range(10))
    assert len({(e["logStreamName"], e["message"]) for e in out}) == 10


def test_the_filter_counts_scanned_events_and_returns_only_matches():
    streams = {"a": events(20)}
    out, _ = everything(streams, matches=lambda m: m.endswith("7"), limit=5)
    assert [e["message"] for e in out] == ["x7", "x17"]


def test_the_time_range_bounds_every_page():
    streams = {"a": events(20)}
    out, _ = everything(streams, limit=3, start_time=5, end_time=12)
    assert [e["timestamp"] for e in out] == list(range(5, 13))


def test_no_token_when_the_range_is_exhausted():
    page, positions = lp.page({"a": events(3)}, lambda m: True, 3)
    assert len(page) == 3 and positions is None


def test_a_token_that_is_not_ours_is_refused():
    with pytest.raises(ValueError):
        lp.decode(lp.encode({"a": "x"}))  # type: ignore[dict-item]

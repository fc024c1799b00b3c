"""Shared test helpers: fixture records and the project root."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RECORDS = Path(__file__).resolve().parent / "fixtures" / "records"


def load_record(name: str) -> dict:
    """A fresh copy of a stream record fixture (tests may mutate it)."""
    return copy.deepcopy(json.loads((RECORDS / f"{name}.json").read_text()))


@pytest.fixture
def record():
    return load_record

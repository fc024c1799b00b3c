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


TEST_MARKER_KEY = b"k" * 32  # what the stubbed KMS derives in unit tests


@pytest.fixture
def handler(monkeypatch):
    """The handler module, imported as Lambda does at cold start: its policy comes from the
    environment and its marker key from KMS (``GenerateMac``, answered by a botocore Stubber)."""
    import sys

    import boto3
    from botocore.stub import Stubber

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("DDBGUARD_TABLE", "orders")
    monkeypatch.setenv("DDBGUARD_MARKER_KEY", "alias/ddbguard/orders/marker")
    if "change_monitor.handler" in sys.modules:
        return sys.modules["change_monitor.handler"]
    real_client = boto3.client

    def client(service, *args, **kwargs):
        made = real_client(service, *args, **kwargs)
        if service == "kms":
            stub = Stubber(made)
            stub.add_response(
                "generate_mac",
                {"Mac": TEST_MARKER_KEY, "KeyId": "k", "MacAlgorithm": "HMAC_SHA_256"},
                {
                    "KeyId": "alias/ddbguard/orders/marker",
                    "MacAlgorithm": "HMAC_SHA_256",
                    "Message": b"ddbguard-marker-v2|orders",
                },
            )
            stub.activate()
        return made

    monkeypatch.setattr(boto3, "client", client)
    from change_monitor import handler as module

    assert module.POLICY.marker_key == TEST_MARKER_KEY
    return module

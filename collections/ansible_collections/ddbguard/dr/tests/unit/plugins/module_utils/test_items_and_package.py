"""Item helpers (wire form, comparison, waiter models) and reproducible packaging."""

from __future__ import annotations

import base64
import io
import os
import zipfile

import jmespath
from ansible_collections.ddbguard.dr.plugins.module_utils import items, package


def test_binary_round_trips_between_ansible_and_boto3_forms():
    item = {"b": {"B": base64.b64encode(b"\x00\x01").decode()}, "m": {"M": {"bs": {"BS": ["AQ=="]}}}}
    wire = items.to_wire(item)
    assert wire["b"] == {"B": b"\x00\x01"} and wire["m"]["M"]["bs"] == {"BS": [b"\x01"]}
    assert items.from_wire(wire) == item


def test_same_item_compares_sets_unordered_numbers_exactly_and_ignores_named_attributes():
    a = {"pk": {"S": "x"}, "s": {"SS": ["a", "b"]}, "n": {"N": "12345678901234567890123456789012345678"}}
    b = {
        "pk": {"S": "x"},
        "s": {"SS": ["b", "a"]},
        "n": {"N": "12345678901234567890123456789012345678"},
        "m": {"S": "1"},
    }
    assert items.same_item(a, b, ignore=["m"])
    assert not items.same_item(a, b)
    c = {**a, "n": {"N": "12345678901234567890123456789012345679"}}
    assert not items.same_item(a, c)
    assert items.same_item(None, None) and not items.same_item(a, None)


def test_invalid_attributes_and_binary_detection():
    assert items.invalid_attributes({"ok": {"S": "x"}, "bad": "x", "two": {"S": "a", "N": "1"}}) == ["bad", "two"]
    assert items.has_binary({"m": {"M": {"l": {"L": [{"B": "AA=="}]}}}})
    assert not items.has_binary({"m": {"M": {"B": {"S": "a map key named B is not binary"}}}})


def test_the_revert_waiter_succeeds_only_once_every_tampered_value_is_gone():
    model = items.attributes_reverted_waiter({"status": {"S": "tampered"}, "odd name": {"N": "1"}}, 0.05, 10)
    still = model["acceptors"][0]["argument"]
    assert jmespath.search(still, {"Item": {"status": {"S": "tampered"}, "odd name": {"N": "0"}}}) is True
    assert jmespath.search(still, {"Item": {"status": {"S": "paid"}, "odd name": {"N": "0"}}}) is False


def test_packages_are_byte_identical_whatever_the_file_times(tmp_path):
    src = tmp_path / "pkg"
    (src / "sub").mkdir(parents=True)
    (src / "a.py").write_text("A = 1\n")
    (src / "sub" / "b.py").write_text("B = 2\n")
    (src / "notes.txt").write_text("skip me\n")
    first = package.build(package.collect(str(src), ["*.py"], []), "pkg")
    os.utime(src / "a.py", (1, 1))
    second = package.build(package.collect(str(src), ["*.py"], []), "pkg")
    assert first == second
    names = zipfile.ZipFile(io.BytesIO(first)).namelist()
    assert names == ["pkg/a.py", "pkg/sub/b.py"]
    (src / "a.py").write_text("A = 3\n")
    third = package.build(package.collect(str(src), ["*.py"], []), "pkg")
    assert package.lambda_code_sha256(third) != package.lambda_code_sha256(first)

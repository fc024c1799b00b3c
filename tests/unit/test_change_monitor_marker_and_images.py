"""The restore marker and the event-to-wire conversion of images."""

from __future__ import annotations

import base64

from change_monitor import images, marker

ATTR = "_ddbguard_undo"


def test_digest_ignores_set_order_but_not_values():
    a = {"pk": {"S": "x"}, "tags": {"SS": ["a", "b"]}, "n": {"NS": ["1", "2"]}}
    b = {"pk": {"S": "x"}, "tags": {"SS": ["b", "a"]}, "n": {"NS": ["2", "1"]}}
    c = {"pk": {"S": "x"}, "tags": {"SS": ["a", "c"]}, "n": {"NS": ["1", "2"]}}
    assert marker.digest(a, ATTR) == marker.digest(b, ATTR)
    assert marker.digest(a, ATTR) != marker.digest(c, ATTR)


def test_digest_distinguishes_numbers_by_every_digit():
    a = {"n": {"N": "12345678901234567890123456789012345678"}}
    b = {"n": {"N": "12345678901234567890123456789012345679"}}
    assert marker.digest(a, ATTR) != marker.digest(b, ATTR)


def test_marking_replaces_a_previous_marker():
    once = marker.mark({"pk": {"S": "x"}}, ATTR)
    twice = marker.mark({**once, "v": {"N": "1"}}, ATTR)
    assert marker.is_own_write(twice, ATTR)
    assert marker.strip(twice, ATTR) == {"pk": {"S": "x"}, "v": {"N": "1"}}


def test_an_image_without_marker_or_with_a_forged_one_is_not_own_write():
    assert not marker.is_own_write({"pk": {"S": "x"}}, ATTR)
    assert not marker.is_own_write(None, ATTR)
    forged = {"pk": {"S": "x"}, ATTR: {"S": marker.PREFIX + "0" * 64}}
    assert not marker.is_own_write(forged, ATTR)


def test_to_wire_decodes_binary_at_every_depth_and_keeps_the_rest_exact():
    raw = b"\x00\xffddbguard"
    image = {
        "b": {"B": base64.b64encode(raw).decode()},
        "bs": {"BS": [base64.b64encode(b"\x01").decode()]},
        "m": {
            "M": {
                "l": {
                    "L": [{"B": base64.b64encode(b"\x02").decode()}, {"N": "-0.000000000000000000000000000000000001"}]
                }
            }
        },
        "s": {"S": "text"},
        "null": {"NULL": True},
    }
    wire = images.to_wire(image)
    assert wire["b"] == {"B": raw}
    assert wire["bs"] == {"BS": [b"\x01"]}
    assert wire["m"]["M"]["l"]["L"][0] == {"B": b"\x02"}
    assert wire["m"]["M"]["l"]["L"][1] == {"N": "-0.000000000000000000000000000000000001"}
    assert wire["s"] == {"S": "text"} and wire["null"] == {"NULL": True}

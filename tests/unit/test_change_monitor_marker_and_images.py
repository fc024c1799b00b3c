"""The restore marker and the event-to-wire conversion of images."""

from __future__ import annotations

import base64

from change_monitor import images, marker

ATTR = "_ddbguard_undo"
SIGNER = marker.Marker(ATTR, b"the monitor's secret key, 32 by.")
ITEM = {"pk": {"S": "x"}, "v": {"N": "1"}}
BAD = {"pk": {"S": "x"}, "v": {"N": "666"}}


def test_state_digest_ignores_set_order_but_not_values():
    a = {"pk": {"S": "x"}, "tags": {"SS": ["a", "b"]}, "n": {"NS": ["1", "2"]}}
    b = {"pk": {"S": "x"}, "tags": {"SS": ["b", "a"]}, "n": {"NS": ["2", "1"]}}
    c = {"pk": {"S": "x"}, "tags": {"SS": ["a", "c"]}, "n": {"NS": ["1", "2"]}}
    assert marker.state_digest(a) == marker.state_digest(b)
    assert marker.state_digest(a) != marker.state_digest(c)
    assert marker.state_digest(None) == marker.ABSENT


def test_a_mark_holds_whatever_the_set_order_but_not_for_another_number():
    marked = SIGNER.mark({"pk": {"S": "x"}, "s": {"SS": ["a", "b"]}}, marker.UNDO, "7", replaced=None)
    reordered = {**marked, "s": {"SS": ["b", "a"]}}
    assert SIGNER.is_echo(reordered, None, marker.UNDO)
    n = SIGNER.mark({"n": {"N": "12345678901234567890123456789012345678"}}, marker.UNDO, "7", replaced=None)
    assert not SIGNER.is_echo({**n, "n": {"N": "12345678901234567890123456789012345679"}}, None, marker.UNDO)


def test_the_echo_of_a_write_is_recognised_with_the_state_it_replaced():
    marked = SIGNER.mark(ITEM, marker.UNDO, "42", replaced=BAD)
    assert SIGNER.is_echo(marked, BAD, marker.UNDO)
    assert SIGNER.undone_sequence(marked) == 42
    assert SIGNER.strip(marked) == ITEM
    assert not SIGNER.is_echo(marked, BAD, marker.DELETE), "one kind never stands for the other"


def test_marking_replaces_a_previous_marker():
    once = SIGNER.mark(ITEM, marker.UNDO, "1", replaced=None)
    twice = SIGNER.mark({**once, "v": {"N": "2"}}, marker.UNDO, "2", replaced=once)
    assert SIGNER.is_echo(twice, once, marker.UNDO)
    assert SIGNER.strip(twice) == {"pk": {"S": "x"}, "v": {"N": "2"}}


def test_a_marker_made_without_the_key_is_refused():
    """The scheme is public: a writer computes the MAC with every key it can guess."""
    for guess in (b"", b"ddbguard", b"k" * 32):
        forged = marker.Marker(ATTR, guess).mark(BAD, marker.UNDO, "99", replaced=ITEM)
        assert not SIGNER.is_echo(forged, ITEM, marker.UNDO)
        assert SIGNER.undone_sequence(forged) is None
    assert SIGNER.parse({**ITEM, ATTR: {"S": "ddbguard-undo:v2:1:absent:" + "0" * 64}}, marker.UNDO) is None
    assert SIGNER.parse({**ITEM, ATTR: {"S": "ddbguard-undo:v2:x"}}, marker.UNDO) is None
    assert SIGNER.parse({**ITEM, ATTR: {"N": "1"}}, marker.UNDO) is None
    assert SIGNER.parse(None, marker.UNDO) is None


def test_a_marker_moved_to_other_content_another_item_or_another_table_is_refused():
    marked = SIGNER.mark(ITEM, marker.UNDO, "5", replaced=None)
    assert not SIGNER.is_echo({**marked, "v": {"N": "2"}}, None, marker.UNDO)
    assert not SIGNER.is_echo({**marked, "pk": {"S": "y"}}, None, marker.UNDO)
    other_table = marker.Marker(ATTR, b"another table's derived key.....")
    assert not other_table.is_echo(marked, None, marker.UNDO)


def test_a_marked_image_written_back_later_is_not_an_echo():
    """A replay: the image is intact, but it replaces a state other than the one it was made for."""
    restored = SIGNER.mark(ITEM, marker.UNDO, "5", replaced=None)  # restore of a delete
    later_good = {"pk": {"S": "x"}, "v": {"N": "3"}}
    assert not SIGNER.is_echo(restored, later_good, marker.UNDO)
    reverted = SIGNER.mark(ITEM, marker.UNDO, "6", replaced=BAD)
    assert not SIGNER.is_echo(reverted, None, marker.UNDO)
    assert not SIGNER.is_echo(reverted, later_good, marker.UNDO)


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

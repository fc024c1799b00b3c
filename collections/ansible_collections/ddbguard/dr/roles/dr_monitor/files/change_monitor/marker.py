"""The marker: how the monitor recognises its own writes, and why nobody else can make one.

When the monitor writes, it adds one attribute whose value is a MAC (HMAC-SHA-256) over
the write: its kind, the stream record it answered, the state it replaced and the image
it wrote (keys included). The key of that MAC is derived once per container from a KMS
HMAC key that only the monitor's execution role may use (``GenerateMac``); it never
leaves the function's memory. See ``derive_key`` and ``lambda/README.md``.

What each part of the MAC stops:

- the key: a writer who knows the scheme cannot compute a valid marker (forgery);
- the table name in the key derivation: a marker copied from another table fails
  (transplant across tables);
- the image, keys included: a marker copied onto other content or another item fails
  (transplant within a table), and any later change to the item voids it;
- the replaced state (``prev``): the stream record of the monitor's write shows, as its
  OldImage, the exact state the write was conditional on. A marked image written back
  later (a replay) replaces some other state, so its record is a real change.

Two kinds, so that one never stands for the other:

- ``undo``: on an image the monitor put back (restore of a delete or a modification, or
  a sanctioned restore). Its INSERT or MODIFY echo is skipped.
- ``delete``: set on an item just before the monitor deletes it. The echo of the marking
  update is skipped (its OldImage is the state the mark was conditional on), and so is
  the REMOVE echo of the delete, when the item's good state is "absent" (see ``core``).

The marker also names the stream record it answered (its sequence number), so that a
restore made from an older record can give way to one made from a newer record (see
``writes``).

Images are DynamoDB JSON (``{"S": "..."}``, ``{"N": "..."}``, ...). Digests use a
canonical form in which set members are sorted, since DynamoDB does not keep their order.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from typing import Any

UNDO = "undo"
DELETE = "delete"
VERSION = "v2"
_PREFIXES = {UNDO: f"ddbguard-undo:{VERSION}:", DELETE: f"ddbguard-delete:{VERSION}:"}
ABSENT = "absent"  # the replaced state of a write conditional on the item not existing
_SET_TYPES = ("SS", "NS", "BS")
# What a marker of ours looks like after its prefix: the record's sequence number (DynamoDB
# stream sequence numbers are 21 to 40 decimal digits), the digest of the replaced state
# (``state_digest``) and the MAC (HMAC-SHA-256, hex). Anything else is written by someone
# else, whatever it looks like: it is not the monitor's, and it must never make the
# monitor fail (a writer controls it).
_BODY = re.compile(r"([0-9]{1,40}):(absent|[0-9a-f]{32}):([0-9a-f]{64})", re.ASCII)
# The message that derives a table's marker key from the KMS HMAC key (GenerateMac).
DERIVATION = "ddbguard-marker-" + VERSION + "|{table}"


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            ((kind, inner),) = value.items()
            if kind in _SET_TYPES:
                return {kind: sorted(inner)}
            if kind == "M":
                return {"M": {k: _canonical(v) for k, v in inner.items()}}
            if kind == "L":
                return {"L": [_canonical(v) for v in inner]}
        return {k: _canonical(v) for k, v in value.items()}
    return value


def _text(image: dict[str, Any]) -> str:
    return json.dumps(_canonical(image), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def state_digest(image: dict[str, Any] | None) -> str:
    """Fingerprint of a whole state (any marker included); ``absent`` for no item."""
    if image is None:
        return ABSENT
    return hashlib.sha256(_text(image).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Marker:
    """The marker attribute and the secret key that signs the monitor's writes."""

    attribute: str = "_ddbguard_undo"
    key: bytes = field(default=b"", repr=False)

    def strip(self, image: dict[str, Any]) -> dict[str, Any]:
        """The image without the marker: what the application wrote."""
        return {k: v for k, v in image.items() if k != self.attribute}

    def _mac(self, image: dict[str, Any], kind: str, sequence: int, prev: str) -> str:
        message = f"{kind}|{sequence}|{prev}|{_text(self.strip(image))}"
        return hmac.new(self.key, message.encode("utf-8"), hashlib.sha256).hexdigest()

    def value(self, image: dict[str, Any], kind: str, sequence: str, replaced: dict[str, Any] | None) -> dict[str, str]:
        """The marker's value (DynamoDB JSON) for writing ``image`` over state ``replaced``."""
        seq, prev = int(sequence), state_digest(replaced)
        return {"S": f"{_PREFIXES[kind]}{seq}:{prev}:{self._mac(image, kind, seq, prev)}"}

    def mark(self, image: dict[str, Any], kind: str, sequence: str, replaced: dict[str, Any] | None) -> dict[str, Any]:
        """``image`` with a marker of ``kind``, answering record ``sequence``, replacing ``replaced``."""
        marked = self.strip(image)
        marked[self.attribute] = self.value(marked, kind, sequence, replaced)
        return marked

    def parse(self, image: dict[str, Any] | None, kind: str) -> tuple[int, str] | None:
        """(sequence, replaced-state digest) of a marker of ``kind`` whose MAC holds, else None."""
        if not image:
            return None
        value = image.get(self.attribute)
        raw = value.get("S") if isinstance(value, dict) else None
        prefix = _PREFIXES[kind]
        if not isinstance(raw, str) or not raw.startswith(prefix):
            return None
        body = _BODY.fullmatch(raw[len(prefix) :])
        if body is None:
            return None
        sequence, prev, mac = int(body[1]), body[2], body[3]
        expected = self._mac(image, kind, sequence, prev)
        return (sequence, prev) if hmac.compare_digest(mac, expected) else None

    def is_echo(self, new: dict[str, Any] | None, old: dict[str, Any] | None, kind: str) -> bool:
        """True when ``old`` -> ``new`` is exactly a write the monitor made with ``kind``."""
        parsed = self.parse(new, kind)
        return parsed is not None and hmac.compare_digest(parsed[1], state_digest(old))

    def undone_sequence(self, image: dict[str, Any] | None) -> int | None:
        """For an unchanged restore of the monitor: the sequence number of the record it answered."""
        parsed = self.parse(image, UNDO)
        return parsed[0] if parsed else None


def derive_key(kms: Any, key_id: str, table: str) -> bytes:
    """The table's secret marker key: a MAC, by the KMS HMAC key, of the table's name.

    Only a principal allowed ``kms:GenerateMac`` on that key (the monitor's execution role)
    can derive it. Called once per container; any failure fails the cold start, loudly."""
    message = DERIVATION.format(table=table).encode("utf-8")
    return kms.generate_mac(KeyId=key_id, MacAlgorithm="HMAC_SHA_256", Message=message)["Mac"]

"""``FilterCriteria`` of a stream trigger: ``{"exists": false}`` below an absent parent (row 8).

AWS matches ``{"exists": false}`` on a field whose parent is absent (for example
``dynamodb.NewImage.x`` on a REMOVE record, which has no NewImage). ministack's matcher
stopped at the missing parent and did not match. This patch wraps ministack's matcher.
"""

from __future__ import annotations


def match_filter(match, record: dict, pattern: dict) -> bool:
    """ministack's matcher, except that a nested pattern on an absent field is matched
    against an empty object, so ``{"exists": false}`` below it matches, as on AWS."""
    if not isinstance(pattern, dict):
        return False
    for key, pat in pattern.items():
        if isinstance(pat, dict):
            value = record.get(key)
            if not match_filter(match, value if isinstance(value, dict) else {}, pat):
                return False
        elif not match({key: record[key]} if key in record else {}, {key: pat}):
            return False
    return True


def install() -> None:
    from ministack.services import lambda_svc as ms

    original = ms._match_esm_filter
    if getattr(original, "_localaws_patched", False):
        return

    def match(record: dict, pattern: dict) -> bool:
        return match_filter(original, record, pattern)

    match._localaws_patched = True
    ms._match_esm_filter = match

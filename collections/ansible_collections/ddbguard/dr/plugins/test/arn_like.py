# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: arn_like
version_added: 0.2.0
short_description: Whether an ARN matches any of IAM ArnLike patterns
description:
  - True when the ARN matches at least one pattern as IAM's C(ArnLike) condition operator
    matches it. Each of the six colon-separated parts of the ARN is compared with the
    pattern's part, case-sensitively, where C(*) matches any run of characters and C(?)
    any one character. Offline, with no AWS call.
  - Lets a playbook check, before its first deletion, that a principal is one that a
    policy's C(ArnNotLike) condition exempts (for example the break-glass principal of a
    backup vault's access policy), instead of failing half-way on the policy's deny.
author:
  - ddbguard maintainers (@ddbguard)
options:
  _input:
    description: The ARN.
    type: str
    required: true
  patterns:
    description: One pattern, or a list of them.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse a role that the vault policy does not exempt
  ansible.builtin.assert:
    that: break_glass_role_arn is ddbguard.dr.arn_like(exempt_principal_arns)
"""

RETURN = r"""
_value:
  description: Whether the ARN matches one of the patterns.
  type: bool
"""

from fnmatch import fnmatchcase

_PARTS = 6  # arn:partition:service:region:account:resource


def _split(arn: str) -> list[str] | None:
    parts = arn.split(":", _PARTS - 1)
    return parts if len(parts) == _PARTS else None


def _escape_brackets(part: str) -> str:
    # fnmatch treats [...] as a character class; IAM does not.
    return part.replace("[", "[[]")


def arn_like(value: object, patterns: object) -> bool:
    if not isinstance(value, str):
        return False
    arn = _split(value)
    if arn is None:
        return False
    candidates = [patterns] if isinstance(patterns, str) else list(patterns or [])
    for pattern in candidates:
        parts = _split(pattern) if isinstance(pattern, str) else None
        if parts and all(fnmatchcase(a, _escape_brackets(p)) for a, p in zip(arn, parts, strict=True)):
            return True
    return False


class TestModule:
    def tests(self):
        return {"arn_like": arn_like}

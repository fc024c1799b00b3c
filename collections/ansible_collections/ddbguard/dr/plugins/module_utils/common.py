# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small pure helpers shared by the modules. No AWS calls.

Convention: an option the user did not set is ``None`` and is left alone.
"""

from __future__ import annotations

import re
from typing import Any

# DynamoDB's rule for table names.
TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
# An IAM role ARN, in any partition.
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")


def without_none(mapping: dict[str, Any]) -> dict[str, Any]:
    """Drop the keys whose value is None (boto3 rejects explicit nulls)."""
    return {k: v for k, v in mapping.items() if v is not None}


def table_name_problem(option: str, value: str | None) -> list[str]:
    """A problem naming ``option`` when ``value`` is not a valid DynamoDB table name."""
    if value is None or TABLE_NAME.match(value):
        return []
    return [f"{option} must be 3-255 characters of A-Z a-z 0-9 _ . -, got {value!r}"]


def role_arn_problem(option: str, value: str | None) -> list[str]:
    """A problem naming ``option`` when ``value`` is not an IAM role ARN."""
    if value is None or ROLE_ARN.match(value):
        return []
    return [f"{option} must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), got {value!r}"]

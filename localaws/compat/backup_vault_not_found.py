"""``DescribeBackupVault`` on a vault that does not exist (row 1).

AWS answers ``AccessDeniedException`` (HTTP 403), and ``amazon.aws.backup_vault`` relies on
that to decide that it must create the vault. ministack answered
``ResourceNotFoundException`` (HTTP 404), so the module failed instead. ``StartBackupJob``
into a missing vault is refused the same way. ``backup``'s router calls ``answer``.
"""

from __future__ import annotations

from localaws.compat.answers import Response, error


def answer(vault_name: str) -> Response:
    message = f"Insufficient privileges to perform this action or the backup vault '{vault_name}' does not exist."
    return error("AccessDeniedException", message, 403)

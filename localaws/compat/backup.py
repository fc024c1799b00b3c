"""AWS Backup: answer as AWS does where ministack differs.

``DescribeBackupVault`` on a vault that does not exist: AWS answers
``AccessDeniedException`` (HTTP 403), and ``amazon.aws.backup_vault`` relies on that to
decide that it must create the vault. ministack answers ``ResourceNotFoundException``,
which makes the module fail. This patch returns AWS's answer.
"""

from __future__ import annotations

import json
from typing import Any

Response = tuple[int, dict[str, str], bytes]


def _access_denied(vault_name: str) -> Response:
    message = f"Insufficient privileges to perform this action or the backup vault '{vault_name}' does not exist."
    return (
        403,
        {"Content-Type": "application/json", "x-amzn-errortype": "AccessDeniedException"},
        json.dumps({"__type": "AccessDeniedException", "Message": message}).encode(),
    )


def describe_vault_as_aws(backup_module: Any, method: str, path: str) -> Response | None:
    """Return AWS's answer for ``DescribeBackupVault`` on a missing vault, else None.

    Only ``GET /backup-vaults/{name}`` is concerned; every other request goes to
    ministack unchanged.
    """
    parts = [p for p in path.strip("/").split("/") if p]
    if method != "GET" or len(parts) != 2 or parts[0] != "backup-vaults":
        return None
    name = parts[1]
    if name in backup_module._vaults:
        return None
    return _access_denied(name)


def install() -> None:
    from ministack.services import backup as backup_module

    original = backup_module.handle_request
    if getattr(original, "_localaws_patched", False):
        return

    async def handle_request(method, path, headers, body, query_params):
        answer = describe_vault_as_aws(backup_module, method, path)
        if answer is not None:
            return answer
        return await original(method, path, headers, body, query_params)

    handle_request._localaws_patched = True
    backup_module.handle_request = handle_request

"""DynamoDB restores: the restored table takes the encryption the request asks for.

AWS applies ``SSESpecificationOverride`` of ``RestoreTableToPointInTime`` and
``RestoreTableFromBackup`` to the restored table ("the new server-side encryption settings
for the restored table"): with a customer managed key, ``DescribeTable`` of the restored
table reports that key in ``SSEDescription``. ministack ignores the override, so a table
restored to a point in time had no ``SSEDescription`` at all, and nothing could tell
whether our restore re-applied the live table's key.

This patch sets the restored table's ``SSEDescription`` from the override, in ministack's
own response shape (``_sse_description_from_spec``), on the table record (persisted with
it) and in the restore's answer. Without an override the table is left as ministack made it.

AWS Backup's ``StartRestoreJob`` of a DynamoDB recovery point takes the same choice in its
restore metadata: ``encryptionType`` ``KMS`` with ``kmsMasterKeyArn`` (the key of the
restored table; restore testing sets them through ``RestoreMetadataOverrides``), or
``Default``. ``metadata_key`` reads it; ``localaws.compat.backup`` applies it to the table
its restore job creates.
"""

from __future__ import annotations

import json
from typing import Any

_PATCHED = "_localaws_restore_encryption"


def _apply(ddb: Any, data: dict[str, Any], response: tuple) -> tuple:
    status, headers, body = response
    override = data.get("SSESpecificationOverride")
    target = ddb._tables.get(data.get("TargetTableName"))
    if status != 200 or not override or target is None:
        return response
    description = ddb._sse_description_from_spec(override)
    target["SSEDescription"] = description
    doc = json.loads(body)
    if isinstance(doc.get("TableDescription"), dict):
        doc["TableDescription"]["SSEDescription"] = description
    return status, headers, json.dumps(doc).encode()


def metadata_key(metadata: dict[str, Any]) -> str | None:
    """The KMS key a restore job's metadata asks the restored table to be encrypted with:
    its ARN, "" when ``encryptionType`` is KMS without a key (AWS refuses it), None for the
    default encryption. Keys are not case sensitive, as AWS Backup reads them."""
    lowered = {str(k).lower(): v for k, v in metadata.items()}
    if str(lowered.get("encryptiontype", "")).upper() != "KMS":
        return None
    return str(lowered.get("kmsmasterkeyarn") or "")


def install() -> None:
    from ministack.services import dynamodb as ddb

    for name in ("_restore_table_to_point_in_time", "_restore_table_from_backup"):
        original = getattr(ddb, name)
        if getattr(original, _PATCHED, False):
            continue

        def restore(data: dict[str, Any], _original=original) -> tuple:
            return _apply(ddb, data, _original(data))

        setattr(restore, _PATCHED, True)
        setattr(ddb, name, restore)

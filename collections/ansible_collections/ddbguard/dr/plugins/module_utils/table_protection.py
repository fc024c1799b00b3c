# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decision logic of ``ddbguard.dr.dynamodb_table_protection``: no AWS calls.

``current_settings`` flattens DescribeTable / DescribeContinuousBackups /
DescribeTimeToLive into one dict; ``plan`` turns the difference with what the user
asked for into an ordered list of API calls. DynamoDB accepts one table update at a
time, so each UpdateTable step carries one change and the module waits between steps.
"""

from __future__ import annotations

from typing import Any

SETTING_KEYS = (
    "stream_enabled",
    "stream_view_type",
    "pitr_enabled",
    "pitr_recovery_period_in_days",
    "deletion_protection",
    "sse_type",
    "sse_kms_key_arn",
    "ttl_enabled",
    "ttl_attribute_name",
)

AWS_OWNED = "aws_owned"
AWS_MANAGED = "aws_managed"
CUSTOMER_MANAGED = "customer_managed"


class PlanError(ValueError):
    """The requested change cannot be made safely; the message tells the user why."""


def current_settings(
    table: dict[str, Any],
    continuous_backups: dict[str, Any] | None = None,
    ttl: dict[str, Any] | None = None,
    sse_key_manager: str | None = None,
) -> dict[str, Any]:
    """Flatten the describe results. ``sse_key_manager`` is KMS' KeyManager (AWS|CUSTOMER)."""
    stream = table.get("StreamSpecification") or {}
    stream_enabled = bool(stream.get("StreamEnabled"))
    pitr = (continuous_backups or {}).get("PointInTimeRecoveryDescription") or {}
    pitr_enabled = pitr.get("PointInTimeRecoveryStatus") in ("ENABLED", "ENABLING")
    ttl = ttl or {}
    ttl_enabled = ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
    sse = table.get("SSEDescription") or {}
    if sse.get("Status") in ("ENABLED", "ENABLING", "UPDATING") and sse.get("SSEType") == "KMS":
        sse_type = AWS_MANAGED if sse_key_manager == "AWS" else CUSTOMER_MANAGED
        key_arn = sse.get("KMSMasterKeyArn")
    else:
        sse_type, key_arn = AWS_OWNED, None
    return {
        "stream_enabled": stream_enabled,
        "stream_view_type": stream.get("StreamViewType") if stream_enabled else None,
        "pitr_enabled": pitr_enabled,
        "pitr_recovery_period_in_days": pitr.get("RecoveryPeriodInDays") if pitr_enabled else None,
        "deletion_protection": bool(table.get("DeletionProtectionEnabled")),
        "sse_type": sse_type,
        "sse_kms_key_arn": key_arn if sse_type == CUSTOMER_MANAGED else None,
        "ttl_enabled": ttl_enabled,
        "ttl_attribute_name": ttl.get("AttributeName") if ttl_enabled else None,
    }


def desired_settings(params: dict[str, Any], resolved_kms_key_arn: str | None = None) -> dict[str, Any]:
    """Map module parameters to the flat settings; None means "leave alone"."""
    stream = params.get("stream") or {}
    pitr = params.get("point_in_time_recovery") or {}
    sse = params.get("sse") or {}
    ttl = params.get("ttl") or {}
    stream_enabled = stream.get("enabled")
    pitr_enabled = pitr.get("enabled")
    ttl_enabled = ttl.get("enabled")
    sse_type = sse.get("type")
    return {
        "stream_enabled": stream_enabled,
        "stream_view_type": stream.get("view_type") if stream_enabled else None,
        "pitr_enabled": pitr_enabled,
        "pitr_recovery_period_in_days": pitr.get("recovery_period_in_days") if pitr_enabled else None,
        "deletion_protection": params.get("deletion_protection"),
        "sse_type": sse_type,
        "sse_kms_key_arn": resolved_kms_key_arn if sse_type == CUSTOMER_MANAGED else None,
        "ttl_enabled": ttl_enabled,
        "ttl_attribute_name": ttl.get("attribute_name") if ttl_enabled else None,
    }


def _sse_spec(desired: dict[str, Any]) -> dict[str, Any]:
    if desired["sse_type"] == AWS_OWNED:
        return {"Enabled": False}
    spec = {"Enabled": True, "SSEType": "KMS"}
    if desired["sse_type"] == CUSTOMER_MANAGED:
        spec["KMSMasterKeyId"] = desired["sse_kms_key_arn"]
    return spec


def _step(api: str, description: str, **params: Any) -> dict[str, Any]:
    return {"api": api, "description": description, "params": params}


def plan(
    table_name: str, current: dict[str, Any], desired: dict[str, Any], allow_stream_replacement: bool = False
) -> list[dict[str, Any]]:
    """Ordered API calls that take ``current`` to ``desired``; [] when nothing drifts."""
    steps = []
    name = {"TableName": table_name}

    if desired["sse_type"] is not None and (
        desired["sse_type"] != current["sse_type"]
        or (desired["sse_type"] == CUSTOMER_MANAGED and desired["sse_kms_key_arn"] != current["sse_kms_key_arn"])
    ):
        steps.append(
            _step(
                "update_table",
                f"encryption at rest -> {desired['sse_type']}",
                SSESpecification=_sse_spec(desired),
                **name,
            )
        )

    if desired["deletion_protection"] is not None and desired["deletion_protection"] != current["deletion_protection"]:
        steps.append(
            _step(
                "update_table",
                f"deletion protection -> {desired['deletion_protection']}",
                DeletionProtectionEnabled=desired["deletion_protection"],
                **name,
            )
        )

    steps.extend(_stream_steps(name, current, desired, allow_stream_replacement))

    if desired["pitr_enabled"] is not None:
        period = desired["pitr_recovery_period_in_days"]
        if desired["pitr_enabled"] != current["pitr_enabled"] or (
            desired["pitr_enabled"] and period is not None and period != current["pitr_recovery_period_in_days"]
        ):
            spec = {"PointInTimeRecoveryEnabled": desired["pitr_enabled"]}
            if desired["pitr_enabled"] and period is not None:
                spec["RecoveryPeriodInDays"] = period
            steps.append(
                _step(
                    "update_continuous_backups",
                    f"point-in-time recovery -> {desired['pitr_enabled']}" + (f" ({period} days)" if period else ""),
                    PointInTimeRecoverySpecification=spec,
                    **name,
                )
            )

    steps.extend(_ttl_steps(name, current, desired))
    return steps


def _stream_steps(
    name: dict[str, str], current: dict[str, Any], desired: dict[str, Any], allow_stream_replacement: bool
) -> list[dict[str, Any]]:
    want = desired["stream_enabled"]
    if want is None:
        return []
    if not want:
        if current["stream_enabled"]:
            return [_step("update_table", "stream -> disabled", StreamSpecification={"StreamEnabled": False}, **name)]
        return []
    view = desired["stream_view_type"]
    enable = _step(
        "update_table",
        f"stream -> enabled ({view})",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
        **name,
    )
    if not current["stream_enabled"]:
        return [enable]
    if current["stream_view_type"] == view:
        return []
    if not allow_stream_replacement:
        raise PlanError(
            f"the stream's view type is {current['stream_view_type']} and {view} was asked for. "
            "Changing it disables the stream and enables a new one with a new ARN: consumers "
            "of the old stream stop receiving records. Set stream.allow_replacement=true to do it."
        )
    disable = _step(
        "update_table",
        f"stream -> disabled (replacing {current['stream_view_type']})",
        StreamSpecification={"StreamEnabled": False},
        **name,
    )
    return [disable, enable]


def _ttl_steps(name: dict[str, str], current: dict[str, Any], desired: dict[str, Any]) -> list[dict[str, Any]]:
    want = desired["ttl_enabled"]
    if want is None:
        return []
    if not want:
        if current["ttl_enabled"]:
            spec = {"Enabled": False, "AttributeName": current["ttl_attribute_name"]}
            return [_step("update_time_to_live", "TTL -> disabled", TimeToLiveSpecification=spec, **name)]
        return []
    attr = desired["ttl_attribute_name"]
    if current["ttl_enabled"] and current["ttl_attribute_name"] == attr:
        return []
    if current["ttl_enabled"]:
        raise PlanError(
            f"TTL is enabled on attribute {current['ttl_attribute_name']!r}; DynamoDB cannot switch it to "
            f"{attr!r} in one change and allows one TTL change per hour. Disable TTL first "
            "(ttl.enabled=false), then enable it on the new attribute after the change completes."
        )
    spec = {"Enabled": True, "AttributeName": attr}
    return [_step("update_time_to_live", f"TTL -> enabled on {attr}", TimeToLiveSpecification=spec, **name)]


def predicted_settings(current: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """What ``current_settings`` will report once ``plan`` has run (for check mode and diff)."""
    after = dict(current)
    for key in SETTING_KEYS:
        if desired.get(key) is not None:
            after[key] = desired[key]
    if desired["stream_enabled"] is False:
        after["stream_view_type"] = None
    if desired["pitr_enabled"] is False:
        after["pitr_recovery_period_in_days"] = None
    if desired["pitr_enabled"] and desired["pitr_recovery_period_in_days"] is None and not current["pitr_enabled"]:
        after["pitr_recovery_period_in_days"] = 35  # AWS default when no period is given
    if desired["ttl_enabled"] is False:
        after["ttl_attribute_name"] = None
    if desired["sse_type"] in (AWS_OWNED, AWS_MANAGED):
        after["sse_kms_key_arn"] = None
    return after


def unmet(current: dict[str, Any], desired: dict[str, Any]) -> list[str]:
    """Settings the user asked for that ``current`` (read back after the change) does not hold."""
    return sorted(k for k in SETTING_KEYS if desired.get(k) is not None and current.get(k) != desired[k])

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decision logic of ``ddbguard.dr.lambda_stream_trigger``: no AWS calls.

Builds the CreateEventSourceMapping / UpdateEventSourceMapping fields from the module
parameters and compares them with GetEventSourceMapping, normalising the fields AWS
reports in another form than it accepts (filter patterns as JSON strings, the state
instead of ``Enabled``, an empty ``OnFailure`` when no destination is set).
"""

from __future__ import annotations

import json
import re
from typing import Any

STREAM_ARN_RE = re.compile(r"^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.-]{3,255}/stream/\S+$")
DESTINATION_ARN_RE = re.compile(r"^arn:aws[a-z-]*:(sqs|sns):[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]+$")

# option -> (API field, minimum, maximum, extra allowed values)
RANGES = {
    "batch_size": ("BatchSize", 1, 10000, ()),
    "maximum_batching_window_in_seconds": ("MaximumBatchingWindowInSeconds", 0, 300, ()),
    "parallelization_factor": ("ParallelizationFactor", 1, 10, ()),
    "maximum_retry_attempts": ("MaximumRetryAttempts", 0, 10000, (-1,)),
    "maximum_record_age_in_seconds": ("MaximumRecordAgeInSeconds", 60, 604800, (-1,)),
    "tumbling_window_in_seconds": ("TumblingWindowInSeconds", 0, 900, ()),
}
PLAIN = {
    "bisect_batch_on_function_error": "BisectBatchOnFunctionError",
    "function_response_types": "FunctionResponseTypes",
    "enabled": "Enabled",
}


def validate(params: dict[str, Any]) -> list[str]:
    """Return the list of problems with the parameters (empty when they are valid)."""
    problems = []
    if not STREAM_ARN_RE.match(params.get("stream_arn") or ""):
        problems.append(f"stream_arn must be a DynamoDB stream ARN, got {params.get('stream_arn')!r}")
    for option, (_field, low, high, extra) in RANGES.items():
        value = params.get(option)
        if value is not None and value not in extra and not low <= value <= high:
            allowed = f"{low}-{high}" + "".join(f" or {e}" for e in extra)
            problems.append(f"{option} must be {allowed}, got {value}")
    destination = params.get("on_failure_destination")
    if destination and not DESTINATION_ARN_RE.match(destination):
        problems.append(f"on_failure_destination must be an SQS queue or SNS topic ARN, got {destination!r}")
    for pattern in params.get("filter_patterns") or []:
        try:
            normalise_pattern(pattern)
        except ValueError as err:
            problems.append(f"filter_patterns: {err}")
    return problems


def normalise_pattern(pattern: Any) -> str:
    """A filter pattern as canonical JSON text, from a dict or from JSON text."""
    if isinstance(pattern, str):
        try:
            pattern = json.loads(pattern)
        except ValueError as err:
            raise ValueError(f"not valid JSON: {pattern!r}") from err
    if not isinstance(pattern, dict):
        raise ValueError(f"each pattern must be a JSON object, got {pattern!r}")
    return json.dumps(pattern, sort_keys=True, separators=(",", ":"))


def desired_fields(params: dict[str, Any]) -> dict[str, Any]:
    """API fields for every option the user set."""
    fields = {}
    for option, (field, _low, _high, _extra) in RANGES.items():
        if params.get(option) is not None:
            fields[field] = params[option]
    for option, field in PLAIN.items():
        if params.get(option) is not None:
            fields[field] = params[option]
    if params.get("on_failure_destination") is not None:
        dest = params["on_failure_destination"]
        fields["DestinationConfig"] = {"OnFailure": {"Destination": dest} if dest else {}}
    if params.get("filter_patterns") is not None:
        fields["FilterCriteria"] = {"Filters": [{"Pattern": normalise_pattern(p)} for p in params["filter_patterns"]]}
    return fields


def current_fields(mapping: dict[str, Any]) -> dict[str, Any]:
    """The comparable fields of a GetEventSourceMapping answer."""
    fields = {}
    for field, _low, _high, _extra in RANGES.values():
        if field in mapping:
            fields[field] = mapping[field]
    fields["BisectBatchOnFunctionError"] = bool(mapping.get("BisectBatchOnFunctionError", False))
    fields["FunctionResponseTypes"] = list(mapping.get("FunctionResponseTypes") or [])
    fields["Enabled"] = mapping.get("State") in ("Enabled", "Enabling", "Creating")
    on_failure = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    fields["DestinationConfig"] = {"OnFailure": {"Destination": on_failure} if on_failure else {}}
    filters = (mapping.get("FilterCriteria") or {}).get("Filters") or []
    fields["FilterCriteria"] = {"Filters": [{"Pattern": normalise_pattern(f["Pattern"])} for f in filters]}
    return fields


def _comparable(field: str, value: Any) -> Any:
    if field == "FunctionResponseTypes":
        return sorted(value or [])
    if field == "FilterCriteria":
        return sorted(f["Pattern"] for f in (value or {}).get("Filters", []))
    return value


def drift(mapping: dict[str, Any], desired: dict[str, Any]) -> dict[str, Any]:
    """Fields to send to UpdateEventSourceMapping: those the user set that differ."""
    current = current_fields(mapping)
    return {
        field: want
        for field, want in desired.items()
        if _comparable(field, current.get(field)) != _comparable(field, want)
    }


def find_mapping(mappings: list[dict[str, Any]], function_name: str, stream_arn: str) -> dict[str, Any] | None:
    """The mapping of ``function_name`` (name or ARN) on ``stream_arn``, or None."""
    for mapping in mappings:
        if mapping.get("EventSourceArn") != stream_arn:
            continue
        arn = mapping.get("FunctionArn", "")
        name = arn.split(":function:", 1)[-1].split(":", 1)[0]
        if function_name in (arn, name):
            return mapping
    return None

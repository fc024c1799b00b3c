"""Decision logic of lambda_stream_trigger: validation, desired fields, drift."""

from __future__ import annotations

from ansible_collections.ddbguard.dr.plugins.module_utils import stream_trigger as st

STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-11-24T19:33:53.150"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:orders-failures"


def params(**overrides):
    base = {"stream_arn": STREAM, "function_name": "monitor"}
    base.update(overrides)
    return base


def test_valid_parameters_have_no_problems():
    assert st.validate(params(batch_size=1, maximum_retry_attempts=-1, maximum_record_age_in_seconds=60)) == []


def test_each_out_of_range_value_is_named():
    problems = st.validate(
        params(
            batch_size=0, parallelization_factor=11, maximum_record_age_in_seconds=59, tumbling_window_in_seconds=901
        )
    )
    text = "; ".join(problems)
    for option in (
        "batch_size",
        "parallelization_factor",
        "maximum_record_age_in_seconds",
        "tumbling_window_in_seconds",
    ):
        assert option in text


def test_a_non_stream_source_and_a_bad_destination_are_refused():
    problems = st.validate(params(stream_arn="arn:aws:sqs:us-east-1:123456789012:q", on_failure_destination="q"))
    assert any("stream_arn" in p for p in problems)
    assert any("on_failure_destination" in p for p in problems)


def test_a_filter_pattern_that_is_not_a_json_object_is_refused():
    assert any("filter_patterns" in p for p in st.validate(params(filter_patterns=["[1]", "{nope"])))


def test_only_set_options_become_fields():
    fields = st.desired_fields(params(batch_size=10, bisect_batch_on_function_error=True))
    assert fields == {"BatchSize": 10, "BisectBatchOnFunctionError": True}


AWS_MAPPING = {
    "UUID": "u",
    "State": "Enabled",
    "BatchSize": 10,
    "MaximumBatchingWindowInSeconds": 0,
    "BisectBatchOnFunctionError": True,
    "MaximumRetryAttempts": 3,
    "MaximumRecordAgeInSeconds": 3600,
    "FunctionResponseTypes": ["ReportBatchItemFailures"],
    "DestinationConfig": {"OnFailure": {"Destination": QUEUE}},
    "FilterCriteria": {"Filters": [{"Pattern": '{"eventName": ["REMOVE"]}'}]},
    "EventSourceArn": STREAM,
    "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:monitor",
}


def test_matching_settings_do_not_drift_even_written_differently():
    desired = st.desired_fields(
        params(
            batch_size=10,
            maximum_batching_window_in_seconds=0,
            bisect_batch_on_function_error=True,
            maximum_retry_attempts=3,
            maximum_record_age_in_seconds=3600,
            function_response_types=["ReportBatchItemFailures"],
            on_failure_destination=QUEUE,
            filter_patterns=[{"eventName": ["REMOVE"]}],
            enabled=True,
        )
    )
    assert st.drift(AWS_MAPPING, desired) == {}


def test_every_changed_setting_drifts():
    desired = st.desired_fields(
        params(batch_size=20, on_failure_destination="", filter_patterns=[], enabled=False, maximum_retry_attempts=5)
    )
    assert set(st.drift(AWS_MAPPING, desired)) == {
        "BatchSize",
        "DestinationConfig",
        "FilterCriteria",
        "Enabled",
        "MaximumRetryAttempts",
    }


def test_the_mapping_is_found_by_function_name_or_arn_and_stream():
    other = {**AWS_MAPPING, "UUID": "x", "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:other"}
    assert st.find_mapping([other, AWS_MAPPING], "monitor", STREAM)["UUID"] == "u"
    assert st.find_mapping([other, AWS_MAPPING], AWS_MAPPING["FunctionArn"], STREAM)["UUID"] == "u"
    assert st.find_mapping([other, AWS_MAPPING], "monitor", STREAM.replace("orders", "x")) is None

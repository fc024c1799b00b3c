"""A region that does not answer, as a region outage looks to a client of AWS.

On AWS a region is its own set of endpoints: when one is down, every request signed for it
fails (a 5xx or no answer at all), and the other regions answer as before. The local AWS
serves every region on one endpoint and tells them apart by the request's signature scope,
so a test that must prove a flow never needs the lost region (``playbooks/failover.yml``)
has no endpoint to take away. This patch gives it one: while a region is down, every
service request signed for it answers ``503 ServiceUnavailable`` (which botocore retries,
then raises), and nothing of that region's state is read or changed.

IAM is the exception: it is a global service whose requests are signed for ``us-east-1``
wherever they are made, and a region's outage does not take it away here. On AWS, IAM's
control plane is hosted in ``us-east-1``; a failover out of that region that must change a
role is not proven by this (``docs/emulator.md``, row 30).

``localaws.controls`` turns the outage on and off (``POST /_localaws/region/outage``).
"""

from __future__ import annotations

from localaws.compat.answers import Response, error

_DOWN: set[str] = set()
_GLOBAL_SERVICES = ("iam",)


def set_down(region: str, down: bool) -> list[str]:
    """Take ``region`` down (or bring it back); return the regions down now, sorted."""
    (_DOWN.add if down else _DOWN.discard)(region)
    return sorted(_DOWN)


def refusal(region: str, service: str) -> Response | None:
    """The answer of a region that is down, or None when the request goes through."""
    if region not in _DOWN or service in _GLOBAL_SERVICES:
        return None
    return error("ServiceUnavailable", f"{service} in {region} is unavailable (the region is down)", 503)


def install() -> None:
    from ministack import app
    from ministack.core.router import detect_service, extract_region

    if getattr(app._dispatch_service_request, "_localaws_region_outage", False):
        return
    original = app._dispatch_service_request

    async def dispatch(method, path, headers, body, query_params, request_id):
        if _DOWN:
            routing = app._routing_params(method, path, headers, body, query_params)
            service = detect_service(method, path, headers, routing)
            refused = refusal(extract_region(headers, query_params), service)
            if refused is not None:
                return refused
        return await original(method, path, headers, body, query_params, request_id)

    dispatch._localaws_region_outage = True
    app._dispatch_service_request = dispatch

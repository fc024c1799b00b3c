# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWS RAM calls shared by our modules, one helper per API call (as ``backup_api``)."""

from __future__ import annotations

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardErrorHandler

Client = Any


@DdbguardErrorHandler.common_error_handler("list the resource shares")
@AWSRetry.jittered_backoff()
def find_share(client: Client, name: str) -> dict[str, Any] | None:
    """This account's active resource share of that name, or None."""
    pages = client.get_paginator("get_resource_shares").paginate(
        resourceOwner="SELF", name=name, resourceShareStatus="ACTIVE"
    )
    shares = pages.build_full_result().get("resourceShares", [])
    return shares[0] if shares else None


@DdbguardErrorHandler.common_error_handler("list the associations of the resource share")
@AWSRetry.jittered_backoff()
def associations(client: Client, share_arn: str, kind: str) -> list[dict[str, Any]]:
    """The share's ``PRINCIPAL`` or ``RESOURCE`` associations that are not ended."""
    pages = client.get_paginator("get_resource_share_associations").paginate(
        associationType=kind, resourceShareArns=[share_arn]
    )
    found = pages.build_full_result().get("resourceShareAssociations", [])
    return [a for a in found if a.get("status") in ("ASSOCIATING", "ASSOCIATED")]


@DdbguardErrorHandler.common_error_handler("create the resource share")
@AWSRetry.jittered_backoff()
def create_share(client: Client, request: dict[str, Any]) -> dict[str, Any]:
    return client.create_resource_share(**request)["resourceShare"]


@DdbguardErrorHandler.common_error_handler("change the resource share")
@AWSRetry.jittered_backoff()
def share_call(client: Client, method: str, share_arn: str, **kwargs: Any) -> None:
    """``associate_resource_share``, ``disassociate_resource_share`` or ``delete_resource_share``."""
    getattr(client, method)(resourceShareArn=share_arn, **kwargs)


@DdbguardErrorHandler.common_error_handler("list the resource share invitations")
@AWSRetry.jittered_backoff()
def invitations(client: Client) -> list[dict[str, Any]]:
    pages = client.get_paginator("get_resource_share_invitations").paginate()
    return pages.build_full_result().get("resourceShareInvitations", [])


@DdbguardErrorHandler.common_error_handler("accept the resource share invitation")
@AWSRetry.jittered_backoff()
def accept_invitation(client: Client, invitation_arn: str) -> dict[str, Any]:
    return client.accept_resource_share_invitation(resourceShareInvitationArn=invitation_arn)["resourceShareInvitation"]

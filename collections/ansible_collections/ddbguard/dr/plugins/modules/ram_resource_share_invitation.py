#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
---
module: ram_resource_share_invitation
version_added: 0.3.0
short_description: Accept another account's AWS RAM resource share, idempotently
description:
  - Run with the receiving account's credentials. Finds the newest invitation to the
    resource share O(share_name) from the account O(sender_account_id); accepts it when it
    is pending, and does nothing when it is already accepted.
  - Fails, saying so, when there is no such invitation (the sender has not shared the
    resource with this account) or when it has expired or was rejected.
  - Fills a gap, since neither amazon.aws nor community.aws has a module for AWS RAM.
author:
  - ddbguard maintainers (@ddbguard)
options:
  share_name:
    description: Name of the resource share.
    type: str
    required: true
  sender_account_id:
    description: The 12-digit id of the account that owns the share.
    type: str
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Accept the source account's share of its air-gapped vault (in the recovery account)
  ddbguard.dr.ram_resource_share_invitation:
    share_name: ddbguard-air-gapped
    sender_account_id: "111122223333"
"""

RETURN = r"""
invitation:
  description: The invitation as C(GetResourceShareInvitations) answers, after acceptance (unchanged in check mode).
  returned: always
  type: dict
"""

import re
from typing import Any, Optional

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ddbguard.dr.plugins.module_utils import ram_api
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardAWSError
from ansible_collections.ddbguard.dr.plugins.module_utils.times import iso

ARGUMENT_SPEC = dict(
    share_name=dict(type="str", required=True),
    sender_account_id=dict(type="str", required=True),
)
SUPPORTS_CHECK_MODE = True


def validate(params: dict[str, Any]) -> list[str]:
    if not re.fullmatch(r"\d{12}", params["sender_account_id"]):
        return [f"sender_account_id must be a 12-digit account id, got {params['sender_account_id']!r}"]
    return []


def choose(found: list[dict[str, Any]], name: str, sender: str) -> Optional[dict[str, Any]]:
    """The newest invitation to that share from that sender: an older one that was accepted
    says nothing once the sender has removed this account and invited it again."""
    mine = [i for i in found if i.get("resourceShareName") == name and i.get("senderAccountId") == sender]
    return max(mine, key=lambda i: i.get("invitationTimestamp") or 0, default=None)


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    client = module.client("ram")
    invitation = choose(ram_api.invitations(client), params["share_name"], params["sender_account_id"])
    if invitation is None:
        raise DdbguardAWSError(
            message=f"No invitation to the resource share {params['share_name']} from account "
            f"{params['sender_account_id']}: that account has not shared it with this one."
        )
    if invitation["status"] == "ACCEPTED":
        return dict(changed=False, invitation=_public(invitation))
    if invitation["status"] != "PENDING":
        raise DdbguardAWSError(
            message=f"The invitation to {params['share_name']} is {invitation['status']}: "
            "the owner must share it with this account again."
        )
    if module.check_mode:
        return dict(changed=True, invitation=_public(invitation))
    accepted = ram_api.accept_invitation(client, invitation["resourceShareInvitationArn"])
    return dict(changed=True, invitation=_public(accepted))


def _public(invitation: dict[str, Any]) -> dict[str, Any]:
    return {k: iso(v) for k, v in invitation.items()}


def main() -> None:
    run_module(run, validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

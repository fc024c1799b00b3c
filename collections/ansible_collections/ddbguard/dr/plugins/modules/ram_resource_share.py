#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
DOCUMENTATION = r"""
---
module: ram_resource_share
version_added: 0.3.0
short_description: Share resources with other AWS accounts through AWS RAM, idempotently
description:
  - Makes the resource share named O(name) hold exactly O(resource_arns) and O(principals)
    (associating what is missing, removing what is not asked for), or deletes it.
  - Fills a gap, since neither amazon.aws nor community.aws has a module for AWS RAM.
  - An account outside the owner's organization receives an invitation, and has access to
    nothing until it accepts it (M(ddbguard.dr.ram_resource_share_invitation), run with
    that account's credentials). RV(principals) says, for each, whether it has.
  - ddbguard shares its logically air-gapped vault with a recovery account this way.
author:
  - ddbguard maintainers (@ddbguard)
options:
  name:
    description: Name of the resource share.
    type: str
    required: true
  resource_arns:
    description: ARNs of the resources to share (this account's).
    type: list
    elements: str
    default: []
  principals:
    description: The 12-digit ids of the accounts to share them with.
    type: list
    elements: str
    default: []
  allow_external_principals:
    description: Whether accounts outside the organization may be named; set at creation.
    type: bool
    default: true
  state:
    description: V(present) to make the share hold exactly these, V(absent) to delete it.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Share the air-gapped vault with the recovery account
  ddbguard.dr.ram_resource_share:
    name: ddbguard-air-gapped
    resource_arns: [arn:aws:backup:us-east-1:111122223333:backup-vault:ddbguard-air-gapped]
    principals: ["444455556666"]
"""

RETURN = r"""
resource_share:
  description: The share as C(GetResourceShares) answers (empty when absent, or when a check-mode run would create it).
  returned: always
  type: dict
principals:
  description: Each principal of the share and its association status (C(ASSOCIATING) until it accepts, C(ASSOCIATED)).
  returned: always
  type: dict
  sample: {"444455556666": "ASSOCIATING"}
"""

import re
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.ddbguard.dr.plugins.module_utils import ram_api
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.times import iso

ARGUMENT_SPEC = dict(
    name=dict(type="str", required=True),
    resource_arns=dict(type="list", elements="str", default=[]),
    principals=dict(type="list", elements="str", default=[]),
    allow_external_principals=dict(type="bool", default=True),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
SUPPORTS_CHECK_MODE = True


def validate(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters that the argument spec cannot express (empty when valid)."""
    accounts = [p for p in params["principals"] if not re.fullmatch(r"\d{12}", p)]
    problems = [f"principals must be 12-digit account ids, got {p!r}" for p in accounts]
    problems += [f"resource_arns must be ARNs, got {a!r}" for a in params["resource_arns"] if not a.startswith("arn:")]
    return problems


def plan(current: dict[str, set[str]], wanted: dict[str, set[str]]) -> dict[str, dict[str, list[str]]]:
    """What to associate and disassociate so that the share holds exactly ``wanted``."""
    return {
        "associate": {k: sorted(wanted[k] - current[k]) for k in wanted},
        "disassociate": {k: sorted(current[k] - wanted[k]) for k in wanted},
    }


def _statuses(client, share_arn: str) -> dict[str, str]:
    return {a["associatedEntity"]: a["status"] for a in ram_api.associations(client, share_arn, "PRINCIPAL")}


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    params = module.params
    client = module.client("ram")
    share = ram_api.find_share(client, params["name"])
    if params["state"] == "absent":
        if share is None:
            return dict(changed=False, resource_share={}, principals={})
        if not module.check_mode:
            ram_api.share_call(client, "delete_resource_share", share["resourceShareArn"])
        return dict(changed=True, resource_share={}, principals={})
    wanted = {"resourceArns": set(params["resource_arns"]), "principals": set(params["principals"])}
    if share is None:
        if module.check_mode:
            invited = {p: "ASSOCIATING" for p in sorted(wanted["principals"])}
            return dict(changed=True, resource_share={}, principals=invited)
        share = ram_api.create_share(
            client,
            dict(
                name=params["name"],
                resourceArns=sorted(wanted["resourceArns"]),
                principals=sorted(wanted["principals"]),
                allowExternalPrincipals=params["allow_external_principals"],
            ),
        )
        statuses = _statuses(client, share["resourceShareArn"])
        return dict(changed=True, resource_share=_public(share), principals=statuses)
    arn = share["resourceShareArn"]
    current = {
        "resourceArns": {a["associatedEntity"] for a in ram_api.associations(client, arn, "RESOURCE")},
        "principals": set(_statuses(client, arn)),
    }
    steps = plan(current, wanted)
    changed = any(steps["associate"].values()) or any(steps["disassociate"].values())
    if changed and not module.check_mode:
        for method in ("associate", "disassociate"):
            change = {k: v for k, v in steps[method].items() if v}
            if change:
                ram_api.share_call(client, f"{method}_resource_share", arn, **change)
    return dict(changed=changed, resource_share=_public(share), principals=_statuses(client, arn), plan=steps)


def _public(share: dict[str, Any]) -> dict[str, Any]:
    return {k: iso(v) for k, v in share.items()}


def main() -> None:
    run_module(run, validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

"""AWS RAM: sharing a logically air-gapped vault with another account (row 32).

AWS: a resource share (``CreateResourceShare``) names resources of its owner and the
principals they are shared with. A principal that is an account outside the owner's
organization can only be named when the share allows external principals
(``allowExternalPrincipals``); it receives an invitation (``GetResourceShareInvitations``,
status ``PENDING``) and has access to nothing until it accepts it
(``AcceptResourceShareInvitation``): the principal's association is ``ASSOCIATING`` until
then, ``ASSOCIATED`` after. ``DisassociateResourceShare`` and ``DeleteResourceShare`` end the
access. Every call is authorized as ``ram:<Operation>`` (the Service Authorization
Reference), on the share's ARN where the call names one, on ``*`` for
``CreateResourceShare`` (no resource type: the share does not exist yet) and the Get calls;
an invitation is accepted on its ARN.
Of AWS Backup's resources, only a logically air-gapped vault can be shared (AWS Backup
Developer Guide, "Share a logically air-gapped vault").

ministack 1.5.33 has no RAM: a request signed for ``ram`` answers an empty 400 and is never
authorized (no IAM namespace). Here RAM is a service of the emulator for those calls, with
its namespace, its action names (botocore's routes) and the resource ARNs above, so that
every call is evaluated against the caller's policies. The local AWS has no organization:
every other account is external. **Not emulated:** organizations and OUs, IAM role and user
principals, managed permissions (``permissionArns``), tags on shares, invitations that
expire (AWS: after 7 days), other resource types.

``shared_with(vault_arn, account)`` is what ``backup_shared_vault`` asks before an account
lists or restores the recovery points of another account's vault.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from localaws.compat.answers import Response, answer, error
from localaws.compat.iam_request import Request, Rule, register

SERVICE = "ram"
ACCOUNT = re.compile(r"^\d{12}$")
VAULT_ARN = re.compile(r"^arn:aws[a-z-]*:backup:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):backup-vault:[^:/]+$")
_STATE_KEY = "localaws_ram"


@dataclass
class RamStore:
    """Every account's shares and invitations (their ARNs carry the owner and region)."""

    shares: dict[str, dict[str, Any]] = field(default_factory=dict)
    invitations: dict[str, dict[str, Any]] = field(default_factory=dict)

    def state(self) -> dict[str, Any]:
        return {"shares": self.shares, "invitations": self.invitations}

    def load(self, data: dict[str, Any]) -> None:
        self.shares.update(data.get("shares", {}))
        self.invitations.update(data.get("invitations", {}))

    def clear(self) -> None:
        self.shares.clear()
        self.invitations.clear()


STORE = RamStore()


def shared_with(vault_arn: str, account: str, store: RamStore | None = None) -> bool:
    """Whether ``account`` has accepted a share of ``vault_arn`` that is still active."""
    for share in (store or STORE).shares.values():
        if share["status"] != "ACTIVE" or vault_arn not in share["_resources"]:
            continue
        if share["_principals"].get(account) == "ASSOCIATED":
            return True
    return False


def _owner(arn: str) -> str:
    return arn.split(":")[4]


class Ram:
    """The RAM calls of one request: its account and region."""

    def __init__(self, store: RamStore, account: str, region: str, vault_type=None):
        self.store = store
        self.account = account
        self.region = region
        # (vault ARN) -> its VaultType, or None when it does not exist
        self.vault_type = vault_type or _vault_type

    def route(self, method: str, path: str, query: dict[str, str], body: dict[str, Any]) -> Response:
        operation = unquote(path).strip("/").lower()
        handlers = {
            ("POST", "createresourceshare"): self.create,
            ("POST", "getresourceshares"): self.get_shares,
            ("POST", "getresourceshareassociations"): self.get_associations,
            ("POST", "associateresourceshare"): self.associate,
            ("POST", "disassociateresourceshare"): self.disassociate,
            ("DELETE", "deleteresourceshare"): lambda doc: self.delete(query.get("resourceShareArn", "")),
            ("POST", "getresourceshareinvitations"): self.get_invitations,
            ("POST", "acceptresourceshareinvitation"): self.accept,
        }
        handler = handlers.get((method, operation))
        if handler is None:
            return error("UnsupportedOperationException", f"{method} /{operation} is not emulated here.")
        return handler(body)

    # -- the owner's side ------------------------------------------------------------
    def _check(self, resources: list[str], principals: list[str], external: bool) -> Response | None:
        for arn in resources:
            match = VAULT_ARN.match(arn)
            if not match:
                return error("MalformedArnException", f"{arn} is not the ARN of a resource RAM shares here.")
            if match["account"] != self.account or match["region"] != self.region:
                return error("UnknownResourceException", f"{arn} is not a resource of this account and region.")
            kind = self.vault_type(arn)
            if kind is None:
                return error("UnknownResourceException", f"{arn} does not exist.")
            if kind != "LOGICALLY_AIR_GAPPED_BACKUP_VAULT":
                return error(
                    "InvalidParameterException", f"{arn}: only a logically air-gapped backup vault can be shared."
                )
        for principal in principals:
            if not ACCOUNT.match(principal):
                return error("InvalidParameterException", f"{principal}: only account ids are emulated as principals.")
            if principal == self.account:
                return error("InvalidParameterException", "A resource share cannot name its owner as a principal.")
            if not external:
                return error(
                    "OperationNotPermittedException",
                    f"{principal} is outside your organization: the share must allow external principals.",
                )
        return None

    def _mine(self, arn: str) -> dict[str, Any] | None:
        share = self.store.shares.get(arn)
        return share if share and _owner(arn) == self.account and share["status"] == "ACTIVE" else None

    def create(self, body: dict[str, Any]) -> Response:
        name = body.get("name")
        if not isinstance(name, str) or not name:
            return error("MissingRequiredParameterException", "name is required.")
        resources, principals = list(body.get("resourceArns") or []), list(body.get("principals") or [])
        external = bool(body.get("allowExternalPrincipals", True))
        refused = self._check(resources, principals, external)
        if refused:
            return refused
        now = time.time()
        arn = f"arn:aws:ram:{self.region}:{self.account}:resource-share/{uuid.uuid4()}"
        share = {
            "resourceShareArn": arn,
            "name": name,
            "owningAccountId": self.account,
            "allowExternalPrincipals": external,
            "status": "ACTIVE",
            "creationTime": now,
            "lastUpdatedTime": now,
            "featureSet": "STANDARD",
            "_resources": {r: now for r in resources},
            "_principals": {},
        }
        self.store.shares[arn] = share
        self._invite(share, principals)
        return answer({"resourceShare": _public(share)})

    def _invite(self, share: dict[str, Any], principals: list[str]) -> None:
        for principal in principals:
            if principal in share["_principals"]:
                continue
            share["_principals"][principal] = "ASSOCIATING"
            arn = f"arn:aws:ram:{self.region}:{self.account}:resource-share-invitation/{uuid.uuid4()}"
            self.store.invitations[arn] = {
                "resourceShareInvitationArn": arn,
                "resourceShareName": share["name"],
                "resourceShareArn": share["resourceShareArn"],
                "senderAccountId": self.account,
                "receiverAccountId": principal,
                "invitationTimestamp": time.time(),
                "status": "PENDING",
            }

    def associate(self, body: dict[str, Any]) -> Response:
        share = self._mine(body.get("resourceShareArn", ""))
        if share is None:
            return error("UnknownResourceException", f"Resource share {body.get('resourceShareArn')} not found.")
        resources, principals = list(body.get("resourceArns") or []), list(body.get("principals") or [])
        refused = self._check(resources, principals, share["allowExternalPrincipals"])
        if refused:
            return refused
        now = time.time()
        for arn in resources:
            share["_resources"].setdefault(arn, now)
        self._invite(share, principals)
        share["lastUpdatedTime"] = now
        return answer({"resourceShareAssociations": self._associations(share, resources, principals)})

    def disassociate(self, body: dict[str, Any]) -> Response:
        share = self._mine(body.get("resourceShareArn", ""))
        if share is None:
            return error("UnknownResourceException", f"Resource share {body.get('resourceShareArn')} not found.")
        resources, principals = list(body.get("resourceArns") or []), list(body.get("principals") or [])
        listed = self._associations(share, resources, principals)
        for arn in resources:
            share["_resources"].pop(arn, None)
        for principal in principals:
            share["_principals"].pop(principal, None)
            self._withdraw(share["resourceShareArn"], principal)
        share["lastUpdatedTime"] = time.time()
        return answer({"resourceShareAssociations": [a | {"status": "DISASSOCIATED"} for a in listed]})

    def delete(self, arn: str) -> Response:
        share = self._mine(arn)
        if share is None:
            return error("UnknownResourceException", f"Resource share {arn} not found.")
        share["status"] = "DELETED"
        share["lastUpdatedTime"] = time.time()
        for principal in list(share["_principals"]):
            self._withdraw(arn, principal)
        share["_principals"].clear()
        share["_resources"].clear()
        return answer({"returnValue": True})

    def _withdraw(self, share_arn: str, principal: str) -> None:
        for invitation in self.store.invitations.values():
            mine = invitation["resourceShareArn"] == share_arn and invitation["receiverAccountId"] == principal
            if mine and invitation["status"] == "PENDING":
                invitation["status"] = "EXPIRED"

    def get_shares(self, body: dict[str, Any]) -> Response:
        owner = body.get("resourceOwner")
        if owner not in ("SELF", "OTHER-ACCOUNTS"):
            return error("InvalidParameterException", "resourceOwner must be SELF or OTHER-ACCOUNTS.")
        shares = [s for s in self.store.shares.values() if s["resourceShareArn"].split(":")[3] == self.region]
        if owner == "SELF":
            shares = [s for s in shares if s["owningAccountId"] == self.account]
        else:
            shares = [s for s in shares if s["_principals"].get(self.account) == "ASSOCIATED"]
        if body.get("name"):
            shares = [s for s in shares if s["name"] == body["name"]]
        if body.get("resourceShareArns"):
            shares = [s for s in shares if s["resourceShareArn"] in body["resourceShareArns"]]
        if body.get("resourceShareStatus"):
            shares = [s for s in shares if s["status"] == body["resourceShareStatus"]]
        return answer({"resourceShares": [_public(s) for s in shares]})

    def get_associations(self, body: dict[str, Any]) -> Response:
        kind = body.get("associationType")
        if kind not in ("PRINCIPAL", "RESOURCE"):
            return error("InvalidParameterException", "associationType must be PRINCIPAL or RESOURCE.")
        shares = [s for s in self.store.shares.values() if s["owningAccountId"] == self.account]
        if body.get("resourceShareArns"):
            shares = [s for s in shares if s["resourceShareArn"] in body["resourceShareArns"]]
        found = []
        for share in shares:
            if kind == "PRINCIPAL":
                found += self._associations(share, [], list(share["_principals"]))
            else:
                found += self._associations(share, list(share["_resources"]), [])
        if body.get("resourceArn"):
            found = [a for a in found if a["associatedEntity"] == body["resourceArn"]]
        if body.get("principal"):
            found = [a for a in found if a["associatedEntity"] == body["principal"]]
        if body.get("associationStatus"):
            found = [a for a in found if a["status"] == body["associationStatus"]]
        return answer({"resourceShareAssociations": found})

    @staticmethod
    def _associations(share: dict[str, Any], resources: list[str], principals: list[str]) -> list[dict[str, Any]]:
        common = {
            "resourceShareArn": share["resourceShareArn"],
            "resourceShareName": share["name"],
            "creationTime": share["creationTime"],
            "lastUpdatedTime": share["lastUpdatedTime"],
        }
        found = [
            common | {"associatedEntity": arn, "associationType": "RESOURCE", "status": "ASSOCIATED", "external": False}
            for arn in resources
        ]
        found += [
            common
            | {
                "associatedEntity": principal,
                "associationType": "PRINCIPAL",
                "status": share["_principals"].get(principal, "DISASSOCIATED"),
                "external": True,
            }
            for principal in principals
        ]
        return found

    # -- the recipient's side --------------------------------------------------------
    def get_invitations(self, body: dict[str, Any]) -> Response:
        found = [
            i
            for i in self.store.invitations.values()
            if self.account in (i["receiverAccountId"], i["senderAccountId"])
            and i["resourceShareInvitationArn"].split(":")[3] == self.region
        ]
        if body.get("resourceShareArns"):
            found = [i for i in found if i["resourceShareArn"] in body["resourceShareArns"]]
        if body.get("resourceShareInvitationArns"):
            found = [i for i in found if i["resourceShareInvitationArn"] in body["resourceShareInvitationArns"]]
        return answer({"resourceShareInvitations": found})

    def accept(self, body: dict[str, Any]) -> Response:
        arn = body.get("resourceShareInvitationArn", "")
        invitation = self.store.invitations.get(arn)
        if invitation is None or invitation["receiverAccountId"] != self.account:
            return error("ResourceShareInvitationArnNotFoundException", f"Invitation {arn} not found.")
        if invitation["status"] == "ACCEPTED":
            return error("ResourceShareInvitationAlreadyAcceptedException", f"Invitation {arn} is already accepted.")
        if invitation["status"] != "PENDING":
            return error("ResourceShareInvitationExpiredException", f"Invitation {arn} is {invitation['status']}.")
        share = self.store.shares.get(invitation["resourceShareArn"])
        invitation["status"] = "ACCEPTED"
        if share is not None and share["status"] == "ACTIVE":
            share["_principals"][self.account] = "ASSOCIATED"
        return answer({"resourceShareInvitation": invitation})


def _public(share: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in share.items() if not k.startswith("_")}


def _vault_type(vault_arn: str) -> str | None:
    from localaws.compat import backup_air_gapped_vault as air_gapped
    from localaws.compat.backup_copy_jobs import vault_in

    match = VAULT_ARN.match(vault_arn)
    record = vault_in(match["account"], match["region"], vault_arn.rsplit(":", 1)[1]) if match else None
    return air_gapped.vault_type(record) if record is not None else None


def resource_arn(operation: str, body: dict[str, Any], query: dict[str, str], region: str, account: str) -> str:
    """The resource a RAM call is authorized on (the Service Authorization Reference)."""
    if operation == "DeleteResourceShare":
        return query.get("resourceShareArn") or "*"
    if operation in ("AssociateResourceShare", "DisassociateResourceShare"):
        return body.get("resourceShareArn") or "*"
    if operation == "AcceptResourceShareInvitation":
        return body.get("resourceShareInvitationArn") or "*"
    return "*"


def _resolve(request: Request, action: str) -> Rule | None:
    if request.service != SERVICE:
        return None
    query = {k: request.param(k) for k in request.params}
    return Rule(resource_arn(action.split(":", 1)[1], request.json(), query, request.region, request.account))


def install() -> None:
    from ministack import app
    from ministack.core import iam_actions, router
    from ministack.core.responses import get_account_id, get_region
    from ministack.services import backup as backup_module

    if SERVICE in app.SERVICE_HANDLERS:
        return
    router.SERVICE_PATTERNS[SERVICE] = {"host_patterns": [r"ram\."]}
    iam_actions.SERVICE_TO_IAM_NAMESPACE[SERVICE] = SERVICE
    iam_actions._BOTOCORE_SERVICE_MAP[SERVICE] = [SERVICE]

    async def handle_request(method, path, headers, body, query_params):
        try:
            doc = json.loads(body) if body else {}
        except ValueError:
            return error("InvalidParameterException", "The request body is not JSON.")
        query = {k: (v[0] if isinstance(v, list) else v) for k, v in query_params.items()}
        return Ram(STORE, get_account_id(), get_region()).route(method, path, query, doc)

    app.SERVICE_HANDLERS[SERVICE] = handle_request
    register(_resolve)

    # Persisted and reset with AWS Backup's state: RAM shares nothing else here.
    original_get_state = backup_module.get_state
    original_load = backup_module.load_persisted_state
    original_reset = backup_module.reset

    def get_state():
        return {**original_get_state(), _STATE_KEY: STORE.state()}

    def load_persisted_state(data):
        original_load(data)
        STORE.load((data or {}).get(_STATE_KEY, {}))

    def reset():
        original_reset()
        STORE.clear()

    backup_module.get_state = get_state
    backup_module.load_persisted_state = load_persisted_state
    backup_module.reset = reset

"""Row 32: AWS RAM shares a logically air-gapped vault with another account, which has
access only once it accepts the invitation, and loses it when the share ends."""

from __future__ import annotations

import json

import pytest

from localaws.compat import ram

OWNER, RECOVERY, THIRD = "000000000000", "222222222222", "333333333333"
REGION = "us-east-1"
LAG = f"arn:aws:backup:{REGION}:{OWNER}:backup-vault:air-gapped"
STANDARD = f"arn:aws:backup:{REGION}:{OWNER}:backup-vault:vault"
KINDS = {LAG: "LOGICALLY_AIR_GAPPED_BACKUP_VAULT", STANDARD: "BACKUP_VAULT"}


@pytest.fixture
def store():
    return ram.RamStore()


def call(store, account, method, operation, body=None, query=None):
    status, _, payload = ram.Ram(store, account, REGION, KINDS.get).route(
        method, f"/{operation}", query or {}, body or {}
    )
    return status, json.loads(payload)


def shared(store, principals=(RECOVERY,), **extra) -> dict:
    body = {"name": "ddbguard-air-gapped", "resourceArns": [LAG], "principals": list(principals), **extra}
    status, made = call(store, OWNER, "POST", "createresourceshare", body)
    assert status == 200, made
    return made["resourceShare"]


def invitation(store, account=RECOVERY) -> dict:
    status, found = call(store, account, "POST", "getresourceshareinvitations")
    assert status == 200
    return found["resourceShareInvitations"][0]


def test_the_recovery_account_has_access_only_after_accepting_the_invitation(store):
    share = shared(store)
    assert share["status"] == "ACTIVE" and share["owningAccountId"] == OWNER
    _, associations = call(store, OWNER, "POST", "getresourceshareassociations", {"associationType": "PRINCIPAL"})
    assert [(a["associatedEntity"], a["status"]) for a in associations["resourceShareAssociations"]] == [
        (RECOVERY, "ASSOCIATING")
    ]
    pending = invitation(store)
    assert pending["status"] == "PENDING" and pending["senderAccountId"] == OWNER
    assert not ram.shared_with(LAG, RECOVERY, store)
    _, listed = call(store, RECOVERY, "POST", "getresourceshares", {"resourceOwner": "OTHER-ACCOUNTS"})
    assert listed["resourceShares"] == []

    status, accepted = call(
        store, RECOVERY, "POST", "acceptresourceshareinvitation",
        {"resourceShareInvitationArn": pending["resourceShareInvitationArn"]},
    )  # fmt: skip
    assert status == 200 and accepted["resourceShareInvitation"]["status"] == "ACCEPTED"
    assert ram.shared_with(LAG, RECOVERY, store)
    assert not ram.shared_with(LAG, THIRD, store)
    _, listed = call(store, RECOVERY, "POST", "getresourceshares", {"resourceOwner": "OTHER-ACCOUNTS"})
    assert [s["name"] for s in listed["resourceShares"]] == ["ddbguard-air-gapped"]
    _, resources = call(store, OWNER, "POST", "getresourceshareassociations", {"associationType": "RESOURCE"})
    assert [a["associatedEntity"] for a in resources["resourceShareAssociations"]] == [LAG]


def test_an_invitation_is_accepted_once_and_only_by_its_receiver(store):
    shared(store)
    arn = invitation(store)["resourceShareInvitationArn"]
    status, refused = call(store, THIRD, "POST", "acceptresourceshareinvitation", {"resourceShareInvitationArn": arn})
    assert status == 400 and refused["__type"] == "ResourceShareInvitationArnNotFoundException"
    call(store, RECOVERY, "POST", "acceptresourceshareinvitation", {"resourceShareInvitationArn": arn})
    status, again = call(store, RECOVERY, "POST", "acceptresourceshareinvitation", {"resourceShareInvitationArn": arn})
    assert status == 400 and again["__type"] == "ResourceShareInvitationAlreadyAcceptedException"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"resourceArns": [STANDARD]}, "InvalidParameterException"),
        ({"resourceArns": [LAG.replace(OWNER, THIRD)]}, "UnknownResourceException"),
        ({"resourceArns": [LAG + "-gone"]}, "UnknownResourceException"),
        ({"principals": [OWNER]}, "InvalidParameterException"),
        ({"principals": ["not-an-account"]}, "InvalidParameterException"),
        ({"allowExternalPrincipals": False}, "OperationNotPermittedException"),
    ],
)
def test_what_aws_refuses_to_share_is_refused_and_nothing_is_made(store, body, code):
    request = {"name": "s", "resourceArns": [LAG], "principals": [RECOVERY], **body}
    status, refused = call(store, OWNER, "POST", "createresourceshare", request)
    assert status == 400 and refused["__type"] == code
    assert store.shares == {} and store.invitations == {}


def test_removing_the_principal_or_deleting_the_share_ends_the_access(store):
    share = shared(store)
    arn = share["resourceShareArn"]
    call(store, RECOVERY, "POST", "acceptresourceshareinvitation",
         {"resourceShareInvitationArn": invitation(store)["resourceShareInvitationArn"]})  # fmt: skip
    change = {"resourceShareArn": arn, "principals": [RECOVERY]}
    status, _ = call(store, OWNER, "POST", "disassociateresourceshare", change)
    assert status == 200 and not ram.shared_with(LAG, RECOVERY, store)

    status, _ = call(store, OWNER, "POST", "associateresourceshare", change)
    assert status == 200 and not ram.shared_with(LAG, RECOVERY, store), "a new invitation, not yet accepted"
    pending = [i for i in store.invitations.values() if i["status"] == "PENDING"]
    call(store, RECOVERY, "POST", "acceptresourceshareinvitation",
         {"resourceShareInvitationArn": pending[0]["resourceShareInvitationArn"]})  # fmt: skip
    assert ram.shared_with(LAG, RECOVERY, store)

    status, deleted = call(store, OWNER, "DELETE", "deleteresourceshare", query={"resourceShareArn": arn})
    assert status == 200 and deleted["returnValue"] is True
    assert not ram.shared_with(LAG, RECOVERY, store)
    status, _ = call(store, RECOVERY, "DELETE", "deleteresourceshare", query={"resourceShareArn": arn})
    assert status == 400, "only its owner, and only while it is active"


def test_calls_are_authorized_on_the_resources_the_reference_names():
    share = f"arn:aws:ram:{REGION}:{OWNER}:resource-share/x"
    assert ram.resource_arn("CreateResourceShare", {}, {}, REGION, OWNER) == "*", "no resource type: unscopable"
    assert ram.resource_arn("AssociateResourceShare", {"resourceShareArn": share}, {}, REGION, OWNER) == share
    assert ram.resource_arn("DeleteResourceShare", {}, {"resourceShareArn": share}, REGION, OWNER) == share
    assert ram.resource_arn("GetResourceShares", {}, {}, REGION, OWNER) == "*"
    invitation_arn = f"arn:aws:ram:{REGION}:{OWNER}:resource-share-invitation/y"
    body = {"resourceShareInvitationArn": invitation_arn}
    assert ram.resource_arn("AcceptResourceShareInvitation", body, {}, REGION, RECOVERY) == invitation_arn

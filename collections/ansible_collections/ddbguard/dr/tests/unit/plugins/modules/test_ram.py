"""The RAM modules: their checks before any AWS call, and the decisions they make."""

from __future__ import annotations

from ansible_collections.ddbguard.dr.plugins.modules import ram_resource_share, ram_resource_share_invitation

VAULT = "arn:aws:backup:us-east-1:111122223333:backup-vault:ddbguard-air-gapped"


def params(spec: dict, **given) -> dict:
    out = {name: option.get("default") for name, option in spec.items()}
    out.update(given)
    return out


def test_the_share_refuses_principals_that_are_not_account_ids_and_resources_that_are_not_arns():
    good = params(ram_resource_share.ARGUMENT_SPEC, name="s", resource_arns=[VAULT], principals=["444455556666"])
    assert ram_resource_share.validate(good) == []
    bad = dict(good, principals=["4444", "444455556666"], resource_arns=["vault"])
    problems = ram_resource_share.validate(bad)
    assert len(problems) == 2
    assert "principals" in problems[0] and "'4444'" in problems[0]
    assert "resource_arns" in problems[1]


def test_the_share_is_brought_to_exactly_what_is_asked():
    current = {"resourceArns": {VAULT, "arn:old"}, "principals": {"444455556666"}}
    wanted = {"resourceArns": {VAULT}, "principals": {"444455556666", "777788889999"}}
    steps = ram_resource_share.plan(current, wanted)
    assert steps["associate"] == {"resourceArns": [], "principals": ["777788889999"]}
    assert steps["disassociate"] == {"resourceArns": ["arn:old"], "principals": []}
    assert ram_resource_share.plan(wanted, wanted) == {
        "associate": {"resourceArns": [], "principals": []},
        "disassociate": {"resourceArns": [], "principals": []},
    }


def invitation(status: str, when: int, name: str = "ddbguard-air-gapped", sender: str = "111122223333") -> dict:
    return {"resourceShareName": name, "senderAccountId": sender, "status": status, "invitationTimestamp": when}


def test_the_invitation_chosen_is_the_newest_from_that_sender_to_that_share():
    choose = ram_resource_share_invitation.choose
    # Accepted, then the account was removed from the share and invited again: the new
    # invitation is the one to accept, the old acceptance gives no access.
    found = [invitation("ACCEPTED", 1), invitation("PENDING", 2)]
    assert choose(found, "ddbguard-air-gapped", "111122223333")["status"] == "PENDING"
    assert (
        choose([invitation("PENDING", 1), invitation("ACCEPTED", 2)], "ddbguard-air-gapped", "111122223333")["status"]
        == "ACCEPTED"
    )
    assert (
        choose([invitation("ACCEPTED", 1), invitation("EXPIRED", 3)], "ddbguard-air-gapped", "111122223333")["status"]
        == "EXPIRED"
    ), "the newest says the share must be made again"
    assert choose(found, "other-share", "111122223333") is None
    assert choose(found, "ddbguard-air-gapped", "999999999999") is None, "only from the named sender"


def test_the_invitation_needs_a_12_digit_sender():
    spec = ram_resource_share_invitation.ARGUMENT_SPEC
    assert ram_resource_share_invitation.validate(params(spec, share_name="s", sender_account_id="111122223333")) == []
    assert (
        "sender_account_id"
        in ram_resource_share_invitation.validate(params(spec, share_name="s", sender_account_id="1"))[0]
    )

#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: kms_hmac_key
version_added: 0.4.0
short_description: An HMAC KMS key (GENERATE_VERIFY_MAC) behind an alias, with its key policy
description:
  - Creates, when its alias names no key yet, a KMS key of key spec C(HMAC_256) and key
    usage C(GENERATE_VERIFY_MAC), with the given key policy, description and tags, and the
    alias. On later runs, brings the key policy, the description and the tags to what is
    asked, and reads them back; it fails when the target did not take them.
  - Fills a gap, since C(amazon.aws.kms_key) creates symmetric and asymmetric keys only
    (its O(amazon.aws.kms_key#module:key_spec) choices have no C(HMAC_*) spec, and its
    O(amazon.aws.kms_key#module:key_usage) no C(GENERATE_VERIFY_MAC)).
  - The change monitor derives the secret key of its write marker from such a key
    (C(GenerateMac)); its key policy lets only the monitor's execution role do so.
  - With O(state=absent), deletes the alias and schedules the deletion of the key.
  - Fails, without changing anything, when the alias names a key of another spec or
    usage, or a key pending deletion.
author:
  - ddbguard maintainers (@ddbguard)
options:
  alias:
    description: Alias of the key, without the C(alias/) prefix.
    type: str
    required: true
  description:
    description: Description of the key.
    type: str
    default: ""
  policy:
    description:
      - The key policy (a JSON document, as a dictionary).
      - Required with O(state=present). Compared as data, so formatting does not matter.
    type: dict
  tags:
    description: Tags the key must carry; other tags are left alone.
    type: dict
    default: {}
  pending_window_days:
    description: With O(state=absent), days before the key is deleted (AWS allows 7 to 30).
    type: int
    default: 7
  state:
    description: Whether the key and its alias exist.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The key the monitor of orders derives its marker key from
  ddbguard.dr.kms_hmac_key:
    alias: ddbguard/orders/marker
    description: Signs the change monitor's own writes to orders
    policy: "{{ lookup('ansible.builtin.template', 'marker-key-policy.json.j2') | from_json }}"
  register: marker_key
"""

RETURN = r"""
key_arn:
  description: ARN of the key (empty in check mode before the key exists, or after O(state=absent)).
  returned: always
  type: str
alias_arn:
  description: ARN of the alias.
  returned: always
  type: str
"""

import json
from typing import Any, Optional

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardAWSError, KmsErrorHandler

ARGUMENT_SPEC = dict(
    alias=dict(type="str", required=True),
    description=dict(type="str", default=""),
    policy=dict(type="dict"),
    tags=dict(type="dict", default={}),
    pending_window_days=dict(type="int", default=7),
    state=dict(type="str", choices=["present", "absent"], default="present"),
)
SUPPORTS_CHECK_MODE = True
KEY_SPEC = "HMAC_256"
KEY_USAGE = "GENERATE_VERIFY_MAC"


def validate(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters that the argument spec cannot express (empty when valid)."""
    problems = []
    alias = params["alias"]
    if alias.startswith("alias/") or alias.startswith("aws/") or not alias:
        problems.append(f"alias must be given without the alias/ prefix and not under aws/, got {alias!r}")
    elif not all(c.isalnum() or c in "/_-" for c in alias) or len(alias) > 250:
        problems.append(f"alias may hold 1-250 characters of A-Z a-z 0-9 / _ -, got {alias!r}")
    if params["state"] == "present" and not params["policy"]:
        problems.append("policy is required with state=present")
    if not 7 <= params["pending_window_days"] <= 30:
        problems.append(f"pending_window_days must be 7-30, got {params['pending_window_days']}")
    return problems


@KmsErrorHandler.list_error_handler("describe the key", None)
@AWSRetry.jittered_backoff()
def describe(client: Any, key_id: str) -> Optional[dict[str, Any]]:
    return client.describe_key(KeyId=key_id)["KeyMetadata"]


@KmsErrorHandler.common_error_handler("read the key's policy and tags")
@AWSRetry.jittered_backoff()
def read_settings(client: Any, key_id: str) -> dict[str, Any]:
    policy = json.loads(client.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    tags = {t["TagKey"]: t["TagValue"] for t in client.list_resource_tags(KeyId=key_id).get("Tags", [])}
    return {"policy": policy, "tags": tags, "description": describe(client, key_id).get("Description", "")}


@KmsErrorHandler.common_error_handler("create the key and its alias")
@AWSRetry.jittered_backoff()
def create(client: Any, alias: str, policy: dict, description: str, tags: dict[str, str]) -> str:
    key = client.create_key(
        KeySpec=KEY_SPEC,
        KeyUsage=KEY_USAGE,
        Policy=json.dumps(policy),
        Description=description,
        Tags=[{"TagKey": k, "TagValue": str(v)} for k, v in tags.items()],
    )["KeyMetadata"]
    client.create_alias(AliasName=f"alias/{alias}", TargetKeyId=key["KeyId"])
    return key["Arn"]


@KmsErrorHandler.common_error_handler("update the key")
@AWSRetry.jittered_backoff()
def update(client: Any, key_id: str, changes: dict[str, Any]) -> None:
    if "policy" in changes:
        client.put_key_policy(KeyId=key_id, PolicyName="default", Policy=json.dumps(changes["policy"]))
    if "description" in changes:
        client.update_key_description(KeyId=key_id, Description=changes["description"])
    if "tags" in changes:
        client.tag_resource(KeyId=key_id, Tags=[{"TagKey": k, "TagValue": str(v)} for k, v in changes["tags"].items()])


@KmsErrorHandler.common_error_handler("delete the key")
@AWSRetry.jittered_backoff()
def delete(client: Any, alias: str, key_id: str, days: int) -> None:
    client.delete_alias(AliasName=f"alias/{alias}")
    client.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=days)


def differences(current: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """What must change so that the key holds what ``params`` ask (pure)."""
    changes: dict[str, Any] = {}
    if current["policy"] != params["policy"]:
        changes["policy"] = params["policy"]
    if current["description"] != params["description"]:
        changes["description"] = params["description"]
    missing = {k: str(v) for k, v in params["tags"].items() if current["tags"].get(k) != str(v)}
    if missing:
        changes["tags"] = missing
    return changes


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    client = module.client("kms")
    params = module.params
    alias = params["alias"]
    meta = describe(client, f"alias/{alias}")
    alias_arn = meta["Arn"].rsplit(":key/", 1)[0] + f":alias/{alias}" if meta else ""
    if meta and (meta.get("KeySpec") != KEY_SPEC or meta.get("KeyUsage") != KEY_USAGE):
        raise DdbguardAWSError(
            message=f"alias/{alias} names a key of spec {meta.get('KeySpec')} and usage {meta.get('KeyUsage')}, "
            f"not {KEY_SPEC} {KEY_USAGE}; choose another alias"
        )
    if meta and meta.get("KeyState") == "PendingDeletion":
        if params["state"] == "absent":
            return dict(changed=False, key_arn="", alias_arn=alias_arn)
        raise DdbguardAWSError(
            message=f"alias/{alias} names key {meta['Arn']}, which is pending deletion; cancel the deletion first"
        )

    if params["state"] == "absent":
        if meta and not module.check_mode:
            delete(client, alias, meta["KeyId"], params["pending_window_days"])
        return dict(changed=bool(meta), key_arn="", alias_arn=alias_arn)

    if not meta:
        if module.check_mode:
            return dict(changed=True, key_arn="", alias_arn="")
        key_arn = create(client, alias, params["policy"], params["description"], params["tags"])
        meta = describe(client, f"alias/{alias}")
        if not meta or meta["Arn"] != key_arn or meta.get("KeySpec") != KEY_SPEC:
            raise DdbguardAWSError(message=f"alias/{alias} does not name the {KEY_SPEC} key just created ({key_arn})")
        changes: dict[str, Any] = {"created": True}
    else:
        changes = differences(read_settings(client, meta["KeyId"]), params)
        if changes and not module.check_mode:
            update(client, meta["KeyId"], changes)
    if changes and not module.check_mode:
        left = differences(read_settings(client, meta["KeyId"]), params)
        if left:
            raise DdbguardAWSError(message=f"Key {meta['Arn']} does not hold {', '.join(left)} after the update")
    alias_arn = meta["Arn"].rsplit(":key/", 1)[0] + f":alias/{alias}"
    return dict(changed=bool(changes), key_arn=meta["Arn"], alias_arn=alias_arn, changes=sorted(changes))


def main() -> None:
    run_module(run, validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

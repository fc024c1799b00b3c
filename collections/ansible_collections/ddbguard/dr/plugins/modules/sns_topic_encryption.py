#!/usr/bin/python
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: sns_topic_encryption
version_added: 0.2.0
short_description: Encrypt an SNS topic at rest with a KMS key
description:
  - Sets, or removes, the KMS key (C(KmsMasterKeyId)) that encrypts an existing SNS topic at rest.
  - Fills a gap, since C(community.aws.sns_topic) creates topics and subscriptions but
    cannot set server-side encryption. Create the topic with it, then use this module.
  - The module reads the attribute back after the change and fails when the topic does
    not hold the key that was asked for.
author:
  - ddbguard maintainers (@ddbguard)
options:
  topic_arn:
    description: ARN of the topic.
    type: str
    required: true
  kms_master_key_id:
    description:
      - Key ARN, key id or alias (C(alias/...)) that encrypts the topic.
      - An empty string removes encryption.
    type: str
    required: true
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create the alarm topic
  community.aws.sns_topic:
    name: orders-alarms
  register: topic

- name: Encrypt it with the customer managed key
  ddbguard.dr.sns_topic_encryption:
    topic_arn: "{{ topic.sns_arn }}"
    kms_master_key_id: "{{ key_arn }}"
"""

RETURN = r"""
kms_master_key_id:
  description: The key that encrypts the topic after the run (empty when none).
  returned: always
  type: str
"""

import re
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.ddbguard.dr.plugins.module_utils.entry import run_module
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardAWSError, DdbguardErrorHandler

ARGUMENT_SPEC = dict(
    topic_arn=dict(type="str", required=True),
    kms_master_key_id=dict(type="str", required=True, no_log=False),
)
SUPPORTS_CHECK_MODE = True
TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")


def validate(params: dict[str, Any]) -> list[str]:
    """Problems with the parameters that the argument spec cannot express (empty when valid)."""
    if not TOPIC_ARN.match(params["topic_arn"]):
        return [f"topic_arn must be an SNS topic ARN, got {params['topic_arn']!r}"]
    return []


@DdbguardErrorHandler.common_error_handler("read the topic's attributes")
@AWSRetry.jittered_backoff()
def current_key(client: Any, topic_arn: str) -> str:
    return client.get_topic_attributes(TopicArn=topic_arn)["Attributes"].get("KmsMasterKeyId", "")


@DdbguardErrorHandler.common_error_handler("set the topic's KMS key")
@AWSRetry.jittered_backoff()
def set_key(client: Any, topic_arn: str, key: str) -> None:
    client.set_topic_attributes(TopicArn=topic_arn, AttributeName="KmsMasterKeyId", AttributeValue=key)


def run(module: AnsibleAWSModule) -> dict[str, Any]:
    client = module.client("sns")
    topic, wanted = module.params["topic_arn"], module.params["kms_master_key_id"]
    before = current_key(client, topic)
    changed = before != wanted
    after = wanted if changed else before
    if changed and not module.check_mode:
        set_key(client, topic, wanted)
        after = current_key(client, topic)
        if after != wanted:
            raise DdbguardAWSError(message=f"Topic {topic} holds KMS key {after!r} after setting {wanted!r}")
    result: dict[str, Any] = dict(changed=changed, kms_master_key_id=after)
    if module._diff:
        result["diff"] = dict(before={"kms_master_key_id": before}, after={"kms_master_key_id": after})
    return result


def main() -> None:
    run_module(run, validate, argument_spec=ARGUMENT_SPEC, supports_check_mode=SUPPORTS_CHECK_MODE)


if __name__ == "__main__":
    main()

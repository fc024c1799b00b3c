"""Records every AWS API call that a Python process makes through botocore.

On PYTHONPATH with ``DDBGUARD_RECORD_API_CALLS=<file>``, every process (ansible-playbook
and each module it runs) appends ``<iam prefix>:<operation>`` lines to that file. The
operator-policy test uses it to learn which actions site.yml, verify.yml and
teardown.yml really call. With ``DDBGUARD_RECORD_API_PARAMS=1`` each line is instead a
JSON object with the client's service and region, the operation and its parameters, so
that bench/site_runtime.py can replay the same calls with one plain boto3 process.
Nothing else imports it.
"""

import json
import os

_PATH = os.environ.get("DDBGUARD_RECORD_API_CALLS")
_WITH_PARAMS = os.environ.get("DDBGUARD_RECORD_API_PARAMS") == "1"
# botocore's signing name -> the IAM prefix, where they differ.
_IAM_PREFIX = {"monitoring": "cloudwatch"}
# The operation -> its IAM action, where they differ.
_IAM_ACTION = {
    "lambda:Invoke": "lambda:InvokeFunction",
    # S3's operations and its IAM actions, as the Service Authorization Reference pairs them.
    "s3:HeadBucket": "s3:ListBucket",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:ListObjectVersions": "s3:ListBucketVersions",
    "s3:HeadObject": "s3:GetObject",
    "s3:DeleteObjects": "s3:DeleteObject",
    "s3:GetBucketAccelerateConfiguration": "s3:GetAccelerateConfiguration",
    "s3:GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "s3:PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "s3:GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "s3:PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "s3:GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "s3:GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "s3:PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "s3:ListBucketInventoryConfigurations": "s3:GetInventoryConfiguration",
}

if _PATH:
    import botocore.client

    _original = botocore.client.BaseClient._make_api_call

    def _make_api_call(self, operation_name, api_params):
        model = self.meta.service_model
        prefix = model.signing_name or model.endpoint_prefix
        if _WITH_PARAMS:
            line = json.dumps(
                {
                    "service": model.service_name,
                    "region": self.meta.region_name,
                    "op": operation_name,
                    "params": api_params,
                },
                default=str,
            )
        else:
            action = f"{_IAM_PREFIX.get(prefix, prefix)}:{operation_name}"
            line = _IAM_ACTION.get(action, action)
        with open(_PATH, "a", encoding="utf-8") as handle:
            handle.write(line + "\n")
        return _original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = _make_api_call

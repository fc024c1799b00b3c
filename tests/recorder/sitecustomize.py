"""Records every AWS API call that a Python process makes through botocore.

On PYTHONPATH with ``DDBGUARD_RECORD_API_CALLS=<file>``, every process (ansible-playbook
and each module it runs) appends ``<iam prefix>:<operation>`` lines to that file. The
operator-policy test uses it to learn which actions site.yml, verify.yml and
teardown.yml really call. Nothing else imports it.
"""

import os

_PATH = os.environ.get("DDBGUARD_RECORD_API_CALLS")
# botocore's signing name -> the IAM prefix, where they differ.
_IAM_PREFIX = {"monitoring": "cloudwatch"}

if _PATH:
    import botocore.client

    _original = botocore.client.BaseClient._make_api_call

    def _make_api_call(self, operation_name, api_params):
        model = self.meta.service_model
        prefix = model.signing_name or model.endpoint_prefix
        with open(_PATH, "a", encoding="utf-8") as handle:
            handle.write(f"{_IAM_PREFIX.get(prefix, prefix)}:{operation_name}\n")
        return _original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = _make_api_call

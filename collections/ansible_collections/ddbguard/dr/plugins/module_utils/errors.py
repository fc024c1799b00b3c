# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Error handling for the AWS calls of our modules, in amazon.aws' shape.

Each helper that calls AWS takes a client and plain values, never the module. It is
wrapped by an ``*ErrorHandler`` decorator, which turns botocore's errors into
``DdbguardAWSError``, and by ``AWSRetry.jittered_backoff()``, which retries throttling
(paginated listings included). A module's ``main()`` catches ``AnsibleAWSError`` once and
calls ``module.fail_json_aws_error``, as amazon.aws' own modules do.
"""

from __future__ import annotations

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError


class DdbguardAWSError(AnsibleAWSError):
    """An AWS call failed, or the target did not reach the requested state."""


class DdbguardErrorHandler(AWSErrorHandler):
    """Missing resources are ``ResourceNotFoundException`` (DynamoDB, Lambda, AWS Backup)."""

    _CUSTOM_EXCEPTION = DdbguardAWSError

    @classmethod
    def _is_missing(cls) -> Any:
        return is_boto3_error_code("ResourceNotFoundException")


class BackupVaultErrorHandler(DdbguardErrorHandler):
    """AWS Backup answers ``AccessDeniedException`` for a vault that does not exist."""

    @classmethod
    def _is_missing(cls) -> Any:
        return is_boto3_error_code(["AccessDeniedException", "ResourceNotFoundException"])


class KmsErrorHandler(DdbguardErrorHandler):
    """KMS answers ``NotFoundException`` for a key or alias that does not exist."""

    @classmethod
    def _is_missing(cls) -> Any:
        return is_boto3_error_code("NotFoundException")

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Clients that act as a role the module assumes itself.

For example the break-glass role, the only principal a vault access policy lets delete
recovery points or remove the policy. The module calls ``sts:AssumeRole`` and builds its
client with the temporary credentials, which never leave the module's process. Passed
from a play instead, they would be module arguments, and Ansible prints the arguments at
``-vvv`` (amazon.aws does not treat an access key id as a secret).
"""

from __future__ import annotations

from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.ddbguard.dr.plugins.module_utils.errors import DdbguardErrorHandler

SESSION_NAME = "ddbguard"
SESSION_SECONDS = 900  # the shortest AWS allows: one module's calls


@DdbguardErrorHandler.common_error_handler("assume the role")
@AWSRetry.jittered_backoff()
def assume_role(sts: Any, role_arn: str) -> dict[str, Any]:
    return sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME, DurationSeconds=SESSION_SECONDS)[
        "Credentials"
    ]


def client(module: Any, service: str, role_arn: str | None = None) -> Any:
    """``module.client(service)``, as ``role_arn`` when it is given."""
    if not role_arn:
        return module.client(service)
    credentials = assume_role(module.client("sts"), role_arn)
    return module.client(
        service,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )

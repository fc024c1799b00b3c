# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ending every module of the collection shares: build the module, refuse parameters
that its own rules refuse (one message naming each, before any AWS call), run it, and
turn an AWS error into the module's failure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule


def run_module(
    run: Callable[[AnsibleAWSModule], dict[str, Any]],
    validate: Callable[[dict[str, Any]], list[str]] | None = None,
    **module_options: Any,
) -> None:
    """``AnsibleAWSModule(**module_options)``, then ``validate(params)`` (problems, empty
    when valid), then ``exit_json(**run(module))``."""
    module = AnsibleAWSModule(**module_options)
    problems = validate(module.params) if validate else []
    if problems:
        module.fail_json(msg="; ".join(problems))
    try:
        module.exit_json(**run(module))
    except AnsibleAWSError as err:
        module.fail_json_aws_error(err)

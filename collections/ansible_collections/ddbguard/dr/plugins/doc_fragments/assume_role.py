# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The option of the modules that may act as a role they assume themselves (module_utils.assume)."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  assume_role_arn:
    description:
      - Role to assume for the calls, for example the break-glass role that the vault access
        policy exempts.
      - The module assumes it itself (C(sts:AssumeRole), 15 minutes), so its temporary
        credentials never become task arguments, which Ansible prints at C(-vvv).
    type: str
    version_added: 0.2.0
"""

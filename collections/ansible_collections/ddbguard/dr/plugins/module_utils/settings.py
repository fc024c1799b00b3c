# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers to compare what the user asked for with what AWS reports.

No AWS calls here, so that the decision logic of every module is unit-tested without
a network. Convention: an option the user did not set is ``None`` and is left alone.
"""


def without_none(mapping):
    """Drop the keys whose value is None (boto3 rejects explicit nulls)."""
    return {k: v for k, v in mapping.items() if v is not None}

# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
name: aws_region
version_added: 0.4.0
short_description: Whether a string is a region that botocore knows for a service
description:
  - True when the value is a region of any AWS partition in which botocore's bundled
    endpoint data lists the service (default C(dynamodb)); offline, with no AWS call.
  - Lets roles refuse a misspelt or unknown region before their first AWS call, instead
    of failing halfway (a region that only looks like one, such as C(eu-nowhere-1)).
  - A region newer than the installed botocore is refused; upgrade botocore.
author:
  - ddbguard maintainers (@ddbguard)
options:
  _input:
    description: The region name.
    type: str
    required: true
  service:
    description: The service whose regions count.
    type: str
    default: dynamodb
"""

EXAMPLES = r"""
- name: Refuse an unknown region
  ansible.builtin.assert:
    that: my_region is ddbguard.dr.aws_region
"""

RETURN = r"""
_value:
  description: Whether the region is known.
  type: bool
"""

from functools import cache


@cache
def known_regions(service: str) -> frozenset[str]:
    import boto3

    session = boto3.session.Session()
    regions: set[str] = set()
    for partition in session.get_available_partitions():
        regions.update(session.get_available_regions(service, partition_name=partition))
    return frozenset(regions)


def aws_region(value: object, service: str = "dynamodb") -> bool:
    return isinstance(value, str) and value in known_regions(service)


class TestModule:
    def tests(self):
        return {"aws_region": aws_region}

"""EC2: the description of a rule that references a security group or a prefix list.

moto reads a rule's description only from its CIDR range, so a rule whose source is another
group or a prefix list (how every internal rule of the platform is written) comes back
without its description, and every plan wants to set it again. AWS keeps it for all kinds.
"""

from __future__ import annotations

import inspect
from typing import Any


def install() -> None:
    from moto.ec2.models.security_groups import SecurityGroupRule

    original_init = SecurityGroupRule.__init__
    signature = inspect.signature(original_init)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        prefix_list = signature.bind(self, *args, **kwargs).arguments.get("prefix_list_id")
        self.prefix_list_description = (prefix_list or {}).get("Description")

    def description(self: Any) -> str | None:
        return (
            self.ip_range.get("Description")
            or self.source_group.get("Description")
            or getattr(self, "prefix_list_description", None)
        )

    SecurityGroupRule.__init__ = __init__
    SecurityGroupRule.description = property(description)

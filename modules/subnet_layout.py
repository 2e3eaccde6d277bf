"""Where each subnet sits in a VPC: pure Python, shared by config validation and the network.

Tier `t`, AZ `i` takes slot `t * SUBNET_SLOTS_PER_TIER + i` of the VPC split by `newbits`,
so addresses never move when AZs are added (up to the slot count).
"""

from __future__ import annotations

import ipaddress

SUBNET_SLOTS_PER_TIER = 4
TIERS = ("public", "app", "data")


def subnet_cidrs(cidr: str, newbits: int, tier: str, az_count: int) -> list[str]:
    """The CIDRs of one tier's subnets, one per AZ, in AZ order."""
    subnets = list(ipaddress.IPv4Network(cidr).subnets(prefixlen_diff=newbits))
    first = TIERS.index(tier) * SUBNET_SLOTS_PER_TIER
    return [str(subnets[first + i]) for i in range(az_count)]

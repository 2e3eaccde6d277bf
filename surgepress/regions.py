"""Commercial AWS regions and the suffixes of their Availability Zone names.

Config validation and subnet placement run before any AWS call (and with no credentials
at all), so the table is static. Zone names are per-account aliases: the letters here are
the ones most accounts see; an account that sees others names its zones in
`network.availability_zones`. `tests/unit/test_regions.py` compares the table with the
emulator's own, so the two cannot drift apart silently.
"""

from __future__ import annotations

ZONE_LETTERS_BY_REGION: dict[str, str] = {
    "af-south-1": "abc",
    "ap-east-1": "abc",
    "ap-northeast-1": "acd",
    "ap-northeast-2": "abcd",
    "ap-northeast-3": "abc",
    "ap-south-1": "abc",
    "ap-south-2": "abc",
    "ap-southeast-1": "abc",
    "ap-southeast-2": "abc",
    "ap-southeast-3": "abc",
    "ap-southeast-4": "abc",
    "ca-central-1": "abd",
    "ca-west-1": "abc",
    "eu-central-1": "abc",
    "eu-central-2": "abc",
    "eu-north-1": "abc",
    "eu-south-1": "abc",
    "eu-south-2": "abc",
    "eu-west-1": "abc",
    "eu-west-2": "abc",
    "eu-west-3": "abc",
    "il-central-1": "abc",
    "me-central-1": "abc",
    "me-south-1": "abc",
    "sa-east-1": "abc",
    "us-east-1": "abcdef",
    "us-east-2": "abc",
    "us-west-1": "ab",
    "us-west-2": "abcd",
}


def zone_names(region: str) -> list[str]:
    """The region's Availability Zone names, in order (e.g. eu-west-1a, eu-west-1b, …)."""
    return [f"{region}{letter}" for letter in ZONE_LETTERS_BY_REGION[region]]

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


# Elastic Load Balancing writes access logs as this account in regions that opened before
# August 2022; newer regions use the log-delivery service principal instead.
ELB_LOG_ACCOUNT_BY_REGION: dict[str, str] = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
}
ELB_LOG_DELIVERY_SERVICE = "logdelivery.elasticloadbalancing.amazonaws.com"


def elb_log_principal(region: str) -> dict[str, str]:
    """The principal that delivers ALB access logs in `region`, as a bucket policy names it."""
    account = ELB_LOG_ACCOUNT_BY_REGION.get(region)
    return {"AWS": f"arn:aws:iam::{account}:root"} if account else {"Service": ELB_LOG_DELIVERY_SERVICE}

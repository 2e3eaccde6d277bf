"""The role a module plays: the primary platform or its secondary (DR) copy."""

from __future__ import annotations

import json
from enum import Enum


class PlatformRole(str, Enum):
    PRIMARY = "primary"
    SECONDARY = "secondary"


def service_trust(service: str, *, source_account: str | None = None, source_arn: str | None = None) -> str:
    """A role's trust policy admitting one AWS service, optionally only on behalf of one
    account or one resource (the confused-deputy guard)."""
    statement: dict = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    condition = {
        **({"aws:SourceAccount": source_account} if source_account else {}),
        **({"aws:SourceArn": source_arn} if source_arn else {}),
    }
    if condition:
        statement["Condition"] = {"StringEquals": condition}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

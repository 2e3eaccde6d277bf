"""The role a module plays: the primary platform or its secondary (DR) copy."""

from __future__ import annotations

import json
from enum import Enum

from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct


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


def inline_policy(scope: Construct, id: str, *, role: str, name: str, statements: list[dict]) -> IamRolePolicy:
    """A role's inline policy of these statements (IAM policy language 2012-10-17)."""
    return IamRolePolicy(
        scope, id, role=role, name=name, policy=json.dumps({"Version": "2012-10-17", "Statement": statements})
    )

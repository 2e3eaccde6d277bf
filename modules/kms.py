"""Customer-managed KMS keys as every module makes them: rotating, 30-day deletion window,
and a key policy that starts from the AWS default (the account administers the key
through IAM) plus whatever service statements the caller adds.
"""

from __future__ import annotations

import json

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct


def key_policy(account_id: str, statements: tuple[dict, ...] = ()) -> str:
    # A key policy, not an IAM policy: "Resource": "*" in it means this key and nothing else.
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            *statements,
        ],
    }
    return json.dumps(policy)


def customer_key(
    scope: Construct,
    id: str,
    *,
    description: str,
    account_id: str,
    tags: dict[str, str],
    statements: tuple[dict, ...] = (),
    provider: TerraformProvider | None = None,
) -> KmsKey:
    return KmsKey(
        scope,
        id,
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=30,
        policy=key_policy(account_id, statements),
        tags=tags,
        provider=provider,
    )

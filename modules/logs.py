"""CloudWatch log groups as every module makes them: a retention period and a KMS key of
their own, whose policy lets CloudWatch Logs use it for that one group only.
"""

from __future__ import annotations

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from constructs import Construct

from modules.kms import customer_key


def log_group_arn(*, region: str, account_id: str, name: str) -> str:
    return f"arn:aws:logs:{region}:{account_id}:log-group:{name}"


def encrypted_log_group(
    scope: Construct,
    *,
    key_id: str,
    group_id: str,
    name: str,
    region: str,
    account_id: str,
    retention_days: int,
    description: str,
    tags: dict[str, str],
    provider: TerraformProvider | None = None,
) -> tuple[CloudwatchLogGroup, KmsKey]:
    """`provider` places both in another region (it must be `region`'s provider)."""
    key = customer_key(
        scope,
        key_id,
        description=description,
        account_id=account_id,
        tags=tags,
        provider=provider,
        statements=(
            {
                "Sid": "CloudWatchLogsUsesKeyForThisGroupOnly",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {
                    "ArnEquals": {
                        "kms:EncryptionContext:aws:logs:arn": log_group_arn(
                            region=region, account_id=account_id, name=name
                        )
                    }
                },
            },
        ),
    )
    group = CloudwatchLogGroup(
        scope, group_id, name=name, retention_in_days=retention_days, kms_key_id=key.arn, tags=tags, provider=provider
    )
    return group, key

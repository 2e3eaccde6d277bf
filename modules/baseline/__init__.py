"""Account baseline: controls every workspace applies to its own account and region.

What it creates
    - Regional: EBS encryption by default (every new volume and snapshot is encrypted,
      whoever creates it).
    - Account-wide, only where `enable_account_wide_controls` (one workspace per account):
      the S3 account-level public access block and an IAM password policy.

Assumptions
    Account-wide settings are singletons: two workspaces sharing an account (production
    and dr) must not both manage them, or each apply would fight the other. The config
    loader enforces exactly one owner per account (`owns_account_settings`).

Defaults and why
    Everything on: these are the "secure by default" floor under the platform modules.
    The password policy matches the CIS AWS Foundations benchmark (14+ characters, all
    character classes, 24 remembered, 90-day expiry) for the rare IAM user that exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.ebs_encryption_by_default import EbsEncryptionByDefault
from cdktf_cdktf_provider_aws.iam_account_password_policy import IamAccountPasswordPolicy
from cdktf_cdktf_provider_aws.s3_account_public_access_block import S3AccountPublicAccessBlock
from constructs import Construct


@dataclass(frozen=True)
class BaselineProps:
    account_id: str
    """Account the controls apply to."""
    enable_account_wide_controls: bool = True
    """Manage the account-wide singletons (S3 public access block, password policy).
    Turn off in every workspace but one per account."""
    password_min_length: int = 14
    """Minimum IAM user password length (CIS: 14)."""


class Baseline(Construct):
    def __init__(self, scope: Construct, id: str, *, props: BaselineProps) -> None:
        super().__init__(scope, id)
        EbsEncryptionByDefault(self, "ebs-encryption", enabled=True)
        if not props.enable_account_wide_controls:
            return
        S3AccountPublicAccessBlock(
            self,
            "s3-public-access-block",
            account_id=props.account_id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        IamAccountPasswordPolicy(
            self,
            "password-policy",
            minimum_password_length=props.password_min_length,
            require_lowercase_characters=True,
            require_uppercase_characters=True,
            require_numbers=True,
            require_symbols=True,
            allow_users_to_change_password=True,
            password_reuse_prevention=24,
            max_password_age=90,
        )

"""S3 buckets as every module makes them: all four public-access blocks, bucket-owner
ownership (no ACLs), versioning (by Object Lock itself where the bucket has it), default
encryption (SSE-KMS with a Bucket Key, or SSE-S3 where a delivering service allows nothing
else), a TLS-only policy statement and a retention lifecycle. Modules add their own policy
statements, logging and lifecycle.
"""

from __future__ import annotations

import json

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleTransition,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct

ABORT_MULTIPART_AFTER_DAYS = 7


def tls_only_statement(bucket_arn: str) -> dict:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def bucket_policy_document(bucket_arn: str, statements: list[dict]) -> str:
    """TLS-only first, then the caller's statements."""
    return json.dumps({"Version": "2012-10-17", "Statement": [tls_only_statement(bucket_arn), *statements]})


def secure_bucket(
    scope: Construct,
    id: str,
    *,
    name: str,
    kms_key_arn: str | None,
    tags: dict[str, str],
    force_destroy: bool = False,
    object_lock: bool = False,
    provider: TerraformProvider | None = None,
) -> S3Bucket:
    """A private, versioned, encrypted bucket. `kms_key_arn=None` means SSE-S3."""
    bucket = S3Bucket(
        scope,
        id,
        bucket=name,
        force_destroy=force_destroy,
        object_lock_enabled=object_lock or None,
        tags=tags,
        provider=provider,
    )
    S3BucketPublicAccessBlock(
        scope,
        f"{id}-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        provider=provider,
    )
    S3BucketOwnershipControls(
        scope,
        f"{id}-ownership",
        bucket=bucket.id,
        provider=provider,
        rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
    )
    if not object_lock:  # Object Lock turns versioning on for good; S3 refuses to change it after
        S3BucketVersioningA(
            scope,
            f"{id}-versioning",
            bucket=bucket.id,
            provider=provider,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
    default = (
        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
            sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn
        )
        if kms_key_arn
        else S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(sse_algorithm="AES256")
    )
    S3BucketServerSideEncryptionConfigurationA(
        scope,
        f"{id}-encryption",
        bucket=bucket.id,
        provider=provider,
        rule=[
            S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=default, bucket_key_enabled=kms_key_arn is not None
            )
        ],
    )
    return bucket


def bucket_policy(
    scope: Construct, id: str, bucket: S3Bucket, statements: list[dict], provider: TerraformProvider | None = None
) -> S3BucketPolicy:
    return S3BucketPolicy(
        scope, id, bucket=bucket.id, policy=bucket_policy_document(bucket.arn, statements), provider=provider
    )


def retention_lifecycle(
    scope: Construct,
    id: str,
    bucket: S3Bucket,
    *,
    noncurrent_days: int,
    expire_current_days: int | None = None,
    archive_after_days: int | None = None,
    provider: TerraformProvider | None = None,
) -> S3BucketLifecycleConfiguration:
    """Non-current versions expire, incomplete uploads are aborted; optionally current objects
    expire and/or move to Glacier Flexible Retrieval."""
    rule = S3BucketLifecycleConfigurationRule(
        id="retention",
        status="Enabled",
        filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
        abort_incomplete_multipart_upload=[
            S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                days_after_initiation=ABORT_MULTIPART_AFTER_DAYS
            )
        ],
        noncurrent_version_expiration=[
            S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=noncurrent_days)
        ],
        expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=expire_current_days)]
        if expire_current_days
        else None,
        transition=[S3BucketLifecycleConfigurationRuleTransition(days=archive_after_days, storage_class="GLACIER")]
        if archive_after_days
        else None,
    )
    return S3BucketLifecycleConfiguration(scope, id, bucket=bucket.id, rule=[rule], provider=provider)

"""Log archive: the security account's immutable sink for every account's audit trail.

What it creates
    - A bucket `<name>-log-archive-<account>` with Object Lock (default retention in
      `object_lock_mode` for `object_lock_retention_days`), its own rotating KMS key,
      versioning, no public access and no ACLs. Its policy refuses non-TLS requests, admits
      writes only from CloudTrail and AWS Config (for the organisation's accounts) and from
      this account's own Config recorder role (same-account delivery uses the role), and
      denies every object delete and retention bypass, whoever asks. Objects move to Glacier after
      `archive_after_days` and expire when their retention ends.
    - This account's multi-region CloudTrail with log-file validation, KMS, global service
      events and S3 data events, also delivered to a KMS-encrypted CloudWatch Logs group (for
      metric filters and quick queries). The other accounts run account trails of their own
      into this bucket (modules/guardrails). With `organization_trail` it becomes the
      organization's trail instead, whose ARN is the management account's (CloudTrail names
      an organization trail created by a delegated administrator so); the loader refuses that
      until a workspace manages the organization.
    - The key's alias `alias/<project>-log-archive`, by which the other accounts' trails name it.
    - An AWS Config aggregator over the organisation's accounts, in every region (a region
      nobody uses is exactly where an intruder would start).

Assumptions
    Member accounts deliver Config snapshots here (their `guardrails:`), with the bucket's
    default KMS encryption.

Defaults and why
    COMPLIANCE mode: nobody, root included, can delete a log or shorten its retention before
    it ends — the point of a log archive. Tear-downs therefore only work on an empty bucket
    (the local target never delivers logs into it; see README "Tearing down").
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudtrail import Cloudtrail, CloudtrailEventSelector, CloudtrailEventSelectorDataResource
from cdktf_cdktf_provider_aws.config_configuration_aggregator import (
    ConfigConfigurationAggregator,
    ConfigConfigurationAggregatorAccountAggregationSource,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.s3_bucket_object_lock_configuration import (
    S3BucketObjectLockConfigurationA,
    S3BucketObjectLockConfigurationRuleA,
    S3BucketObjectLockConfigurationRuleDefaultRetentionA,
)
from constructs import Construct

from modules.buckets import bucket_policy, retention_lifecycle, secure_bucket
from modules.kms import customer_key
from modules.logs import encrypted_log_group
from modules.names import (  # noqa: F401 (re-exported)
    log_archive_bucket_name,
    log_archive_key_alias,
    log_archive_trail_name,
)
from modules.outputs import export
from modules.policy import skip_check
from modules.roles import inline_policy, service_trust


@dataclass(frozen=True)
class LogArchiveProps:
    name: str
    """Name prefix, e.g. `surgepress-security`."""
    project: str
    """The bucket is `<project>-log-archive-<account>`, which member workspaces derive."""
    account_id: str
    """The security account."""
    region: str
    """Home region of the trail and the aggregator."""
    member_account_ids: tuple[str, ...]
    """Every account that delivers here (this one included)."""
    object_lock_mode: str = "COMPLIANCE"
    object_lock_retention_days: int = 365
    archive_after_days: int = 90
    trail_log_retention_days: int = 365
    organization_trail: bool = False
    management_account_id: str | None = None
    """The organization's management account: an organization trail's ARN is in it."""
    config_role_arn: str | None = None
    """This account's own Config recorder role, which delivers here (same-account delivery)."""


class LogArchive(Construct):
    def __init__(self, scope: Construct, id: str, *, props: LogArchiveProps) -> None:
        super().__init__(scope, id)
        if props.archive_after_days >= props.object_lock_retention_days:
            raise ValueError(
                f"LogArchiveProps.archive_after_days: must be below object_lock_retention_days "
                f"({props.object_lock_retention_days}), got {props.archive_after_days!r}"
            )
        bucket_name = log_archive_bucket_name(props.project, props.account_id)
        if props.organization_trail and not props.management_account_id:
            raise ValueError("LogArchiveProps.management_account_id: an organization trail's ARN is in it, got None")
        trail_name = log_archive_trail_name(props.project, props.organization_trail)
        trail_account = props.management_account_id if props.organization_trail else props.account_id
        trail_arn = f"arn:aws:cloudtrail:{props.region}:{trail_account}:trail/{trail_name}"
        accounts = sorted(props.member_account_ids)
        tags = {"Name": bucket_name, "Purpose": "log-archive"}
        self.key = customer_key(
            self,
            "key",
            description=f"{bucket_name} audit logs",
            account_id=props.account_id,
            tags=tags,
            statements=(
                {
                    "Sid": "CloudTrailEncryptsLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "kms:GenerateDataKey*",
                    "Resource": "*",
                    "Condition": {
                        "StringLike": {
                            "kms:EncryptionContext:aws:cloudtrail:arn": [
                                f"arn:aws:cloudtrail:*:{account}:trail/*" for account in accounts
                            ]
                        }
                    },
                },
                {
                    # CloudTrail describes the key without an encryption context (CloudTrail's
                    # required KMS key policy section "Allow CloudTrail to describe key").
                    "Sid": "CloudTrailDescribesKey",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "kms:DescribeKey",
                    "Resource": "*",
                },
                {
                    "Sid": "ConfigEncryptsSnapshots",
                    "Effect": "Allow",
                    "Principal": {"Service": "config.amazonaws.com"},
                    "Action": ["kms:GenerateDataKey*", "kms:Decrypt", "kms:DescribeKey"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": accounts}},
                },
            ),
        )
        KmsAlias(self, "key-alias", name=log_archive_key_alias(props.project), target_key_id=self.key.key_id)
        self.bucket = secure_bucket(
            self, "bucket", name=bucket_name, kms_key_arn=self.key.arn, tags=tags, object_lock=True
        )
        skip_check(
            self.bucket,
            {
                "CKV_AWS_18": "the log archive is the terminal bucket: its own access is recorded by this account's "
                "trail's S3 data events, and access logs would need yet another bucket",
                "CKV_AWS_144": "a second immutable copy in another region is not required for audit logs here; "
                "Object Lock already makes them undeletable",
                "CKV2_AWS_62": "nothing consumes object events from the log archive",
                "CKV_AWS_21": "Object Lock turns versioning on at creation and for good (S3 refuses to change it), "
                "so no versioning resource may manage it",
            },
        )
        retention = S3BucketObjectLockConfigurationRuleDefaultRetentionA(
            mode=props.object_lock_mode, days=props.object_lock_retention_days
        )
        S3BucketObjectLockConfigurationA(
            self,
            "object-lock",
            bucket=self.bucket.id,
            rule=S3BucketObjectLockConfigurationRuleA(default_retention=retention),
        )
        arn = self.bucket.arn
        delivered = {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceAccount": accounts}}
        self.policy = bucket_policy(
            self,
            "policy",
            self.bucket,
            [
                {
                    "Sid": "CloudTrailAndConfigCheckTheBucket",
                    "Effect": "Allow",
                    "Principal": {"Service": ["cloudtrail.amazonaws.com", "config.amazonaws.com"]},
                    "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                    "Resource": arn,
                    "Condition": {"StringEquals": {"aws:SourceAccount": accounts}},
                },
                {
                    "Sid": "CloudTrailDelivers",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"{arn}/AWSLogs/*",
                    "Condition": delivered,
                },
                {
                    "Sid": "ConfigDelivers",
                    "Effect": "Allow",
                    "Principal": {"Service": "config.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"{arn}/AWSLogs/*/Config/*",
                    "Condition": delivered,
                },
                {
                    "Sid": "OnlyCloudTrailAndConfigWrite",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": f"{arn}/*",
                    "Condition": {
                        "StringNotEqualsIfExists": {
                            "aws:PrincipalServiceName": ["cloudtrail.amazonaws.com", "config.amazonaws.com"]
                        },
                        **(
                            {"ArnNotEquals": {"aws:PrincipalArn": [props.config_role_arn]}}
                            if props.config_role_arn
                            else {}
                        ),
                    },
                },
                {
                    "Sid": "NothingIsDeleted",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": [
                        "s3:DeleteObject",
                        "s3:DeleteObjectVersion",
                        "s3:BypassGovernanceRetention",
                        "s3:PutObjectRetention",
                        "s3:PutObjectLegalHold",
                    ],
                    "Resource": f"{arn}/*",
                },
            ],
        )
        retention_lifecycle(
            self,
            "lifecycle",
            self.bucket,
            noncurrent_days=props.object_lock_retention_days,
            expire_current_days=props.object_lock_retention_days,
            archive_after_days=props.archive_after_days,
        )

        group, _ = encrypted_log_group(
            self,
            key_id="trail-logs-key",
            group_id="trail-logs",
            name=f"/aws/cloudtrail/{trail_name}",
            region=props.region,
            account_id=props.account_id,
            retention_days=props.trail_log_retention_days,
            description=f"{trail_name} CloudWatch Logs copy",
            tags=tags,
        )
        role = IamRole(
            self,
            "trail-logs-role",
            name=f"{props.name}-trail-logs",
            tags=tags,
            assume_role_policy=service_trust("cloudtrail.amazonaws.com", source_arn=trail_arn),
        )
        inline_policy(
            self,
            "trail-logs-policy",
            role=role.id,
            name="deliver-to-log-group",
            statements=[
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{group.arn}:log-stream:*",
                }
            ],
        )
        self.trail = Cloudtrail(
            self,
            "trail",
            name=trail_name,
            s3_bucket_name=self.bucket.id,
            kms_key_id=self.key.arn,
            is_multi_region_trail=True,
            is_organization_trail=props.organization_trail,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            cloud_watch_logs_group_arn=f"{group.arn}:*",
            cloud_watch_logs_role_arn=role.arn,
            event_selector=[
                CloudtrailEventSelector(
                    read_write_type="All",
                    include_management_events=True,
                    data_resource=[CloudtrailEventSelectorDataResource(type="AWS::S3::Object", values=["arn:aws:s3"])],
                )
            ],
            depends_on=[self.policy],
            tags=tags,
        )
        skip_check(
            self.trail,
            {
                "CKV_AWS_252": "no subscriber needs a notice per delivered log file; findings reach SNS through "
                "GuardDuty and Security Hub (guardrails)",
            },
        )
        ConfigConfigurationAggregator(
            self,
            "aggregator",
            name=f"{props.project}-organization",
            tags=tags,
            account_aggregation_source=ConfigConfigurationAggregatorAccountAggregationSource(
                account_ids=accounts, all_regions=True
            ),
        )
        export(
            self,
            {
                "log_archive_bucket_name": self.bucket.bucket,
                "log_archive_kms_key_arn": self.key.arn,
                "trail_arn": self.trail.arn,
            },
        )

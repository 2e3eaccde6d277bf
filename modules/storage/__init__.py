"""Storage: the platform's S3 buckets — media, misc and logs.

What it creates
    Three buckets named `<name>-<purpose>-<account>-<region>` (globally unique without a
    random suffix, so names are stable and predictable), each versioned, with all four
    public-access blocks, bucket-owner ownership, a TLS-only bucket policy and lifecycle
    rules; a customer-managed KMS key for the data buckets. `media` (WordPress uploads,
    served later through CloudFront) and `misc` (backups, exports) write server access
    logs into `logs`.

Defaults and why
    - media and misc use SSE-KMS with the module's rotating key and S3 Bucket Keys (one KMS
      call per object burst instead of per request, which matters under a news surge).
    - logs uses SSE-S3: S3 server access logging (and, later, ALB access logs) can only
      deliver into SSE-S3 buckets. It is never served, only retained.
    - Non-current versions expire after `noncurrent_version_expiration_days` (deleted or
      overwritten media stays recoverable for that long); logs expire after
      `log_retention_days`; incomplete multipart uploads are aborted after 7 days.
    - `enable_force_destroy` is off: Terraform cannot delete a bucket that holds objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_logging import S3BucketLoggingA
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from constructs import Construct

from modules.buckets import bucket_policy, bucket_policy_document, retention_lifecycle, secure_bucket
from modules.kms import customer_key, key_policy
from modules.names import DATA_BUCKETS, LOGS_BUCKET, bucket_name  # noqa: F401 (re-exported)
from modules.outputs import export
from modules.policy import skip_check
from modules.roles import PlatformRole
from surgepress.regions import elb_log_principal

ALB_LOG_PREFIX = "alb"  # load balancer access logs land under logs/alb/AWSLogs/<account>/


def key_alias(name: str) -> str:
    """The data buckets' key alias (how a replica's replication role finds the source key)."""
    return f"alias/{name}-buckets"


@dataclass(frozen=True)
class StorageProps:
    name: str
    """Bucket name prefix, e.g. `surgepress-staging`."""
    account_id: str
    """Owner account: part of each bucket name, and the only source allowed to log here."""
    region: str
    """Region of the buckets: part of each bucket name."""
    noncurrent_version_expiration_days: int = 90
    """How long overwritten or deleted objects stay recoverable in media and misc."""
    log_retention_days: int = 365
    """How long access logs are kept in the logs bucket."""
    enable_force_destroy: bool = False
    """Let Terraform delete buckets that still hold objects (never in production)."""
    role: PlatformRole = PlatformRole.PRIMARY
    """Primary or secondary (DR) copy; recorded as the `PlatformRole` tag."""


class Storage(Construct):
    def __init__(self, scope: Construct, id: str, *, props: StorageProps) -> None:
        super().__init__(scope, id)
        for field_name in ("noncurrent_version_expiration_days", "log_retention_days"):
            if getattr(props, field_name) < 1:
                raise ValueError(f"StorageProps.{field_name}: expected 1 or more, got {getattr(props, field_name)!r}")
        self._props = props
        self.key = customer_key(
            self,
            "key",
            description=f"{props.name} bucket data",
            account_id=props.account_id,
            tags=self._tags(f"{props.name}-buckets"),
        )
        KmsAlias(self, "key-alias", name=key_alias(props.name), target_key_id=self.key.key_id)
        self.buckets: dict[str, S3Bucket] = {}
        self.policies: dict[str, S3BucketPolicy] = {}
        logs = self._bucket(LOGS_BUCKET, kms=False)
        skip_check(
            logs,
            {
                "CKV_AWS_145": "S3 server access logs and ALB access logs can only be delivered to SSE-S3 buckets",
                "CKV_AWS_144": "access logs describe this region's own traffic; only the data buckets are replicated",
                "CKV2_AWS_62": "nothing consumes events from the access-log bucket",
            },
        )
        log_delivery = self._policy(
            LOGS_BUCKET,
            [
                {
                    "Sid": "S3ServerAccessLogDelivery",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"{logs.arn}/s3/*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": props.account_id}},
                },
                {
                    "Sid": "LoadBalancerAccessLogDelivery",
                    "Effect": "Allow",
                    "Principal": elb_log_principal(props.region),
                    "Action": "s3:PutObject",
                    "Resource": f"{logs.arn}/{ALB_LOG_PREFIX}/AWSLogs/{props.account_id}/*",
                },
                {
                    "Sid": "CloudFrontAccessLogDelivery",
                    "Effect": "Allow",
                    "Principal": {"Service": "delivery.logs.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"{logs.arn}/AWSLogs/{props.account_id}/CloudFront/*",
                    "Condition": {
                        "StringEquals": {
                            "aws:SourceAccount": props.account_id,
                            "s3:x-amz-acl": "bucket-owner-full-control",
                        }
                    },
                },
            ],
        )
        self._lifecycle(
            LOGS_BUCKET,
            expire_current_days=props.log_retention_days,
            noncurrent_days=props.noncurrent_version_expiration_days,
        )

        for purpose in DATA_BUCKETS:
            bucket = self._bucket(purpose, kms=True)
            skip_check(
                bucket,
                {
                    "CKV_AWS_144": "a replica's workspace (dr) configures the replication of both sides' data "
                    "buckets (modules/replication); an environment without a replica (staging) "
                    "needs none",
                    "CKV2_AWS_62": "no consumer of object events exists yet; WordPress writes and reads directly",
                },
            )
            # S3 refuses a logging target whose policy does not yet admit log delivery.
            S3BucketLoggingA(
                self,
                f"{purpose}-logging",
                bucket=bucket.id,
                target_bucket=logs.id,
                target_prefix=f"s3/{purpose}/",
                depends_on=[log_delivery],
            )
            self.policies[purpose] = self._policy(purpose, [])
            self._lifecycle(purpose, expire_current_days=None, noncurrent_days=props.noncurrent_version_expiration_days)
        self._outputs()

    def grant_distribution_read(self, distribution_arn: str, purpose: str = "media") -> None:
        """Let one CloudFront distribution (through origin access control) read a data bucket.

        A replica's bucket is read by its source's distribution, whose id it cannot know: it
        passes `arn:aws:cloudfront::<account>:distribution/*`, the account's distributions.

        The key admits the account's distributions, the bucket policy only this one: a read needs
        both, so no other distribution gets an object. Naming the distribution in the key policy
        would make the key (and everything encrypted with it, and a replica that reads its
        alias) wait for the distribution's creation: about 40 s of a deploy's critical path."""
        bucket = self.buckets[purpose]
        operator = "ArnLike" if distribution_arn.endswith("*") else "StringEquals"
        source = {operator: {"AWS:SourceArn": distribution_arn}}
        account_distributions = {
            "ArnLike": {"AWS:SourceArn": f"arn:aws:cloudfront::{self._props.account_id}:distribution/*"}
        }
        self.policies[purpose].policy = self._document(
            purpose,
            [
                {
                    "Sid": "CloudFrontOriginAccessControlReads",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudfront.amazonaws.com"},
                    "Action": "s3:GetObject",
                    "Resource": f"{bucket.arn}/*",
                    "Condition": source,
                }
            ],
        )
        self.key.policy = key_policy(
            self._props.account_id,
            (
                {
                    "Sid": "CloudFrontDecryptsForTheAccountsDistributions",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudfront.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": account_distributions,
                },
            ),
        )

    def _tags(self, name: str) -> dict[str, str]:
        return {"Name": name, "PlatformRole": self._props.role.value}

    def _bucket(self, purpose: str, *, kms: bool) -> S3Bucket:
        props = self._props
        name = bucket_name(props.name, purpose, props.account_id, props.region)
        bucket = secure_bucket(
            self,
            purpose,
            name=name,
            kms_key_arn=self.key.arn if kms else None,
            force_destroy=props.enable_force_destroy,
            tags={**self._tags(name), "Purpose": purpose},
        )
        self.buckets[purpose] = bucket
        return bucket

    def _document(self, purpose: str, statements: list[dict]) -> str:
        return bucket_policy_document(self.buckets[purpose].arn, statements)

    def _policy(self, purpose: str, statements: list[dict]) -> S3BucketPolicy:
        return bucket_policy(self, f"{purpose}-policy", self.buckets[purpose], statements)

    def _lifecycle(self, purpose: str, *, expire_current_days: int | None, noncurrent_days: int) -> None:
        retention_lifecycle(
            self,
            f"{purpose}-lifecycle",
            self.buckets[purpose],
            noncurrent_days=noncurrent_days,
            expire_current_days=expire_current_days,
        )

    def _outputs(self) -> None:
        export(
            self,
            {
                f"{purpose}_bucket_{attribute}": value
                for purpose, bucket in self.buckets.items()
                for attribute, value in (("name", bucket.bucket), ("arn", bucket.arn))
            },
        )
        export(self, {"buckets_kms_key_arn": self.key.arn})

"""Replication: a source region's data buckets copied into this region's replicas.

What it creates
    For each purpose (`media`, `misc`): a replication configuration on the *source* bucket
    (written through the source region's provider) that copies every new object version
    and delete marker into this region's bucket, re-encrypted with this region's key; and
    the same rule back, on this region's bucket into the source's, so what is written while
    this region serves is there for the failback. S3 never replicates a replica again, so
    the pair does not loop. One IAM role for S3, allowed exactly that: read versions from
    the buckets, replicate into their counterparts, decrypt and encrypt with the two keys.

Defaults and why
    - Replication Time Control (15 minutes) and replication metrics: RTC is the SLA that
      turns "eventually" into a recovery point objective; its metrics (pending bytes and
      operations, latency) are what the drill's preflight reads as replication lag.
    - Delete markers are replicated: a deleted upload must not reappear after a failover.
    - Only SSE-KMS objects exist in the source buckets, so the rule selects them and the
      replica key encrypts the copies.

Who owns it
    The replica workspace (`dr`) owns these configurations, although they sit on the source
    bucket: the replica buckets must exist first, and the source deploys before its replica.
    The source buckets, their key (found by alias) and the replicas are in one account.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.data_aws_kms_alias import DataAwsKmsAlias
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_replication_configuration import (
    S3BucketReplicationConfigurationA,
    S3BucketReplicationConfigurationRule,
    S3BucketReplicationConfigurationRuleDeleteMarkerReplication,
    S3BucketReplicationConfigurationRuleDestination,
    S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration,
    S3BucketReplicationConfigurationRuleDestinationMetrics,
    S3BucketReplicationConfigurationRuleDestinationMetricsEventThreshold,
    S3BucketReplicationConfigurationRuleDestinationReplicationTime,
    S3BucketReplicationConfigurationRuleDestinationReplicationTimeTime,
    S3BucketReplicationConfigurationRuleFilter,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteria,
)
from cdktf_cdktf_provider_aws.s3_bucket_replication_configuration import (
    S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects as KmsEncryptedObjects,
)
from constructs import Construct

from modules.outputs import export
from modules.roles import PlatformRole, inline_policy, service_trust
from modules.storage import bucket_name, key_alias

REPLICATION_TIME_MINUTES = 15  # the only value S3 Replication Time Control accepts


@dataclass(frozen=True)
class ReplicationProps:
    name: str
    """Resource name prefix of this (replica) side, e.g. `surgepress-dr`."""
    account_id: str
    """The one account of the source and replica buckets."""
    source_name: str
    """The source storage's name prefix, e.g. `surgepress-production`."""
    source_region: str
    """Region of the source buckets."""
    source_provider: TerraformProvider
    """Provider in the source region (the configurations and the key lookup use it)."""
    replicas: dict[str, S3Bucket]
    """This region's buckets by purpose, already versioned."""
    replica_key_arn: str
    """This region's bucket key: replicas are encrypted with it."""
    role: PlatformRole = PlatformRole.SECONDARY
    """Recorded as the `PlatformRole` tag."""


class Replication(Construct):
    def __init__(self, scope: Construct, id: str, *, props: ReplicationProps, depends_on: list) -> None:
        super().__init__(scope, id)
        if not props.replicas:
            raise ValueError("ReplicationProps.replicas: expected at least one bucket to replicate into")
        tags = {"Name": f"{props.name}-replication", "PlatformRole": props.role.value}
        source_key = DataAwsKmsAlias(
            self, "source-key", name=key_alias(props.source_name), provider=props.source_provider
        )
        sources = {
            purpose: bucket_name(props.source_name, purpose, props.account_id, props.source_region)
            for purpose in props.replicas
        }
        source_arns = [f"arn:aws:s3:::{name}" for name in sources.values()]
        replica_arns = [bucket.arn for bucket in props.replicas.values()]
        both = [*source_arns, *replica_arns]
        self.role = IamRole(
            self,
            "role",
            name=f"{props.name}-s3-replication",
            tags=tags,
            assume_role_policy=service_trust("s3.amazonaws.com", source_account=props.account_id),
        )
        inline_policy(
            self,
            "policy",
            role=self.role.id,
            name="replicate-between-regions",
            statements=[
                {
                    "Sid": "ReadConfiguration",
                    "Effect": "Allow",
                    "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                    "Resource": both,
                },
                {
                    "Sid": "ReadVersions",
                    "Effect": "Allow",
                    "Action": [
                        "s3:GetObjectVersionForReplication",
                        "s3:GetObjectVersionAcl",
                        "s3:GetObjectVersionTagging",
                    ],
                    "Resource": [f"{arn}/*" for arn in both],
                },
                {
                    "Sid": "WriteReplicas",
                    "Effect": "Allow",
                    "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                    "Resource": [f"{arn}/*" for arn in both],
                },
                {
                    "Sid": "DecryptAndEncrypt",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                    "Resource": [source_key.target_key_arn, props.replica_key_arn],
                },
            ],
        )
        self.configurations = {}
        for purpose, replica in props.replicas.items():
            # Forward: what the source writes reaches this region within RTC's 15 minutes.
            self.configurations[purpose] = self._configuration(
                f"{purpose}-replication",
                bucket=sources[purpose],
                destination_arn=replica.arn,
                destination_key_arn=props.replica_key_arn,
                rule_id=f"to-{props.name}",
                provider=props.source_provider,
                depends_on=depends_on,
            )
            # Back: what this region writes while it serves is in the source's bucket for the failback.
            self.configurations[f"{purpose}-back"] = self._configuration(
                f"{purpose}-replication-back",
                bucket=replica.bucket,
                destination_arn=f"arn:aws:s3:::{sources[purpose]}",
                destination_key_arn=source_key.target_key_arn,
                rule_id=f"to-{props.source_name}",
                provider=None,
                depends_on=depends_on,
            )
        export(
            self,
            {
                "replication_role_arn": self.role.arn,
                "replicated_buckets": {sources[p]: props.replicas[p].bucket for p in props.replicas},
            },
        )

    def _configuration(
        self,
        id: str,
        *,
        bucket: str,
        destination_arn: str,
        destination_key_arn: str,
        rule_id: str,
        provider: TerraformProvider | None,
        depends_on: list,
    ) -> S3BucketReplicationConfigurationA:
        return S3BucketReplicationConfigurationA(
            self,
            id,
            bucket=bucket,
            role=self.role.arn,
            provider=provider,
            depends_on=depends_on,
            rule=[
                S3BucketReplicationConfigurationRule(
                    id=rule_id,
                    status="Enabled",
                    filter=S3BucketReplicationConfigurationRuleFilter(prefix=""),
                    delete_marker_replication=S3BucketReplicationConfigurationRuleDeleteMarkerReplication(
                        status="Enabled"
                    ),
                    source_selection_criteria=S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
                        sse_kms_encrypted_objects=KmsEncryptedObjects(status="Enabled")
                    ),
                    destination=S3BucketReplicationConfigurationRuleDestination(
                        bucket=destination_arn,
                        storage_class="STANDARD",
                        encryption_configuration=S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                            replica_kms_key_id=destination_key_arn
                        ),
                        metrics=S3BucketReplicationConfigurationRuleDestinationMetrics(
                            status="Enabled",
                            event_threshold=S3BucketReplicationConfigurationRuleDestinationMetricsEventThreshold(
                                minutes=REPLICATION_TIME_MINUTES
                            ),
                        ),
                        replication_time=S3BucketReplicationConfigurationRuleDestinationReplicationTime(
                            status="Enabled",
                            time=S3BucketReplicationConfigurationRuleDestinationReplicationTimeTime(
                                minutes=REPLICATION_TIME_MINUTES
                            ),
                        ),
                    ),
                )
            ],
        )

"""Cache: ElastiCache Redis (OSS) replication group, WordPress's object cache.

What it creates
    A replication group of `node_count` nodes (one primary, the rest replicas) spread over
    the data-tier AZs with automatic failover and Multi-AZ, encrypted at rest with a
    customer-managed key and in transit (TLS required), an AUTH token read from SSM,
    daily snapshots kept `snapshot_retention_days`, slow-log delivery into a KMS-encrypted
    log group, and a security group that admits 6379 only from the client groups given
    through `allow_from` (the WordPress service).

The AUTH token
    hashicorp/aws 5.100 has no write-only argument for it (`auth_token` and
    `auth_token_update_strategy` only; `terraform providers schema` shows no `*_wo`), and an
    ephemeral value may feed nothing but a write-only argument, so it cannot be read the way
    the database password is (ephemeral SSM into `master_password_wo`). It is read from its
    SecureString at apply time (a data source) and kept, marked sensitive, in the Terraform
    state — never in synthesized JSON. The state is the encrypted, access-controlled remote
    state of the account (or the local build directory, which git ignores). The integration
    check `test_secrets_are_generated_into_ssm_and_nowhere_else` names exactly the secrets
    that may sit in state (this token and CloudFront's origin header, which has no
    write-only argument either) and fails on any other.

Defaults and why
    - Two nodes minimum: with one, a node failure is a cache-wide outage and every
      request of a surge lands on Aurora at once. The config loader refuses fewer.
    - `cache.t4g.small` and Redis 7.1: the object cache of a news site is small and hot;
      memory, not CPU, is the constraint, and Graviton is the cheaper price per GiB.
    - Snapshots are kept 7 days: the object cache can be rebuilt from Aurora, so the
      snapshots are for a quick warm start after a failover drill, not for durability.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from cdktf_cdktf_provider_aws.elasticache_replication_group import (
    ElasticacheReplicationGroup,
    ElasticacheReplicationGroupLogDeliveryConfiguration,
)
from cdktf_cdktf_provider_aws.elasticache_subnet_group import ElasticacheSubnetGroup
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from constructs import Construct

from modules.kms import customer_key
from modules.logs import encrypted_log_group
from modules.outputs import export
from modules.roles import PlatformRole
from modules.security_groups import allow_tcp_from

REDIS_PORT = 6379
MIN_NODES = 2


@dataclass(frozen=True)
class CacheProps:
    name: str
    """Replication group id and resource name prefix, e.g. `surgepress-staging`."""
    account_id: str
    """Account that administers the cache keys."""
    region: str
    """Region of the slow-log group (its key policy names it)."""
    vpc_id: str
    """VPC of the cache's security group."""
    subnet_ids: list[str]
    """Isolated data subnets, one per AZ."""
    availability_zones: tuple[str, ...]
    """AZs the primary and replicas are placed in, in this order (round robin)."""
    auth_token_parameter_name: str
    """Name of the SSM SecureString holding the AUTH token (made by the secrets module)."""
    engine_version: str = "7.1"
    """Redis OSS engine version."""
    node_type: str = "cache.t4g.small"
    """Node type of every node."""
    node_count: int = 2
    """Primary plus replicas; 2 or more (failover needs a replica)."""
    snapshot_retention_days: int = 7
    """Daily snapshots kept this many days."""
    log_retention_days: int = 30
    """Slow-log retention in CloudWatch Logs."""
    client_security_group_ids: tuple[str, ...] = field(default_factory=tuple)
    """Security groups allowed on 6379 from the start (more through `allow_from`)."""
    role: PlatformRole = PlatformRole.PRIMARY
    """Primary or secondary (DR) copy; recorded as the `PlatformRole` tag."""


class Cache(Construct):
    def __init__(self, scope: Construct, id: str, *, props: CacheProps) -> None:
        super().__init__(scope, id)
        if props.node_count < MIN_NODES:
            raise ValueError(f"CacheProps.node_count: expected {MIN_NODES} or more, got {props.node_count!r}")
        if props.snapshot_retention_days < 1:
            raise ValueError(
                f"CacheProps.snapshot_retention_days: expected 1 or more, got {props.snapshot_retention_days!r}"
            )
        tags = {"Name": props.name, "PlatformRole": props.role.value}
        self.key = customer_key(
            self, "key", description=f"{props.name} cache at rest", account_id=props.account_id, tags=tags
        )
        slow_log, _ = encrypted_log_group(
            self,
            key_id="slow-log-key",
            group_id="slow-log",
            name=f"/elasticache/{props.name}/slow-log",
            region=props.region,
            account_id=props.account_id,
            retention_days=props.log_retention_days,
            description=f"{props.name} cache slow log",
            tags=tags,
        )
        subnets = ElasticacheSubnetGroup(
            self, "subnets", name=f"{props.name}-cache", subnet_ids=props.subnet_ids, description="data tier", tags=tags
        )
        self.security_group = SecurityGroup(
            self,
            "sg",
            name=f"{props.name}-cache",
            vpc_id=props.vpc_id,
            description="Redis: 6379 from the WordPress service only",
            tags=tags,
        )
        for i, client in enumerate(props.client_security_group_ids):
            self.allow_from(f"client-{i}", client)

        token = DataAwsSsmParameter(self, "auth-token", name=props.auth_token_parameter_name, with_decryption=True)
        self.replication_group = ElasticacheReplicationGroup(
            self,
            "redis",
            replication_group_id=props.name,
            description=f"{props.name} WordPress object cache",
            engine="redis",
            engine_version=props.engine_version,
            node_type=props.node_type,
            num_cache_clusters=props.node_count,
            preferred_cache_cluster_azs=[
                props.availability_zones[i % len(props.availability_zones)] for i in range(props.node_count)
            ],
            port=REDIS_PORT,
            subnet_group_name=subnets.name,
            security_group_ids=[self.security_group.id],
            automatic_failover_enabled=True,
            multi_az_enabled=True,
            at_rest_encryption_enabled="true",
            kms_key_id=self.key.arn,
            transit_encryption_enabled=True,
            auth_token=token.value,
            snapshot_retention_limit=props.snapshot_retention_days,
            snapshot_window="01:00-02:00",
            maintenance_window="sun:04:30-sun:05:30",
            auto_minor_version_upgrade="true",
            apply_immediately=False,
            log_delivery_configuration=[
                ElasticacheReplicationGroupLogDeliveryConfiguration(
                    destination=slow_log.name,
                    destination_type="cloudwatch-logs",
                    log_format="json",
                    log_type="slow-log",
                )
            ],
            tags=tags,
        )
        # ElastiCache names the nodes of a cluster-mode-disabled group <group>-001, -002, …
        self.member_ids = tuple(f"{props.name}-{i + 1:03d}" for i in range(props.node_count))
        outputs = {
            "cache_primary_endpoint_address": self.replication_group.primary_endpoint_address,
            "cache_reader_endpoint_address": self.replication_group.reader_endpoint_address,
            "cache_port": self.replication_group.port,
            "cache_security_group_id": self.security_group.id,
        }
        export(self, outputs)

    def allow_from(self, id: str, security_group_id: str) -> None:
        """Admit Redis connections from one more client security group."""
        allow_tcp_from(
            self,
            id,
            security_group_id=self.security_group.id,
            client_security_group_id=security_group_id,
            port=REDIS_PORT,
            description=f"Redis from {id}",
        )

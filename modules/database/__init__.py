"""Database: Aurora MySQL 8.0 (3.x) for WordPress.

What it creates
    A cluster in the isolated data subnets with a writer and `reader_count` readers spread
    over the AZs, a security group that admits 3306 only from the given client groups
    (none until the service exists), a customer-managed KMS key for storage and
    Performance Insights, a cluster parameter group (utf8mb4, TLS required, audit and
    slow-query logging), log exports to CloudWatch, and an enhanced-monitoring role.

The master password
    Read at apply time from its SSM SecureString (made by the secrets module) through an
    *ephemeral* `aws_ssm_parameter` and handed over as the write-only
    `master_password_wo`: it is in neither the plan nor the state. Bumping
    `password_generation` (the secrets module's generation) sends the new value.

Defaults and why
    - Deletion protection on and a final snapshot on destroy: losing the newsroom's
      database must take two deliberate steps. Turning protection off is a named prop.
    - `capacity="serverless_v2"` swaps instance classes for `db.serverless` with an ACU
      range: the case study's "go serverless" option for spiky, cost-sensitive tiers.
    - Backtrack is not enabled: it cannot be used with Aurora Global Database, which the
      DR role needs; point-in-time restore covers the same mistakes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster, RdsClusterServerlessv2ScalingConfiguration
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.rds_cluster_parameter_group import (
    RdsClusterParameterGroup,
    RdsClusterParameterGroupParameter,
)
from cdktf_cdktf_provider_aws.rds_global_cluster import RdsGlobalCluster
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from constructs import Construct

from modules.kms import customer_key
from modules.outputs import export
from modules.policy import skip_check
from modules.roles import PlatformRole
from modules.security_groups import allow_tcp_from

MYSQL_PORT = 3306
CAPACITY_MODES = ("provisioned", "serverless_v2")
GLOBAL_CLUSTER_ROLES = ("none", "primary", "secondary")
CLUSTER_PARAMETERS = {
    "character_set_server": "utf8mb4",
    "collation_server": "utf8mb4_unicode_ci",
    "require_secure_transport": "ON",
    "server_audit_logging": "1",
    "server_audit_events": "CONNECT,QUERY_DCL,QUERY_DDL",
    "slow_query_log": "1",
    "long_query_time": "1",
}
LOG_EXPORTS = ["audit", "error", "slowquery"]
MONITORING_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"


@dataclass(frozen=True)
class DatabaseProps:
    name: str
    """Cluster identifier and resource name prefix, e.g. `surgepress-staging`."""
    account_id: str
    """Account that administers the database key."""
    vpc_id: str
    """VPC of the cluster's security group."""
    subnet_ids: list[str]
    """Isolated data subnets, one per AZ."""
    availability_zones: tuple[str, ...]
    """AZs the writer and readers are spread over, in this order."""
    master_password_parameter_arn: str
    """ARN of the SSM SecureString holding the master password (read ephemerally at apply)."""
    password_generation: int = 1
    """Write-only version of the password: bump when the parameter was regenerated."""
    engine_version: str = "8.0.mysql_aurora.3.08.0"
    """Aurora MySQL 3.x engine version."""
    capacity: str = "provisioned"
    """`provisioned` (instance_class) or `serverless_v2` (db.serverless with an ACU range)."""
    instance_class: str = "db.r6g.large"
    """Instance class when provisioned."""
    serverless_min_acu: float = 0.5
    """Lowest Aurora capacity units when serverless_v2."""
    serverless_max_acu: float = 16
    """Highest Aurora capacity units when serverless_v2 (the surge ceiling)."""
    reader_count: int = 1
    """Readers besides the writer, placed in the following AZs."""
    backup_retention_days: int = 7
    """Automated backup retention (point-in-time restore window)."""
    enable_deletion_protection: bool = True
    """Refuse DeleteDBCluster; off only where the data is disposable (staging)."""
    client_security_group_ids: tuple[str, ...] = field(default_factory=tuple)
    """Security groups allowed to connect on 3306 (the WordPress service)."""
    database_name: str = "wordpress"
    """Schema created with the cluster."""
    master_username: str = "wpadmin"
    """Master user name (not a secret)."""
    global_cluster: str = "none"
    """Aurora Global Database: `none`; `primary` creates `<name>-global` around this cluster;
    `secondary` joins `global_cluster_identifier` as a read-only cluster (the DR role)."""
    global_cluster_identifier: str | None = None
    """The global cluster a `secondary` joins (the primary workspace's output)."""
    role: PlatformRole = PlatformRole.PRIMARY
    """Primary or secondary (DR) copy; recorded as the `PlatformRole` tag."""
    backup_by_tag: bool = False
    """The workspace's AWS Backup plan selects this cluster by its tag (modules/backup)."""


class Database(Construct):
    def __init__(self, scope: Construct, id: str, *, props: DatabaseProps) -> None:
        super().__init__(scope, id)
        if props.capacity not in CAPACITY_MODES:
            raise ValueError(f"DatabaseProps.capacity: expected one of {CAPACITY_MODES}, got {props.capacity!r}")
        if props.global_cluster not in GLOBAL_CLUSTER_ROLES:
            raise ValueError(
                f"DatabaseProps.global_cluster: expected one of {GLOBAL_CLUSTER_ROLES}, got {props.global_cluster!r}"
            )
        if (props.global_cluster == "secondary") != bool(props.global_cluster_identifier):
            raise ValueError(
                "DatabaseProps.global_cluster_identifier: needed exactly when global_cluster is "
                f"'secondary', got {props.global_cluster_identifier!r}"
            )
        if props.reader_count < 0 or props.backup_retention_days < 1:
            raise ValueError(
                f"DatabaseProps: reader_count >= 0 and backup_retention_days >= 1, got "
                f"{props.reader_count!r} and {props.backup_retention_days!r}"
            )
        tags = {"Name": props.name, "PlatformRole": props.role.value}
        # Known before apply, and the same on a secondary (which inherits them from the global database).
        self.database_name, self.master_username = props.database_name, props.master_username
        self.key = customer_key(
            self,
            "key",
            description=f"{props.name} database storage and insights",
            account_id=props.account_id,
            tags=tags,
        )
        subnets = DbSubnetGroup(self, "subnets", name=f"{props.name}-data", subnet_ids=props.subnet_ids, tags=tags)
        self.security_group = SecurityGroup(
            self,
            "sg",
            name=f"{props.name}-database",
            vpc_id=props.vpc_id,
            description="Aurora MySQL: 3306 from the WordPress service only",
            tags=tags,
        )
        for i, client in enumerate(props.client_security_group_ids):
            self.allow_from(f"client-{i}", client)
        parameters = RdsClusterParameterGroup(
            self,
            "parameters",
            name=f"{props.name}-aurora-mysql8",
            family="aurora-mysql8.0",
            description="utf8mb4, TLS only, audit and slow-query logs",
            parameter=[
                RdsClusterParameterGroupParameter(name=k, value=v, apply_method="pending-reboot")
                for k, v in CLUSTER_PARAMETERS.items()
            ],
            tags=tags,
        )

        serverless = props.capacity == "serverless_v2"
        self.global_cluster = None
        if props.global_cluster == "primary":
            self.global_cluster = RdsGlobalCluster(
                self,
                "global",
                global_cluster_identifier=f"{props.name}-global",
                engine="aurora-mysql",
                engine_version=props.engine_version,
                storage_encrypted=True,
                deletion_protection=props.enable_deletion_protection,
            )
        self.cluster = RdsCluster(
            self,
            "cluster",
            cluster_identifier=props.name,
            engine="aurora-mysql",
            engine_version=props.engine_version,
            global_cluster_identifier=self.global_cluster.id
            if self.global_cluster
            else props.global_cluster_identifier,
            **self._credentials(id, props),
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[self.security_group.id],
            db_cluster_parameter_group_name=parameters.name,
            storage_encrypted=True,
            kms_key_id=self.key.arn,
            backup_retention_period=props.backup_retention_days,
            preferred_backup_window="02:00-03:00",
            preferred_maintenance_window="sun:03:30-sun:04:30",
            copy_tags_to_snapshot=True,
            deletion_protection=props.enable_deletion_protection,
            skip_final_snapshot=False,
            final_snapshot_identifier=f"{props.name}-final",
            enabled_cloudwatch_logs_exports=LOG_EXPORTS,
            iam_database_authentication_enabled=True,
            serverlessv2_scaling_configuration=RdsClusterServerlessv2ScalingConfiguration(
                min_capacity=props.serverless_min_acu, max_capacity=props.serverless_max_acu
            )
            if serverless
            else None,
            tags=tags,
        )
        in_global = props.global_cluster in ("primary", "secondary")
        reasons = {
            "CKV_AWS_326": "backtrack cannot be used with Aurora Global Database (the DR design); point-in-time "
            "restore covers the same mistakes"
            if in_global
            else "point-in-time restore (backup_retention_days) covers the same mistakes without backtrack's "
            "change-record charges",
        }
        if props.backup_by_tag:
            reasons["CKV2_AWS_8"] = (
                "AWS Backup selects this cluster by its Workspace tag (modules/backup); the check looks only "
                "for a selection that names the cluster's ARN"
            )
        elif props.global_cluster == "secondary":
            reasons["CKV2_AWS_8"] = (
                "a secondary of the global database holds the primary's data, whose recovery points the "
                "primary's backup plan copies into this region"
            )
        skip_check(self.cluster, reasons)
        if not props.enable_deletion_protection:
            skip_check(
                self.cluster,
                {
                    "CKV_AWS_139": "deletion protection is off by this environment's setting "
                    "(disposable data, switched off at night)"
                },
            )

        self._monitoring_and_instances(props, tags, serverless)

    def _credentials(self, id: str, props: DatabaseProps) -> dict:
        """Schema, user and password on a primary; a secondary inherits them from the global cluster."""
        if props.global_cluster == "secondary":
            return {}
        password = f"{id}_master_password".replace("-", "_")
        # cdktf 0.20 has no ephemeral-resource class; the block is written as-is.
        TerraformStack.of(self).add_override(
            f"ephemeral.aws_ssm_parameter.{password}",
            {
                "arn": props.master_password_parameter_arn,
                "with_decryption": True,
            },
        )
        return {
            "database_name": props.database_name,
            "master_username": props.master_username,
            "master_password_wo": f"${{ephemeral.aws_ssm_parameter.{password}.value}}",
            "master_password_wo_version": props.password_generation,
        }

    def _monitoring_and_instances(self, props: DatabaseProps, tags: dict, serverless: bool) -> None:
        trust = DataAwsIamPolicyDocument(
            self,
            "monitoring-trust",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    actions=["sts:AssumeRole"],
                    principals=[
                        DataAwsIamPolicyDocumentStatementPrincipals(
                            type="Service", identifiers=["monitoring.rds.amazonaws.com"]
                        )
                    ],
                )
            ],
        )
        monitoring = IamRole(
            self, "monitoring-role", name=f"{props.name}-rds-monitoring", assume_role_policy=trust.json, tags=tags
        )
        IamRolePolicyAttachment(self, "monitoring-policy", role=monitoring.name, policy_arn=MONITORING_POLICY)

        self.instances = [
            RdsClusterInstance(
                self,
                f"instance-{i}",
                identifier=f"{props.name}-{i}",
                cluster_identifier=self.cluster.id,
                engine=self.cluster.engine,
                engine_version=self.cluster.engine_version,
                instance_class="db.serverless" if serverless else props.instance_class,
                availability_zone=props.availability_zones[i % len(props.availability_zones)],
                publicly_accessible=False,
                auto_minor_version_upgrade=True,
                performance_insights_enabled=True,
                performance_insights_kms_key_id=self.key.arn,
                monitoring_interval=60,
                monitoring_role_arn=monitoring.arn,
                promotion_tier=i,
                tags=tags,
            )
            for i in range(1 + props.reader_count)
        ]
        outputs = {
            "cluster_identifier": self.cluster.cluster_identifier,
            "cluster_endpoint": self.cluster.endpoint,
            "cluster_reader_endpoint": self.cluster.reader_endpoint,
            "cluster_port": self.cluster.port,
            "cluster_database_name": self.cluster.database_name,
            "cluster_master_username": self.cluster.master_username,
            "database_security_group_id": self.security_group.id,
        }
        if self.global_cluster:
            outputs["global_cluster_identifier"] = self.global_cluster.id
        export(self, outputs)

    def allow_from(self, id: str, security_group_id: str) -> None:
        """Admit MySQL connections from one more client security group."""
        allow_tcp_from(
            self,
            id,
            security_group_id=self.security_group.id,
            client_security_group_id=security_group_id,
            port=MYSQL_PORT,
            description=f"MySQL from {id}",
        )

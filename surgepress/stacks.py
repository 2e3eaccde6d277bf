"""One Terraform stack per workspace: provider, backend and the modules its settings ask for.

Composition reads settings only (a `network:` section means a network); it never branches
on the workspace's name. The DR workspace uses the subclass in `dr/`, chosen by its
`replica_of` setting.

Each module's settings section carries exactly its props' names, so a section is handed
over whole (`**asdict(section)`) next to what the stack itself knows (names, account, role).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import cast

from cdktf import (
    LocalBackend,
    S3Backend,
    S3BackendAssumeRoleConfig,
    TerraformOutput,
    TerraformProvider,
    TerraformStack,
    Token,
)
from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags
from constructs import Construct

from modules.backup import Backup, BackupProps
from modules.baseline import Baseline, BaselineProps
from modules.budget import Budget, BudgetProps
from modules.cache import Cache, CacheProps
from modules.cdn import CLOUDFRONT_REGION, Cdn, CdnProps
from modules.compute import Compute, ComputeProps
from modules.database import Database, DatabaseProps
from modules.dns import Dns, DnsProps
from modules.failover import AppEndpoints, AppEndpointsProps, FailoverOrigin, FailoverOriginProps
from modules.guardrails import Guardrails, GuardrailsProps
from modules.log_archive import LogArchive, LogArchiveProps, log_archive_bucket_name
from modules.names import config_role_name, log_archive_key_alias, repository_name
from modules.network import Network, NetworkProps
from modules.observability import Observability, ObservabilityProps
from modules.pipeline import Pipeline, PipelineProps
from modules.registry import Registry, RegistryProps
from modules.replication import Replication, ReplicationProps
from modules.roles import PlatformRole
from modules.scheduler import Scheduler, SchedulerProps
from modules.secrets import Secrets, SecretsProps
from modules.state import StateBucket, StateBucketProps, state_key_alias
from modules.storage import ALB_LOG_PREFIX, DATA_BUCKETS, Storage, StorageProps, bucket_name
from surgepress import image
from surgepress.config import (
    WORKSPACE_TAG,
    ComputeSettings,
    FailoverSettings,
    Organisation,
    Workspace,
    global_cluster_identifier,
    parameter_prefix,
    resource_prefix,
    role_arn,
)
from surgepress.targets import LOCAL_MAX_RETRIES, Paths, Target

UPLOADS_OBJECT_ACL = "none"  # what app/wordpress reads as "send no ACL" (the media bucket refuses ACLs)
# The application's data settings, read from SSM at task start (modules/failover AppEndpoints).
APP_SETTING_ENV = {
    "WORDPRESS_DB_HOST": "db-host",
    "WORDPRESS_DB_READER_HOST": "db-reader-host",
    "WP_REDIS_HOST": "cache-host",
}

# cdktf-cdktf-provider-aws 19.65.1 pins exactly the 5.99.1 it was generated from; any 5.x
# from 5.99 on has the same schema for what we use, and lets real users take fixes.
AWS_PROVIDER_CONSTRAINT = "~> 5.99"


COMMAND_ONLY = ("rollout_timeout_s",)
"""Compute settings the deploy command reads, not the construct (how long to wait for a rollout)."""


def _construct_settings(section: ComputeSettings) -> dict:
    return {k: v for k, v in asdict(section).items() if k not in COMMAND_ONLY}


class WorkspaceStack(TerraformStack):
    """The stack of one workspace. Subclasses change `role`, never module code.

    `source` is set for a replica (`replica_of`): it then joins, copies or follows what its
    source runs (global database, secrets, buckets, zone) instead of creating its own.
    """

    role: PlatformRole = PlatformRole.PRIMARY

    def __init__(
        self,
        scope: Construct,
        workspace: Workspace,
        *,
        target: Target,
        paths: Paths,
        organisation: Organisation,
        local_state: bool = False,
        source: Workspace | None = None,
    ) -> None:
        super().__init__(scope, workspace.name)
        self.workspace = workspace
        self.source = source
        self.target = target
        self.organisation = organisation
        self.provider = self._provider(target, workspace.region)
        self.source_provider = self._provider(target, source.region, alias="source_region") if source else None
        # CloudFront's certificates, WAF and log delivery live in us-east-1.
        self.global_provider = self._provider(target, CLOUDFRONT_REGION, alias="us_east_1") if workspace.cdn else None
        self._backend(target, paths, local_state)
        self.add_override("terraform.required_providers.aws.version", AWS_PROVIDER_CONSTRAINT)

        Baseline(
            self,
            "baseline",
            props=BaselineProps(
                account_id=workspace.account_id,
                enable_account_wide_controls=workspace.owns_account_settings,
            ),
        )
        if workspace.state_bucket:
            StateBucket(
                self,
                "state",
                props=StateBucketProps(
                    bucket_name=workspace.state.bucket,
                    account_id=workspace.account_id,
                    **asdict(workspace.state_bucket),
                ),
            )
        if workspace.log_archive:
            archive = LogArchive(
                self,
                "log-archive",
                props=LogArchiveProps(
                    name=self.resource_prefix,
                    project=workspace.project,
                    account_id=workspace.account_id,
                    region=workspace.region,
                    member_account_ids=organisation.account_ids,
                    config_role_arn=(
                        role_arn(workspace.account_id, config_role_name(self.resource_prefix, workspace.region))
                        if workspace.guardrails
                        else None
                    ),
                    **asdict(workspace.log_archive),
                ),
            )
        if workspace.guardrails:
            archive_account = workspace.log_archive_account_id
            assert archive_account is not None, "resolved at load for every workspace with guardrails"
            Guardrails(
                self,
                "guardrails",
                props=GuardrailsProps(
                    name=self.resource_prefix,
                    account_id=workspace.account_id,
                    region=workspace.region,
                    log_archive_bucket=log_archive_bucket_name(workspace.project, archive_account),
                    log_archive_account_id=archive_account,
                    # Same-account delivery is the recorder role's own write (with the archive's key).
                    log_archive_key_arn=archive.key.arn if workspace.log_archive else None,
                    record_global_types=workspace.owns_account_settings,
                    # One trail per account, into the archive: the archive's own account has its
                    # trail there, and an organization trail would cover every account.
                    account_trail_key=(
                        f"arn:aws:kms:{workspace.log_archive_region}:{archive_account}:"
                        f"{log_archive_key_alias(workspace.project)}"
                        if workspace.owns_account_settings
                        and not workspace.log_archive
                        and not workspace.log_archive_organization_trail
                        else None
                    ),
                    role=self.role,
                    **asdict(workspace.guardrails),
                ),
            )
        self.network = self._network()
        self.secrets = self._secrets()
        self.storage = self._storage()
        self.database = self._database()
        self.cache = self._cache()
        self.dns = (
            Dns(
                self,
                "dns",
                props=DnsProps(zone_name=workspace.dns.zone_name, existing=source is not None, role=self.role),
            )
            if workspace.dns
            else None
        )
        if self.dns and workspace.parent_zone:
            parent = workspace.parent_zone
            self.dns.delegate_from(
                parent.zone_name,
                provider=self._provider(
                    target,
                    workspace.region,
                    alias="parent_zone",
                    account_id=parent.account_id,
                    role_arn=parent.role_arn,
                ),
            )
        if workspace.apex_zone:
            Dns(self, "apex", props=DnsProps(zone_name=workspace.apex_zone.zone_name, role=self.role))
        self._web_platform()
        self._operations()
        for key, value in {
            "account_id": workspace.account_id,
            "region": workspace.region,
            "platform_role": self.role.value,
        }.items():
            TerraformOutput(self, key, value=value)

    @property
    def resource_prefix(self) -> str:
        return resource_prefix(self.workspace)

    def _provider(
        self,
        target: Target,
        region: str,
        alias: str | None = None,
        *,
        account_id: str | None = None,
        role_arn: str | None = None,
    ) -> AwsProvider:
        """The workspace's account by default; `account_id`/`role_arn` reach another one (DNS delegation)."""
        ws = self.workspace
        settings: dict = {
            "region": region,
            "allowed_account_ids": [account_id or ws.account_id],
            "assume_role": [
                AwsProviderAssumeRole(role_arn=role_arn or ws.role_arn, session_name=f"{ws.project}-{ws.name}")
            ],
            "default_tags": [AwsProviderDefaultTags(tags={**ws.tags, WORKSPACE_TAG: ws.name})],
        }
        if target is Target.LOCAL:
            # The emulator's endpoint and credentials come from the environment the runner
            # sets (AWS_ENDPOINT_URL), so the synthesized file does not depend on its port.
            settings.update(
                max_retries=LOCAL_MAX_RETRIES,
                s3_use_path_style=True,
                skip_metadata_api_check="true",
            )
        if alias:
            return AwsProvider(self, f"aws_{alias}", alias=alias, **settings)
        return AwsProvider(self, "aws", **settings)

    def _backend(self, target: Target, paths: Paths, local_state: bool) -> None:
        """S3 with native locking on both targets; a local file only while bootstrapping the bucket."""
        ws = self.workspace
        if local_state:
            LocalBackend(self, path=str(paths.local_state_file(ws.name)))
            return
        S3Backend(
            self,
            bucket=ws.state.bucket,
            key=ws.state_key,
            region=ws.state.region,
            encrypt=True,
            kms_key_id=state_key_alias(ws.state.bucket),
            assume_role=S3BackendAssumeRoleConfig(
                role_arn=role_arn(ws.state.account_id, ws.role_name), session_name=f"{ws.project}-{ws.name}-state"
            ),
            # The emulator's endpoint comes from AWS_ENDPOINT_URL, as for the provider.
            use_path_style=target is Target.LOCAL or None,
        )
        self.add_override("terraform.backend.s3.use_lockfile", True)

    def _database(self) -> Database | None:
        ws = self.workspace
        if ws.database is None:
            return None
        return Database(
            self,
            "database",
            props=DatabaseProps(
                name=self.resource_prefix,
                account_id=ws.account_id,
                vpc_id=self.network.vpc.id,
                subnet_ids=[s.id for s in self.network.subnets["data"]],
                availability_zones=ws.network.availability_zones,
                master_password_parameter_arn=self.secrets.parameters["db_master_password"].arn,
                password_generation=ws.secrets.generation,
                role=self.role,
                backup_by_tag=ws.backup is not None,
                **{**asdict(ws.database), **self._global_membership()},
            ),
        )

    def _global_membership(self) -> dict:
        """A replica's cluster joins its source's global database as a secondary."""
        if self.source is None:
            return {}
        return {"global_cluster": "secondary", "global_cluster_identifier": global_cluster_identifier(self.source)}

    @property
    def failover(self) -> FailoverSettings | None:
        """The site's failover settings (a replica's are its source's, resolved at load)."""
        return self.workspace.failover

    @property
    def active(self) -> bool:
        """Whether this region serves and writes now (always, for a site without a replica)."""
        return self.failover is None or self.failover.primary_region == self.workspace.region

    def _media_replica_domain(self) -> str | None:
        """The replica's media bucket (named, as it is created later by the replica's workspace)."""
        ws = self.workspace
        if ws.peer is None or ws.replica_of or ws.storage is None:
            return None
        name = bucket_name(f"{ws.project}-{ws.peer.name}", "media", ws.account_id, ws.peer.region)
        return f"{name}.s3.{ws.peer.region}.amazonaws.com"

    def _floors(self) -> dict:
        """A site in two regions keeps its scaling floors by role, not by workspace: the source's
        configured floors where it serves, the replica's (pilot light) where it waits. A drill
        moves the floors live; the recorded primary region then makes Terraform agree."""
        ws = self.workspace
        if ws.peer is None or self.failover is None:
            return {}
        own, other = (ws.compute.min_tasks, ws.compute.min_hosts), (ws.peer.min_tasks, ws.peer.min_hosts)
        serving, waiting = (other, own) if ws.replica_of else (own, other)
        tasks, hosts = serving if self.active else waiting
        return {"min_tasks": tasks, "min_hosts": hosts}

    def _web_platform(self) -> None:
        """CloudFront, then the WordPress service behind it, then what joins them to the rest.

        A replica has no distribution: its source's sends to whichever origin DNS answers with.
        """
        ws = self.workspace
        if ws.compute is None:
            return
        dns, storage, secrets = self.dns, self.storage, self.secrets
        site_domain, origin_domain = dns.fqdn(ws.dns.site_host), dns.fqdn(ws.dns.origin_host)
        # Read at apply into the state (ALB rule and CloudFront header need the value); never in JSON.
        origin_secret = DataAwsSsmParameter(
            self, "origin-secret", name=secrets.parameters["origin_secret"].name, with_decryption=True
        ).value
        self.cdn = (
            Cdn(
                self,
                "cdn",
                props=CdnProps(
                    name=self.resource_prefix,
                    account_id=ws.account_id,
                    site_domain=site_domain,
                    certificate_arn=dns.certificate("site", ws.dns.site_host, provider=self.global_provider),
                    origin_domain=origin_domain,
                    origin_secret=origin_secret,
                    media_bucket_domain=storage.buckets["media"].bucket_regional_domain_name,
                    media_replica_domain=self._media_replica_domain(),
                    log_bucket_arn=storage.buckets["logs"].arn,
                    provider=cast(TerraformProvider, self.global_provider),  # set for every workspace with cdn
                    origin_shield_region=ws.region,
                    role=self.role,
                    **asdict(ws.cdn),
                ),
            )
            if ws.cdn
            else None
        )
        database, cache = self.database, self.cache
        app = AppEndpoints(
            self,
            "app",
            props=AppEndpointsProps(
                name=self.resource_prefix,
                parameter_prefix=self.parameter_prefix,
                active=self.active,
                writer_endpoint=database.cluster.endpoint,
                reader_endpoint=database.cluster.reader_endpoint,
                cache_endpoint=cache.replication_group.primary_endpoint_address,
                role=self.role,
            ),
        )
        image_tag = image.tag_for(ws)
        wordpress_secrets = {
            "WORDPRESS_DB_PASSWORD": "db_master_password",
            "WP_REDIS_PASSWORD": "redis_auth_token",
            **{key.upper(): key for key in secrets.parameters if key.startswith("wordpress_")},
        }
        self.compute = Compute(
            self,
            "compute",
            props=ComputeProps(
                name=self.resource_prefix,
                account_id=ws.account_id,
                region=ws.region,
                vpc_id=self.network.vpc.id,
                public_subnet_ids=[s.id for s in self.network.subnets["public"]],
                app_subnet_ids=[s.id for s in self.network.subnets["app"]],
                certificate_arn=dns.certificate("origin", ws.dns.origin_host),
                origin_secret=origin_secret,
                access_log_bucket=storage.buckets["logs"].bucket,
                access_log_prefix=ALB_LOG_PREFIX,
                media_bucket_arn=storage.buckets["media"].arn,
                media_key_arn=storage.key.arn,
                secrets_key_arn=secrets.key.arn,
                environment={
                    "WORDPRESS_DB_NAME": database.database_name,
                    "WORDPRESS_DB_USER": database.master_username,
                    "WP_REDIS_READER_HOST": cache.replication_group.reader_endpoint_address,
                    "WP_REDIS_PORT": Token.as_string(cache.replication_group.port),
                    "WP_REDIS_SCHEME": "tls",
                    "WP_HOME": f"https://{site_domain}",
                    "WP_SITEURL": f"https://{site_domain}",
                    "CDN_DOMAIN": self.cdn.distribution.domain_name if self.cdn else site_domain,
                    "S3_UPLOADS_BUCKET": f"{storage.buckets['media'].bucket}/wp-content",
                    "S3_UPLOADS_BUCKET_URL": f"https://{site_domain}/wp-content",
                    "S3_UPLOADS_REGION": ws.region,
                    "S3_UPLOADS_OBJECT_ACL": UPLOADS_OBJECT_ACL,
                    "SURGEPRESS_REGION": ws.region,
                    "SURGEPRESS_IMAGE_TAG": image_tag,
                },
                secrets={
                    **{env: secrets.parameters[key].arn for env, key in wordpress_secrets.items()},
                    **{env: app.parameters[setting].arn for env, setting in APP_SETTING_ENV.items()},
                },
                client_of={"database": (database.security_group.id, 3306), "cache": (cache.security_group.id, 6379)},
                role=self.role,
                image_repository_url=ws.image_registry.url,
                **{**_construct_settings(ws.compute), "image_tag": image_tag, **self._floors()},
            ),
        )
        service_sg = self.compute.service_security_group.id
        database.allow_from("service", service_sg)
        cache.allow_from("service", service_sg)
        load_balancer = self.compute.load_balancer
        observability = None
        if ws.alarms:
            observability = Observability(
                self,
                "observability",
                props=ObservabilityProps(
                    name=self.resource_prefix,
                    account_id=ws.account_id,
                    alb_arn_suffix=load_balancer.arn_suffix,
                    cluster_name=self.compute.cluster.name,
                    service_name=self.compute.service.name,
                    db_cluster_identifier=database.cluster.cluster_identifier,
                    db_reader_count=ws.database.reader_count,
                    cache_member_ids=cache.member_ids,
                    role=self.role,
                    **asdict(ws.alarms),
                ),
            )
        if self.failover:
            FailoverOrigin(
                self,
                "failover",
                props=FailoverOriginProps(
                    name=self.resource_prefix,
                    region=ws.region,
                    active=self.active,
                    zone_id=dns.zone.zone_id,
                    record_name=origin_domain,
                    load_balancer_dns_name=load_balancer.dns_name,
                    load_balancer_zone_id=load_balancer.zone_id,
                    load_balancer_arn_suffix=load_balancer.arn_suffix,
                    target_group_arn_suffix=self.compute.target_group.arn_suffix,
                    unhealthy_minutes=self.failover.unhealthy_minutes,
                    alarm_topic_arn=observability.topic.arn if observability else None,
                    role=self.role,
                ),
            )
        else:
            dns.alias(
                "origin-alias",
                ws.dns.origin_host,
                target_dns_name=load_balancer.dns_name,
                target_zone_id=load_balancer.zone_id,
                evaluate_target_health=True,
            )
        if self.cdn:
            storage.grant_distribution_read(self.cdn.distribution.arn)
            dns.alias(
                "site-alias",
                ws.dns.site_host,
                target_dns_name=self.cdn.distribution.domain_name,
                target_zone_id=self.cdn.distribution.hosted_zone_id,
                evaluate_target_health=False,  # Route 53 refuses health evaluation of a CloudFront alias
            )
        elif self.source is not None:  # the source's distribution fails uploads over to this replica
            storage.grant_distribution_read(f"arn:aws:cloudfront::{ws.account_id}:distribution/*")

    def _operations(self) -> None:
        """Cost and recovery controls over what the workspace runs."""
        ws = self.workspace
        if ws.backup:
            dr_provider = (
                self._provider(self.target, ws.dr_region, alias="dr_region") if ws.backup.copy_to_dr_region else None
            )
            Backup(
                self,
                "backup",
                props=BackupProps(
                    name=self.resource_prefix,
                    account_id=ws.account_id,
                    region=ws.region,
                    workspace=ws.name,
                    dr_provider=dr_provider,
                    role=self.role,
                    **asdict(ws.backup),
                ),
            )
        if ws.budget:
            Budget(
                self,
                "budget",
                props=BudgetProps(
                    name=self.resource_prefix,
                    account_id=ws.account_id,
                    workspace=ws.name,
                    account_wide=ws.owns_account_settings,
                    role=self.role,
                    **asdict(ws.budget),
                ),
            )
        if ws.pipeline:
            Pipeline(
                self,
                "pipeline",
                props=PipelineProps(
                    name=self.resource_prefix,
                    account_id=ws.account_id,
                    region=ws.region,
                    deployer_role_arns=tuple(
                        role_arn(account, ws.role_name) for account in self.organisation.account_ids
                    ),
                    build_image_stage=ws.registry is not None,
                    **asdict(ws.pipeline),
                ),
            )
        if ws.registry:
            Registry(
                self,
                "registry",
                props=RegistryProps(
                    name=self.resource_prefix,
                    repository=repository_name(ws.project),
                    account_id=ws.account_id,
                    region=ws.region,
                    puller_role_arns=ws.registry_pullers,
                    # Pushes go through the deployer role, from the pipeline's builds as from an operator.
                    writer_role_arns=(ws.role_arn,),
                    replica_providers={
                        region: self._provider(self.target, region, alias=f"registry_{region.replace('-', '_')}")
                        for region in ws.registry_replica_regions
                    },
                    keep_images=ws.registry.keep_images,
                    enable_deletion_protection=ws.registry.enable_deletion_protection,
                ),
            )
        if ws.scheduler:
            host_group = self.compute.host_group
            Scheduler(
                self,
                "scheduler",
                props=SchedulerProps(
                    name=self.resource_prefix,
                    account_id=ws.account_id,
                    region=ws.region,
                    cluster_name=self.compute.cluster.name,
                    db_cluster_identifier=self.database.cluster.cluster_identifier,
                    parameter_prefix=self.parameter_prefix,
                    asg_names=(host_group.name,) if host_group else (),
                    role=self.role,
                    **asdict(ws.scheduler),
                ),
            )

    @property
    def parameter_prefix(self) -> str:
        return parameter_prefix(self.workspace)

    def _cache(self) -> Cache | None:
        ws = self.workspace
        if ws.cache is None:
            return None
        return Cache(
            self,
            "cache",
            props=CacheProps(
                name=self.resource_prefix,
                account_id=ws.account_id,
                region=ws.region,
                vpc_id=self.network.vpc.id,
                subnet_ids=[s.id for s in self.network.subnets["data"]],
                availability_zones=ws.network.availability_zones,
                auth_token_parameter_name=self.secrets.parameters["redis_auth_token"].name,
                role=self.role,
                **asdict(ws.cache),
            ),
        )

    def _storage(self) -> Storage | None:
        ws = self.workspace
        if ws.storage is None:
            return None
        storage = Storage(
            self,
            "storage",
            props=StorageProps(
                name=self.resource_prefix,
                account_id=ws.account_id,
                region=ws.region,
                role=self.role,
                **asdict(ws.storage),
            ),
        )
        if self.source is not None and self.source.storage is not None:
            assert self.source_provider is not None, "a replica has its source region's provider"
            Replication(
                self,
                "replication",
                props=ReplicationProps(
                    name=self.resource_prefix,
                    account_id=ws.account_id,
                    source_name=resource_prefix(self.source),
                    source_region=self.source.region,
                    source_provider=self.source_provider,
                    replicas={purpose: storage.buckets[purpose] for purpose in DATA_BUCKETS},
                    replica_key_arn=storage.key.arn,
                    role=self.role,
                ),
                # S3 refuses a replication rule whose destination is not versioned yet.
                depends_on=[storage.node.find_child(f"{purpose}-versioning") for purpose in DATA_BUCKETS],
            )
        return storage

    def _secrets(self) -> Secrets | None:
        ws = self.workspace
        if ws.secrets is None:
            return None
        copy = {}
        if self.source is not None and self.source.secrets is not None:
            src = self.source
            copy = {
                "copy_from_arn_prefix": f"arn:aws:ssm:{src.region}:{src.account_id}:parameter{parameter_prefix(src)}",
                "source_provider": self.source_provider,
                "generation": src.secrets.generation,
            }  # a new source value is copied over
        return Secrets(
            self,
            "secrets",
            props=SecretsProps(
                name=self.resource_prefix,
                parameter_prefix=self.parameter_prefix,
                account_id=ws.account_id,
                role=self.role,
                **{**asdict(ws.secrets), **copy},
            ),
        )

    def _network(self) -> Network | None:
        ws, net = self.workspace, self.workspace.network
        if net is None:
            return None
        return Network(
            self,
            "network",
            props=NetworkProps(
                name=self.resource_prefix,
                account_id=ws.account_id,
                region=ws.region,
                cidr=net.cidr,
                availability_zones=net.availability_zones,
                nat_gateways=net.nat_gateways,
                subnet_newbits=net.subnet_newbits,
                flow_log_retention_days=net.flow_log_retention_days,
                interface_endpoints=net.interface_endpoints,
                role=self.role,
            ),
        )

"""One Terraform stack per workspace: provider, backend and the modules its settings ask for.

Composition reads settings only (a `network:` section means a network); it never branches
on the workspace's name. The DR workspace uses the subclass in `dr/`, chosen by its
`replica_of` setting.

Each module's settings section carries exactly its props' names, so a section is handed
over whole (`**asdict(section)`) next to what the stack itself knows (names, account, role).
"""

from __future__ import annotations

from dataclasses import asdict

from cdktf import LocalBackend, S3Backend, S3BackendAssumeRoleConfig, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderAssumeRole, AwsProviderDefaultTags
from constructs import Construct

from modules.baseline import Baseline, BaselineProps
from modules.cache import Cache, CacheProps
from modules.database import Database, DatabaseProps
from modules.network import Network, NetworkProps
from modules.roles import PlatformRole
from modules.secrets import Secrets, SecretsProps
from modules.storage import Storage, StorageProps
from surgepress.config import Workspace
from surgepress.targets import LOCAL_MAX_RETRIES, Paths, Target

# cdktf-cdktf-provider-aws 19.65.1 pins exactly the 5.99.1 it was generated from; any 5.x
# from 5.99 on has the same schema for what we use, and lets real users take fixes.
AWS_PROVIDER_CONSTRAINT = "~> 5.99"


class WorkspaceStack(TerraformStack):
    """The stack of one workspace. Subclasses change `role`, never module code."""

    role: PlatformRole = PlatformRole.PRIMARY

    def __init__(self, scope: Construct, workspace: Workspace, *, target: Target, paths: Paths) -> None:
        super().__init__(scope, workspace.name)
        self.workspace = workspace
        self._provider(target)
        self._backend(target, paths)
        self.add_override("terraform.required_providers.aws.version", AWS_PROVIDER_CONSTRAINT)

        Baseline(self, "baseline", props=BaselineProps(
            account_id=workspace.account_id,
            enable_account_wide_controls=workspace.owns_account_settings,
        ))
        self.network = self._network()
        self.secrets = self._secrets()
        self.storage = self._storage()
        self.database = self._database()
        self.cache = self._cache()
        for key, value in {"account_id": workspace.account_id, "region": workspace.region,
                           "platform_role": self.role.value}.items():
            TerraformOutput(self, key, value=value)

    @property
    def resource_prefix(self) -> str:
        return f"{self.workspace.project}-{self.workspace.name}"

    def _provider(self, target: Target) -> None:
        ws = self.workspace
        settings: dict = {
            "region": ws.region,
            "allowed_account_ids": [ws.account_id],
            "assume_role": [AwsProviderAssumeRole(role_arn=ws.role_arn, session_name=f"{ws.project}-{ws.name}")],
            "default_tags": [AwsProviderDefaultTags(tags={**ws.tags, "Workspace": ws.name})],
        }
        if target is Target.LOCAL:
            # The emulator's endpoint and credentials come from the environment the runner
            # sets (AWS_ENDPOINT_URL), so the synthesized file does not depend on its port.
            settings.update(
                max_retries=LOCAL_MAX_RETRIES,
                s3_use_path_style=True,
                skip_metadata_api_check="true",
            )
        AwsProvider(self, "aws", **settings)

    def _backend(self, target: Target, paths: Paths) -> None:
        ws = self.workspace
        if target is Target.LOCAL:
            LocalBackend(self, path=str(paths.local_state_file(ws.name)))
            return
        # Minimal until the accounts issue bootstraps the bucket; native S3 locking.
        S3Backend(
            self,
            bucket=ws.state.bucket,
            key=f"{ws.name}/terraform.tfstate",
            region=ws.state.region,
            encrypt=True,
            assume_role=S3BackendAssumeRoleConfig(role_arn=f"arn:aws:iam::{ws.state.account_id}:role/{ws.role_name}"),
        )
        self.add_override("terraform.backend.s3.use_lockfile", True)

    def _database(self) -> Database | None:
        ws = self.workspace
        if ws.database is None:
            return None
        return Database(self, "database", props=DatabaseProps(
            name=self.resource_prefix,
            account_id=ws.account_id,
            vpc_id=self.network.vpc.id,
            subnet_ids=[s.id for s in self.network.subnets["data"]],
            availability_zones=ws.network.availability_zones,
            master_password_parameter_arn=self.secrets.parameters["db_master_password"].arn,
            password_generation=ws.secrets.generation,
            role=self.role,
            **asdict(ws.database),
        ))

    def _cache(self) -> Cache | None:
        ws = self.workspace
        if ws.cache is None:
            return None
        return Cache(self, "cache", props=CacheProps(
            name=self.resource_prefix,
            account_id=ws.account_id,
            region=ws.region,
            vpc_id=self.network.vpc.id,
            subnet_ids=[s.id for s in self.network.subnets["data"]],
            availability_zones=ws.network.availability_zones,
            auth_token_parameter_name=self.secrets.parameters["redis_auth_token"].name,
            role=self.role,
            **asdict(ws.cache),
        ))

    def _storage(self) -> Storage | None:
        ws = self.workspace
        if ws.storage is None:
            return None
        return Storage(self, "storage", props=StorageProps(
            name=self.resource_prefix, account_id=ws.account_id, region=ws.region, role=self.role,
            **asdict(ws.storage),
        ))

    def _secrets(self) -> Secrets | None:
        ws = self.workspace
        if ws.secrets is None:
            return None
        return Secrets(self, "secrets", props=SecretsProps(
            name=self.resource_prefix, parameter_prefix=f"/{ws.project}/{ws.name}", account_id=ws.account_id,
            role=self.role, **asdict(ws.secrets),
        ))

    def _network(self) -> Network | None:
        ws, net = self.workspace, self.workspace.network
        if net is None:
            return None
        return Network(self, "network", props=NetworkProps(
            name=self.resource_prefix,
            account_id=ws.account_id,
            region=ws.region,
            cidr=net.cidr,
            availability_zones=net.availability_zones,
            nat_gateways=net.nat_gateways,
            subnet_newbits=net.subnet_newbits,
            flow_log_retention_days=net.flow_log_retention_days,
            role=self.role,
        ))

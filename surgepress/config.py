"""Environment settings: `environments/<workspace>.yaml` merged over `defaults.yaml`.

Everything is validated here, at load time, before anything is synthesized or deployed.
A bad value raises `ConfigError`, which names the file, the field and the value received.
The result is one frozen, typed `Settings` object; code reads settings, never branches on a
workspace's name.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from modules import names
from modules.instances import INSTANCE_TYPES, tasks_per_host
from modules.subnet_layout import SUBNET_SLOTS_PER_TIER, TIERS
from surgepress.errors import ConfigError, UserError
from surgepress.regions import ZONE_LETTERS_BY_REGION, zone_names
from surgepress.schedules import DAYS as _DAYS
from surgepress.schedules import MONTHS as _MONTHS

ENVIRONMENTS_DIR = Path(__file__).resolve().parent.parent / "environments"
ENVIRONMENTS_ENV = "SURGEPRESS_ENVIRONMENTS"  # another directory of environment files
DEFAULTS_FILE = "defaults.yaml"

NAT_MODES = ("single", "per_az")
MIN_AZ_COUNT = 2
# The values CloudWatch Logs accepts for retentionInDays.
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


@dataclass(frozen=True)
class NetworkSettings:
    cidr: str
    az_count: int
    availability_zones: tuple[str, ...]
    nat_gateways: str
    subnet_newbits: int
    flow_log_retention_days: int
    interface_endpoints: tuple[str, ...]


@dataclass(frozen=True)
class DatabaseSettings:
    engine_version: str
    capacity: str
    instance_class: str
    serverless_min_acu: float
    serverless_max_acu: float
    reader_count: int
    backup_retention_days: int
    enable_deletion_protection: bool
    global_cluster: str


@dataclass(frozen=True)
class StorageSettings:
    noncurrent_version_expiration_days: int
    log_retention_days: int
    enable_force_destroy: bool


@dataclass(frozen=True)
class CacheSettings:
    engine_version: str
    node_type: str
    node_count: int
    snapshot_retention_days: int
    log_retention_days: int


@dataclass(frozen=True)
class DnsSettings:
    zone_name: str
    site_host: str
    origin_host: str


@dataclass(frozen=True)
class ComputeSettings:
    image_tag: str | None
    """None: the tag built from app/ (surgepress.image.default_tag)."""
    capacity: str
    instance_type: str
    min_hosts: int
    max_hosts: int
    capacity_target_percent: int
    instance_warmup_s: int
    min_scaling_step: int
    max_scaling_step: int
    warm_pool_hosts: int
    """Stopped, initialized hosts kept beside the group (ec2): a surge's first hosts start from them."""
    task_cpu_units: int
    task_memory_mib: int
    min_tasks: int
    max_tasks: int
    requests_per_target: int
    cpu_target_percent: int
    scale_out_cooldown_s: int
    scale_in_cooldown_s: int
    surge_requests_per_minute: int
    health_check_path: str
    health_check_grace_s: int
    deregistration_delay_s: int
    log_retention_days: int
    enable_deletion_protection: bool
    rollout_timeout_s: int
    """How long a deploy waits for the service's rollout (the circuit breaker's verdict)."""


@dataclass(frozen=True)
class CdnSettings:
    price_class: str
    page_default_ttl_s: int
    asset_default_ttl_s: int
    error_caching_s: int
    enable_waf: bool
    enable_origin_shield: bool
    log_retention_days: int


@dataclass(frozen=True)
class AlarmSettings:
    target_5xx_per_minute: int
    elb_5xx_per_minute: int
    response_time_p95_s: float
    ecs_cpu_percent: int
    ecs_memory_percent: int
    db_cpu_percent: int
    db_connections: int
    db_replica_lag_ms: int
    cache_cpu_percent: int
    cache_evictions_per_5min: int
    evaluation_minutes: int


@dataclass(frozen=True)
class SecretsSettings:
    generation: int


@dataclass(frozen=True)
class StateSettings:
    bucket: str
    region: str
    account_id: str


@dataclass(frozen=True)
class StateBucketSettings:
    noncurrent_version_expiration_days: int


@dataclass(frozen=True)
class LogArchiveSettings:
    object_lock_mode: str
    object_lock_retention_days: int
    archive_after_days: int
    trail_log_retention_days: int
    organization_trail: bool


@dataclass(frozen=True)
class GuardrailsSettings:
    finding_publishing_frequency: str
    config_rules: tuple[str, ...]


@dataclass(frozen=True)
class SchedulerSettings:
    off_schedule: str
    on_schedule: str
    timezone: str
    log_retention_days: int


@dataclass(frozen=True)
class BackupSettings:
    daily_schedule: str
    daily_retention_days: int
    weekly_schedule: str
    weekly_retention_days: int
    copy_to_dr_region: bool


@dataclass(frozen=True)
class BudgetSettings:
    monthly_limit_usd: int
    alert_thresholds_percent: tuple[int, ...]


@dataclass(frozen=True)
class ApexZoneSettings:
    zone_name: str


@dataclass(frozen=True)
class RegistrySettings:
    keep_images: int
    enable_deletion_protection: bool
    block_severity: str
    """The image stage fails on a finding of ECR's scan at or above this severity."""
    scan_timeout_s: int


@dataclass(frozen=True)
class SurgeSettings:
    """The surge a site must absorb (surgepress/surge) and the objective it is held to."""

    steady_rps: float
    """Edge requests/s of a normal hour the environment is sized for."""
    multiplier: float
    ramp_s: int
    hold_s: int
    steady_hit_ratio: float
    """Share of requests the edge answers in steady state ..."""
    surge_hit_ratio: float
    """... and at the surge's height (readers crowd onto a few hot stories)."""
    absorb_within_s: int
    max_overload_percent: float
    max_p95_ms: float


@dataclass(frozen=True)
class ImageRegistry:
    """Where a site's tasks pull the WordPress image from: the registry workspace's repository
    in the site's region (the repository itself, or its replica there)."""

    workspace: str
    account_id: str
    region: str
    repository: str

    @property
    def url(self) -> str:
        return f"{self.account_id}.dkr.ecr.{self.region}.amazonaws.com/{self.repository}"


@dataclass(frozen=True)
class PipelineSettings:
    deploy_workspaces: tuple[str, ...]
    test_workspace: str
    approval_before: tuple[str, ...]
    build_image: str
    terraform_version: str
    build_compute_type: str
    artifact_retention_days: int
    log_retention_days: int


@dataclass(frozen=True)
class FailoverSettings:
    primary_region: str
    rto_target_s: int
    rpo_target_s: int
    max_replication_lag_s: int
    unhealthy_minutes: int
    marker_grace_s: int
    probe_interval_ms: int


@dataclass(frozen=True)
class Workspace:
    name: str
    file: str
    project: str
    account_id: str
    region: str
    dr_region: str
    role_name: str
    depends_on: tuple[str, ...]
    protected: bool
    owns_account_settings: bool
    replica_of: str | None
    tags: Mapping[str, str]
    state: StateSettings
    network: NetworkSettings | None
    secrets: SecretsSettings | None
    storage: StorageSettings | None
    database: DatabaseSettings | None
    cache: CacheSettings | None
    dns: DnsSettings | None
    compute: ComputeSettings | None
    cdn: CdnSettings | None
    alarms: AlarmSettings | None
    state_bucket: StateBucketSettings | None = None
    log_archive: LogArchiveSettings | None = None
    guardrails: GuardrailsSettings | None = None
    scheduler: SchedulerSettings | None = None
    backup: BackupSettings | None = None
    budget: BudgetSettings | None = None
    apex_zone: ApexZoneSettings | None = None
    registry: RegistrySettings | None = None
    surge: SurgeSettings | None = None
    pipeline: PipelineSettings | None = None
    failover: FailoverSettings | None = None
    # Resolved across workspaces at load time (never set in a file):
    log_archive_account_id: str | None = None
    """Account of the workspace with `log_archive:` (where guardrails deliver)."""
    log_archive_region: str | None = None
    """Region of that workspace (its key, which account trails name, lives there)."""
    log_archive_organization_trail: bool = False
    """Whether the archive's trail is the organization's (then no account runs a trail of its own)."""
    parent_zone: ParentZone | None = None
    """Where this workspace's `dns.zone_name` is delegated from, when another workspace holds its parent."""
    peer: FailoverPeer | None = None
    """The other side of a site that runs in two regions (source <-> replica), with `failover`."""
    image_registry: ImageRegistry | None = None
    """A site's (with `compute`): where its tasks pull the image from."""
    registry_pullers: tuple[str, ...] = ()
    """The registry's (with `registry`): every site's task execution role, which may pull."""
    registry_replica_regions: tuple[str, ...] = ()
    """The registry's: the other regions sites run in, each holding a replica."""

    @property
    def role_arn(self) -> str:
        return role_arn(self.account_id, self.role_name)

    @property
    def state_key(self) -> str:
        """Where its state lives in the state bucket; the project in it keeps harness runs apart."""
        return f"{self.project}/{self.name}/terraform.tfstate"


def role_arn(account_id: str, role_name: str) -> str:
    return f"arn:aws:iam::{account_id}:role/{role_name}"


def resource_prefix(ws: Workspace) -> str:
    """Name prefix of a workspace's resources, e.g. `surgepress-production`."""
    return f"{ws.project}-{ws.name}"


def parameter_prefix(ws: Workspace) -> str:
    """Where a workspace's SSM parameters live, e.g. `/surgepress/production`."""
    return f"/{ws.project}/{ws.name}"


def global_cluster_identifier(ws: Workspace) -> str:
    """The Aurora Global Database a primary workspace creates (modules/database names it so)."""
    return f"{resource_prefix(ws)}-global"


@dataclass(frozen=True)
class Organisation:
    """What spans workspaces: every account the platform uses."""

    account_ids: tuple[str, ...]


@dataclass(frozen=True)
class FailoverPeer:
    """The other region of a replicated site, as each side needs to know it."""

    name: str
    region: str
    min_tasks: int
    min_hosts: int


@dataclass(frozen=True)
class ParentZone:
    zone_name: str
    account_id: str
    role_arn: str


@dataclass(frozen=True)
class Settings:
    """All workspaces, in dependency order (a workspace comes after those it depends on)."""

    workspaces: Mapping[str, Workspace] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.workspaces)

    @property
    def operator_account_id(self) -> str:
        """Account of the un-assumed (operator) identity: where the state lives."""
        return next(iter(self.workspaces.values())).state.account_id

    @property
    def organisation(self) -> Organisation:
        return Organisation(account_ids=tuple(sorted({ws.account_id for ws in self.workspaces.values()})))

    @property
    def state_workspace(self) -> Workspace:
        """The workspace that holds the state bucket (`state_bucket:`); bootstrap deploys it first."""
        return next(ws for ws in self.workspaces.values() if ws.state_bucket)

    def get(self, name: str) -> Workspace:
        try:
            return self.workspaces[name]
        except KeyError:
            raise UserError(
                f"unknown workspace {name!r}: no environments/{name}.yaml (known: {', '.join(self.names)})"
            ) from None

    def needs(self, ws: Workspace) -> tuple[str, ...]:
        """The workspaces `ws` reads and so must find deployed: its `depends_on`, and the state
        bucket's workspace (every state lives in its bucket)."""
        state = self.state_workspace.name
        return tuple(dict.fromkeys([*ws.depends_on, *([state] if ws.name != state else [])]))

    def reads(self, ws: Workspace) -> list[Read]:
        """What `ws` reads of each workspace it needs (surgepress.readiness probes each)."""
        state = self.state_workspace.name
        reads = [Read(state, "state", "its state lives in the state bucket")] if ws.name != state else []
        return reads + data_reads(ws, self.workspaces)

    def select(self, names: list[str] | tuple[str, ...]) -> list[Workspace]:
        """The named workspaces in dependency order (unknown names are a user error)."""
        wanted = {self.get(n).name for n in names}
        return [ws for ws in self.workspaces.values() if ws.name in wanted]

    def with_image_tag(self, names: set[str], tag: str) -> Settings:
        """These settings with `compute.image_tag` of the named workspaces set to `tag`, for
        one deploy (`deploy --image-tag`); the next plain deploy runs what its settings say."""
        return dataclasses.replace(
            self,
            workspaces={
                name: dataclasses.replace(ws, compute=dataclasses.replace(ws.compute, image_tag=tag))
                if name in names and ws.compute
                else ws
                for name, ws in self.workspaces.items()
            },
        )

    def released(self, names: set[str]) -> Settings:
        """These settings with what keeps the named workspaces' data through a destroy let go:
        deletion protection off (database, load balancer, image registry) and buckets that
        may be deleted with their objects (`destroy --release-protection`)."""

        def release(ws: Workspace) -> Workspace:
            changes: dict[str, Any] = {}
            for section in ("database", "compute", "registry"):
                if getattr(ws, section) is not None:
                    changes[section] = dataclasses.replace(getattr(ws, section), enable_deletion_protection=False)
            if ws.storage is not None:
                changes["storage"] = dataclasses.replace(ws.storage, enable_force_destroy=True)
            return dataclasses.replace(ws, **changes)

        return dataclasses.replace(
            self,
            workspaces={name: release(ws) if name in names else ws for name, ws in self.workspaces.items()},
        )


def check_surge_option(name: str, value: float, where: str) -> float:
    """A `surge:` setting given on the command line: the same bounds as in the files."""
    try:
        return SURGE_SCHEMA[name]("", where, value)
    except ConfigError as exc:
        raise UserError(f"{where}: {exc.problem}, got {value!r}") from None


def check_image_tag(value: str, where: str) -> str:
    """An image tag given outside the environment files (a CLI option): ECR's tag grammar."""
    try:
        return _image_tag(where, "", value)
    except ConfigError as exc:
        raise UserError(f"{where}: {exc.problem}, got {value!r}") from None


# --- schema -------------------------------------------------------------------------------

Check = Callable[[str, str, Any], Any]  # (file, field, value) -> normalized value


def _str(file: str, name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(file, name, "expected a non-empty string", value)
    return value


def _bool(file: str, name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(file, name, "expected true or false", value)
    return value


def _int_between(low: int, high: int) -> Check:
    def check(file: str, name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(file, name, f"expected a whole number from {low} to {high}", value)
        return value

    return check


def _one_of(choices: tuple) -> Check:
    def check(file: str, name: str, value: Any) -> Any:
        # By type too: `true == 1` and `7.0 == 7` in Python, but neither is the choice 1 or 7.
        if not any(type(value) is type(choice) and value == choice for choice in choices):
            raise ConfigError(file, name, f"expected one of {', '.join(map(str, choices))}", value)
        return value

    return check


def _account_id(file: str, name: str, value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"\d{12}", value):
        raise ConfigError(file, name, "expected a quoted 12-digit AWS account id", value)
    return value


def _region(file: str, name: str, value: Any) -> str:
    if value not in ZONE_LETTERS_BY_REGION:
        raise ConfigError(file, name, "unknown AWS region", value)
    return value


def _cidr(file: str, name: str, value: Any) -> str:
    try:
        net = ipaddress.IPv4Network(value, strict=True)
    except (ipaddress.AddressValueError, ipaddress.NetmaskValueError, ValueError, TypeError):
        raise ConfigError(file, name, "expected an IPv4 network such as 10.20.0.0/16", value) from None
    if not 16 <= net.prefixlen <= 24:
        raise ConfigError(file, name, "expected a VPC prefix from /16 to /24", value)
    return str(net)


def _names(file: str, name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(file, name, "expected a list of workspace names", value)
    return tuple(value)


def _zone_list(file: str, name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value) or len(set(value)) != len(value):
        raise ConfigError(file, name, "expected a list of distinct Availability Zone names", value)
    return tuple(value)


def _tags(file: str, name: str, value: Any) -> Mapping[str, str]:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ConfigError(file, name, "expected a mapping of string keys to string values", value)
    for key, text in value.items():
        if not 1 <= len(key) <= 128 or not _TAG_CHARS.fullmatch(key):
            raise ConfigError(file, f"{name}.{key}", "a tag key is 1-128 letters, digits, spaces and _.:/=+-@", key)
        if key.lower().startswith("aws:"):
            raise ConfigError(file, f"{name}.{key}", "the aws: prefix is reserved for AWS's own tags", key)
        if key in PLATFORM_TAGS:
            raise ConfigError(file, f"{name}.{key}", "the platform sets this tag itself", key)
        if len(text) > 256 or not _TAG_CHARS.fullmatch(text):
            raise ConfigError(file, f"{name}.{key}", "a tag value is 0-256 letters, digits, spaces and _.:/=+-@", text)
    if len(value) + len(PLATFORM_TAGS) > MAX_TAGS:
        raise ConfigError(
            file,
            name,
            f"AWS allows {MAX_TAGS} tags per resource and the platform adds {len(PLATFORM_TAGS)}; {len(value)} given",
            show_received=False,
        )
    return MappingProxyType(dict(value))


def _pattern(regex: str, expected: str) -> Check:
    compiled = re.compile(regex)

    def check(file: str, name: str, value: Any) -> str:
        if not isinstance(value, str) or not compiled.fullmatch(value):
            raise ConfigError(file, name, f"expected {expected}", value)
        return value

    return check


# AWS's own grammars, each from the service's API reference.
_project = _pattern(
    r"[a-z][a-z0-9-]{0,28}[a-z0-9]",
    "lower-case letters, digits and hyphens, 2-30 long, starting with a "
    "letter (it begins every bucket, role and load balancer name)",
)
_iam_role_name = _pattern(r"[A-Za-z0-9_+=,.@-]{1,64}", "an IAM role name: 1-64 of letters, digits and +=,.@_-")
_image_tag = _pattern(
    r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "an image tag: 1-128 of letters, digits, _ . - (not starting with . or -)"
)


def _terraform_version(file: str, name: str, value: Any) -> str:
    """A Terraform release, 1.11 or later: the write-only `*_wo` arguments need it."""
    text = str(value)
    match = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", text)
    if match is None or (int(match.group(1)), int(match.group(2))) < (1, 11):
        raise ConfigError(file, name, "expected a Terraform release 1.11.0 or later, such as 1.11.4", value)
    return text


_instance_type = _one_of(tuple(INSTANCE_TYPES))  # what placement is known for (modules/instances.py)
_db_instance_class = _pattern(r"db\.[a-z][a-z0-9-]*\.[a-z0-9]+", "an RDS instance class such as db.r6g.large")
_cache_node_type = _pattern(r"cache\.[a-z][a-z0-9-]*\.[a-z0-9]+", "an ElastiCache node type such as cache.t4g.small")


def bucket_name_problem(name: str) -> str:
    """Why S3 would refuse `name` as a bucket name (general purpose buckets); "" when it is fine."""
    if not 3 <= len(name) <= 63:
        return f"an S3 bucket name is 3-63 characters, this one is {len(name)}"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", name):
        return (
            "an S3 bucket name is lower-case letters, digits, dots and hyphens, starting and ending with a letter "
            "or digit"
        )
    if ".." in name or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name):
        return "an S3 bucket name has no two adjacent dots and is not an IP address"
    if name.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or name.endswith(
        ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
    ):
        return (
            "an S3 bucket name may not use the prefixes xn--, sthree-, amzn-s3-demo- or the suffixes -s3alias, "
            "--ol-s3, .mrap, --x-s3, --table-s3"
        )
    return ""


def _bucket(file: str, name: str, value: Any) -> str:
    problem = bucket_name_problem(value) if isinstance(value, str) else "expected a string"
    if problem:
        raise ConfigError(file, name, problem, value)
    return value


# Tags: AWS's rules for tag keys and values (the same in every service the platform tags).
# Unicode letters and digits, spaces (\p{Z}: no tabs or newlines) and _.:/=+-@
_TAG_CHARS = re.compile(r"[\w \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000.:/=+\-@]*")
MAX_TAGS = 50
WORKSPACE_TAG = "Workspace"
PLATFORM_TAGS = (WORKSPACE_TAG,)
"""Tags the platform adds to every resource besides `tags:` (the provider's default_tags)."""


def _optional(check: Check) -> Check:
    def inner(file: str, name: str, value: Any) -> Any:
        return None if value is None else check(file, name, value)

    return inner


INTERFACE_ENDPOINT_SERVICES = (
    "ecr.api",
    "ecr.dkr",
    "logs",
    "ssm",
    "sts",
    "ecs",
    "ecs-agent",
    "ecs-telemetry",
    "secretsmanager",
    "kms",
)
"""What a task and its host reach of AWS at start and scale-out: the image (ECR's API, and its
registry for the layers: S3 through the gateway endpoint), its logs, its settings and secrets,
its role, and on EC2 capacity the ECS agent's endpoints (a new host registers through them)."""


def _subset_of(choices: tuple[str, ...]) -> Check:
    def check(file: str, name: str, value: Any) -> tuple[str, ...]:
        if (
            not isinstance(value, list)
            or any(not isinstance(v, str) or v not in choices for v in value)
            or len(set(value)) != len(value)
        ):
            raise ConfigError(file, name, f"expected a list of {', '.join(choices)}, each at most once", value)
        return tuple(value)

    return check


NETWORK_SCHEMA: dict[str, Check] = {
    "cidr": _cidr,
    "az_count": _int_between(MIN_AZ_COUNT, SUBNET_SLOTS_PER_TIER),
    "availability_zones": _optional(_zone_list),
    "nat_gateways": _one_of(NAT_MODES),
    "subnet_newbits": _int_between(4, 8),
    "flow_log_retention_days": _one_of(LOG_RETENTION_DAYS),
    "interface_endpoints": _subset_of(INTERFACE_ENDPOINT_SERVICES),
}


def _acu(file: str, name: str, value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0.5 <= value <= 256
        or (value * 2) != int(value * 2)
    ):
        raise ConfigError(file, name, "expected Aurora capacity units from 0.5 to 256 in steps of 0.5", value)
    return float(value)


DATABASE_SCHEMA: dict[str, Check] = {
    "engine_version": _str,
    "capacity": _one_of(("provisioned", "serverless_v2")),
    "instance_class": _db_instance_class,
    "serverless_min_acu": _acu,
    "serverless_max_acu": _acu,
    "reader_count": _int_between(0, 15),
    "backup_retention_days": _int_between(1, 35),
    "enable_deletion_protection": _bool,
    # A secondary joins another workspace's global cluster: the DR workspace does that itself.
    "global_cluster": _one_of(("none", "primary")),
}
STORAGE_SCHEMA: dict[str, Check] = {
    "noncurrent_version_expiration_days": _int_between(1, 3650),
    "log_retention_days": _int_between(1, 3650),
    "enable_force_destroy": _bool,
}
CACHE_SCHEMA: dict[str, Check] = {
    "engine_version": _str,
    "node_type": _cache_node_type,
    "node_count": _int_between(2, 6),
    "snapshot_retention_days": _int_between(1, 35),
    "log_retention_days": _one_of(LOG_RETENTION_DAYS),
}


def _host_name(file: str, name: str, value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(
        r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*", value
    ):
        raise ConfigError(file, name, "expected a lower-case DNS name without a trailing dot", value)
    return value


def _url_path(file: str, name: str, value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"/[A-Za-z0-9._~/-]*", value):
        raise ConfigError(file, name, "expected a URL path starting with /", value)
    return value


DNS_SCHEMA: dict[str, Check] = {"zone_name": _host_name, "site_host": _host_name, "origin_host": _host_name}
FARGATE_CPU_UNITS = (256, 512, 1024, 2048, 4096, 8192, 16384)
COMPUTE_SCHEMA: dict[str, Check] = {
    "image_tag": _optional(_image_tag),
    "capacity": _one_of(("ec2", "fargate", "fargate_spot")),
    "instance_type": _instance_type,
    "min_hosts": _int_between(0, 1000),
    "max_hosts": _int_between(1, 1000),
    "capacity_target_percent": _int_between(1, 100),
    "instance_warmup_s": _int_between(0, 3600),
    "min_scaling_step": _int_between(1, 10000),
    "max_scaling_step": _int_between(1, 10000),
    "warm_pool_hosts": _int_between(0, 1000),
    "task_cpu_units": _one_of(FARGATE_CPU_UNITS),
    "task_memory_mib": _int_between(512, 122880),
    "min_tasks": _int_between(1, 5000),
    "max_tasks": _int_between(1, 5000),
    "requests_per_target": _int_between(1, 100000),
    "cpu_target_percent": _int_between(10, 90),
    "scale_out_cooldown_s": _int_between(0, 60),
    "scale_in_cooldown_s": _int_between(300, 3600),
    "surge_requests_per_minute": _int_between(1, 100_000_000),
    "health_check_path": _url_path,
    "health_check_grace_s": _int_between(0, 2_147_483),
    "deregistration_delay_s": _int_between(0, 3600),
    "log_retention_days": _one_of(LOG_RETENTION_DAYS),
    "enable_deletion_protection": _bool,
    "rollout_timeout_s": _int_between(60, 7200),
}
CDN_SCHEMA: dict[str, Check] = {
    "price_class": _one_of(("PriceClass_100", "PriceClass_200", "PriceClass_All")),
    "page_default_ttl_s": _int_between(0, 86400),
    "asset_default_ttl_s": _int_between(0, 31_536_000),
    "error_caching_s": _int_between(0, 300),
    "enable_waf": _bool,
    "enable_origin_shield": _bool,
    "log_retention_days": _one_of(LOG_RETENTION_DAYS),
}


def _number_between(low: float, high: float, *, below_high: bool = False) -> Check:
    """A number (whole or not, never true/false) from `low` to `high` (or below it)."""

    def check(file: str, name: str, value: Any) -> float:
        number = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
        inside = number and (low <= value < high if below_high else low <= value <= high)
        if not inside:
            upper = f"below {high:g}" if below_high else f"up to {high:g}"
            raise ConfigError(file, name, f"expected a number from {low:g} {upper}", value)
        return float(value)

    return check


def _seconds(file: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 60:
        raise ConfigError(file, name, "expected seconds above 0 and up to 60", value)
    return float(value)


ALARMS_SCHEMA: dict[str, Check] = {
    "target_5xx_per_minute": _int_between(1, 1_000_000),
    "elb_5xx_per_minute": _int_between(1, 1_000_000),
    "response_time_p95_s": _seconds,
    "ecs_cpu_percent": _int_between(1, 100),
    "ecs_memory_percent": _int_between(1, 100),
    "db_cpu_percent": _int_between(1, 100),
    "db_connections": _int_between(1, 100_000),
    "db_replica_lag_ms": _int_between(1, 3_600_000),
    "cache_cpu_percent": _int_between(1, 100),
    "cache_evictions_per_5min": _int_between(0, 100_000_000),
    "evaluation_minutes": _int_between(1, 60),
}
SECRETS_SCHEMA: dict[str, Check] = {"generation": _int_between(1, 1_000_000)}


def _ints(low: int, high: int) -> Check:
    def check(file: str, name: str, value: Any) -> tuple[int, ...]:
        if (
            not isinstance(value, list)
            or not value
            or any(isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high for v in value)
            or len(set(value)) != len(value)
        ):
            raise ConfigError(file, name, f"expected a list of distinct whole numbers from {low} to {high}", value)
        return tuple(value)

    return check


def _strs(file: str, name: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value) or len(set(value)) != len(value):
        raise ConfigError(file, name, "expected a list of distinct non-empty strings", value)
    return tuple(value)


def _schedule(file: str, name: str, value: Any) -> str:
    if not isinstance(value, str) or schedule_problem(value):
        problem = schedule_problem(value) if isinstance(value, str) else "expected a string"
        raise ConfigError(
            file,
            name,
            f"not an EventBridge schedule expression ({problem}); expected e.g. "
            "cron(0 20 ? * MON-FRI *) or rate(12 hours)",
            value,
        )
    return value


def _timezone(file: str, name: str, value: Any) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(file, name, "expected an IANA time zone such as Europe/Malta", value) from None
    return value


# EventBridge cron fields: minutes, hours, day-of-month, month, day-of-week, year.
_CRON_FIELD = {
    "minutes": (r"[0-9,\-*/]+", 0, 59),
    "hours": (r"[0-9,\-*/]+", 0, 23),
    "day-of-month": (r"[0-9,\-*?/LW]+", 1, 31),
    "month": (r"[0-9A-Z,\-*/]+", 1, 12),
    "day-of-week": (r"[0-9A-Z,\-*?/L#]+", 1, 7),
    "year": (r"[0-9,\-*/]+", 1970, 2199),
}
_RATE_UNITS = {"minute", "minutes", "hour", "hours", "day", "days"}


def schedule_problem(expression: str) -> str:
    """Why `expression` is not an EventBridge cron()/rate() expression; "" when it is one."""
    rate = re.fullmatch(r"rate\((\d+) ([a-z]+)\)", expression)
    if rate:
        count, unit = int(rate.group(1)), rate.group(2)
        if count < 1 or unit not in _RATE_UNITS or (count == 1) != (not unit.endswith("s")):
            return f"rate needs a positive count and a unit such as '1 hour' or '12 hours', got '{count} {unit}'"
        return ""
    cron = re.fullmatch(r"cron\(([^()]*)\)", expression)
    if not cron:
        return "neither cron(...) nor rate(...)"
    fields = cron.group(1).split()
    if len(fields) != len(_CRON_FIELD):
        return f"cron needs 6 fields (minutes hours day-of-month month day-of-week year), got {len(fields)}"
    for (label, (pattern, low, high)), text in zip(_CRON_FIELD.items(), fields, strict=True):
        if not re.fullmatch(pattern, text):
            return f"{label} {text!r} has characters cron does not allow"
        for part in text.split(","):
            base, slash, step = part.partition("/")
            if any(not end for end in base.split("-")) or (slash and not (step.isdigit() and int(step) > 0)):
                return f"{label} {part!r} needs a value on each side of '-' and a positive increment after '/'"
        names = _MONTHS if label == "month" else _DAYS if label == "day-of-week" else []
        for number in re.findall(r"[0-9]+|[A-Z]{3}", text.split("#")[0]):
            if number.isdigit() and "/" not in text and not low <= int(number) <= high:
                return f"{label} {number} is outside {low}-{high}"
            if not number.isdigit() and number not in names:
                return f"{label} {number!r} is not a valid name"
    if (fields[2] == "?") == (fields[4] == "?"):
        return "exactly one of day-of-month and day-of-week must be '?'"
    return ""


STATE_BUCKET_SCHEMA: dict[str, Check] = {"noncurrent_version_expiration_days": _int_between(1, 3650)}
LOG_ARCHIVE_SCHEMA: dict[str, Check] = {
    "object_lock_mode": _one_of(("COMPLIANCE", "GOVERNANCE")),
    "object_lock_retention_days": _int_between(1, 36500),
    "archive_after_days": _int_between(1, 3650),
    "trail_log_retention_days": _one_of(LOG_RETENTION_DAYS),
    "organization_trail": _bool,
}
GUARDRAILS_SCHEMA: dict[str, Check] = {
    "finding_publishing_frequency": _one_of(("FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS")),
    "config_rules": _strs,
}
SCHEDULER_SCHEMA: dict[str, Check] = {
    "off_schedule": _schedule,
    "on_schedule": _schedule,
    "timezone": _timezone,
    "log_retention_days": _one_of(LOG_RETENTION_DAYS),
}
BACKUP_SCHEMA: dict[str, Check] = {
    "daily_schedule": _schedule,
    "daily_retention_days": _int_between(1, 36500),
    "weekly_schedule": _schedule,
    "weekly_retention_days": _int_between(1, 36500),
    "copy_to_dr_region": _bool,
}
SURGE_SCHEMA: dict[str, Check] = {
    "steady_rps": _number_between(0.1, 1_000_000),
    "multiplier": _number_between(1, 100),
    "ramp_s": _int_between(0, 7200),
    "hold_s": _int_between(0, 86400),
    "steady_hit_ratio": _number_between(0, 1, below_high=True),
    "surge_hit_ratio": _number_between(0, 1, below_high=True),
    "absorb_within_s": _int_between(1, 86400),
    "max_overload_percent": _number_between(0, 100),
    "max_p95_ms": _number_between(1, 600_000),
}
FAILOVER_SCHEMA: dict[str, Check] = {
    "primary_region": _region,
    "rto_target_s": _int_between(1, 86400),
    "rpo_target_s": _int_between(0, 86400),
    "max_replication_lag_s": _int_between(1, 3600),
    "unhealthy_minutes": _int_between(1, 10),
    "marker_grace_s": _int_between(0, 3600),
    "probe_interval_ms": _int_between(50, 60000),
}
BUDGET_SCHEMA: dict[str, Check] = {
    "monthly_limit_usd": _int_between(1, 10_000_000),
    "alert_thresholds_percent": _ints(1, 1000),
}
APEX_ZONE_SCHEMA: dict[str, Check] = {"zone_name": _host_name}
REGISTRY_SCHEMA: dict[str, Check] = {
    "keep_images": _int_between(1, 10000),
    "enable_deletion_protection": _bool,
    "block_severity": _one_of(("CRITICAL", "HIGH", "MEDIUM", "LOW")),
    "scan_timeout_s": _int_between(30, 3600),
}
PIPELINE_SCHEMA: dict[str, Check] = {
    "deploy_workspaces": _names,
    "test_workspace": _str,
    "approval_before": _names,
    "build_image": _str,
    "terraform_version": _terraform_version,
    "build_compute_type": _one_of(("BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE")),
    "artifact_retention_days": _int_between(1, 3650),
    "log_retention_days": _one_of(LOG_RETENTION_DAYS),
}
STATE_SCHEMA: dict[str, Check] = {"bucket": _bucket, "region": _region, "account_id": _account_id}
WORKSPACE_SCHEMA: dict[str, Check] = {
    "project": _project,
    "account_id": _account_id,
    "region": _region,
    "dr_region": _region,
    "role_name": _iam_role_name,
    "depends_on": _names,
    "protected": _bool,
    "owns_account_settings": _bool,
    "replica_of": _optional(_str),
    "tags": _tags,
}
# Sections: nested mappings with their own schema. Optional sections exist in a workspace
# only when its own file declares them; the defaults then fill in the rest.
SECTIONS: dict[str, tuple[dict[str, Check], bool]] = {
    "state": (STATE_SCHEMA, False),
    "network": (NETWORK_SCHEMA, True),
    "secrets": (SECRETS_SCHEMA, True),
    "storage": (STORAGE_SCHEMA, True),
    "database": (DATABASE_SCHEMA, True),
    "cache": (CACHE_SCHEMA, True),
    "dns": (DNS_SCHEMA, True),
    "compute": (COMPUTE_SCHEMA, True),
    "cdn": (CDN_SCHEMA, True),
    "alarms": (ALARMS_SCHEMA, True),
    "state_bucket": (STATE_BUCKET_SCHEMA, True),
    "log_archive": (LOG_ARCHIVE_SCHEMA, True),
    "guardrails": (GUARDRAILS_SCHEMA, True),
    "scheduler": (SCHEDULER_SCHEMA, True),
    "backup": (BACKUP_SCHEMA, True),
    "budget": (BUDGET_SCHEMA, True),
    "apex_zone": (APEX_ZONE_SCHEMA, True),
    "registry": (REGISTRY_SCHEMA, True),
    "surge": (SURGE_SCHEMA, True),
    "pipeline": (PIPELINE_SCHEMA, True),
    "failover": (FAILOVER_SCHEMA, True),
}
# Settings type of each optional section but network (whose zones are resolved first).
SECTION_TYPES: dict[str, type] = {
    "secrets": SecretsSettings,
    "storage": StorageSettings,
    "database": DatabaseSettings,
    "cache": CacheSettings,
    "dns": DnsSettings,
    "compute": ComputeSettings,
    "cdn": CdnSettings,
    "alarms": AlarmSettings,
    "state_bucket": StateBucketSettings,
    "log_archive": LogArchiveSettings,
    "guardrails": GuardrailsSettings,
    "scheduler": SchedulerSettings,
    "backup": BackupSettings,
    "budget": BudgetSettings,
    "apex_zone": ApexZoneSettings,
    "registry": RegistrySettings,
    "surge": SurgeSettings,
    "pipeline": PipelineSettings,
    "failover": FailoverSettings,
}
# Sections that build on others in the same workspace.
SECTION_NEEDS: dict[str, tuple[str, ...]] = {
    "database": ("network", "secrets"),
    "cache": ("network", "secrets"),
    "compute": ("network", "secrets", "storage", "database", "cache", "dns", "cdn"),
    "cdn": ("compute", "storage", "dns", "secrets"),
    "alarms": ("compute", "database", "cache"),
    "scheduler": ("compute", "database"),
    "backup": ("database", "storage"),
    "guardrails": (),
    "failover": ("database", "dns", "compute"),
    "surge": ("compute",),
}
OPTIONAL_KEYS = {"replica_of", "availability_zones"}


# --- loading ------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2's core scalars and no silent duplicates.

    YAML 1.1 (PyYAML's default) reads `no`/`on`/`yes` as booleans and `1:30` as the number 90;
    here only true/false are booleans and sexagesimals stay strings, so a typo reaches the
    schema as what it looks like and is refused there. A key given twice in one mapping is
    refused too (PyYAML lets the last one win)."""


_YAML12_INT = re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$|^0x[0-9a-fA-F_]+$|^0o[0-7_]+$")
_YAML12_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


def _yaml12(tag: str, regexp: re.Pattern[str]) -> re.Pattern[str] | None:
    """YAML 1.2 core's pattern for PyYAML's 1.1 one: booleans are only true/false, integers have no
    leading zero (octal) or colons (sexagesimal), floats have no colons; others unchanged."""
    if tag == "tag:yaml.org,2002:bool":
        return _YAML12_BOOL
    if tag == "tag:yaml.org,2002:int":
        return _YAML12_INT
    if tag == "tag:yaml.org,2002:float" and regexp.match("1:30.5"):
        return re.compile(regexp.pattern.replace("|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*", ""), regexp.flags)
    return regexp


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, regexp in resolvers if (pattern := _yaml12(tag, regexp)) is not None]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _letter in "tTfF":  # true/false start with these; PyYAML 1.1 also listed yYnNoO
    _StrictLoader.yaml_implicit_resolvers.setdefault(_letter, [])
    if not any(tag == "tag:yaml.org,2002:bool" for tag, _ in _StrictLoader.yaml_implicit_resolvers[_letter]):
        _StrictLoader.yaml_implicit_resolvers[_letter].append(("tag:yaml.org,2002:bool", _YAML12_BOOL))


class DuplicateKey(yaml.YAMLError):
    def __init__(self, key: object, mark: yaml.Mark | None, problem: str = ""):
        self.problem = problem or f"key {key!r} is given twice in one mapping"
        self.problem_mark = mark
        super().__init__(self.problem)


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise DuplicateKey(key, key_node.start_mark, problem="a key must be a plain value, not a list or mapping")
        if key in seen:
            raise DuplicateKey(key, key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(path: Path, display: str) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{display}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError(
            f"{display}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at line {line}); save it as UTF-8"
        ) from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserError(f"{display}: malformed YAML{where}: {problem}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(display, "(top level)", "expected a mapping of settings", data)
    return data


def _check_keys(file: str, prefix: str, data: Mapping[str, Any], allowed: Mapping[str, Any]) -> None:
    for key in data:
        if key not in allowed:
            raise ConfigError(
                file, f"{prefix}{key}", f"unknown key (known: {', '.join(sorted(allowed))})", show_received=False
            )


def _merge_section(
    ws_file: str, defaults_file: str, name: str, own: Any, default: Any, schema: dict[str, Check]
) -> dict[str, Any]:
    """Validate one section key by key, reporting each value against the file it came from."""
    for file, data in ((defaults_file, default), (ws_file, own)):
        if data is not None and not isinstance(data, dict):
            raise ConfigError(file, name or "(top level)", "expected a mapping", data)
        _check_keys(file, f"{name}." if name else "", data or {}, schema)
    result: dict[str, Any] = {}
    for key, check in schema.items():
        label = f"{name}.{key}" if name else key
        if default and key in default:  # checked even where overridden: a bad default is a bug
            result[key] = check(defaults_file, label, default[key])
        if own and key in own:
            result[key] = check(ws_file, label, own[key])
        elif key in OPTIONAL_KEYS:
            result.setdefault(key, None)
        elif key not in result:
            raise ConfigError(ws_file, label, "missing (set it here or in defaults.yaml)", show_received=False)
    return result


def _build_workspace(name: str, ws_file: str, own: dict, defaults_file: str, defaults: dict) -> Workspace:
    allowed = {**WORKSPACE_SCHEMA, **SECTIONS}
    _check_keys(defaults_file, "", defaults, allowed)
    _check_keys(ws_file, "", own, allowed)
    flat_own = {k: v for k, v in own.items() if k not in SECTIONS}
    flat_defaults = {k: v for k, v in defaults.items() if k not in SECTIONS}
    values: dict[str, Any] = _merge_section(ws_file, defaults_file, "", flat_own, flat_defaults, WORKSPACE_SCHEMA)

    sections: dict[str, Any] = {}
    for section, (schema, optional) in SECTIONS.items():
        if optional and section not in own:
            sections[section] = None
            continue
        sections[section] = _merge_section(
            ws_file, defaults_file, section, own.get(section), defaults.get(section), schema
        )
    network = None
    if sections["network"]:
        net = sections["network"]
        network = NetworkSettings(**{**net, "availability_zones": _zones_for(ws_file, values["region"], net)})
    section_values: dict[str, Any] = {
        section: kind(**sections[section]) if sections[section] else None for section, kind in SECTION_TYPES.items()
    }
    return Workspace(
        name=name,
        file=ws_file,
        state=StateSettings(**sections["state"]),
        network=network,
        **section_values,
        **values,
    )


def _zones_for(file: str, region: str, net: dict[str, Any]) -> tuple[str, ...]:
    """The AZs a network uses: named in the file, or the region's first `az_count`."""
    known = zone_names(region)
    named = net["availability_zones"]
    if named is None:
        if net["az_count"] > len(known):
            raise ConfigError(
                file, "network.az_count", f"{region} has only {len(known)} availability zones", net["az_count"]
            )
        return tuple(known[: net["az_count"]])
    for zone in named:
        if not zone.startswith(region) or len(zone) != len(region) + 1:
            raise ConfigError(file, "network.availability_zones", f"{zone!r} is not a zone of {region}", list(named))
        if zone not in known:
            raise ConfigError(
                file,
                "network.availability_zones",
                f"{region} has no zone {zone!r} (it has {', '.join(known)})",
                list(named),
            )
    if len(named) != net["az_count"]:
        raise ConfigError(
            file, "network.availability_zones", f"expected {net['az_count']} zones (az_count)", list(named)
        )
    return named


def _validate_network(ws: Workspace) -> None:
    net = ws.network
    if net is None:
        return
    prefix = ipaddress.IPv4Network(net.cidr).prefixlen
    if prefix + net.subnet_newbits > 28:
        raise ConfigError(
            ws.file,
            "network.subnet_newbits",
            f"{net.cidr} split by {net.subnet_newbits} bits gives subnets smaller than /28",
            net.subnet_newbits,
        )
    if 2**net.subnet_newbits < SUBNET_SLOTS_PER_TIER * len(TIERS):
        raise ConfigError(
            ws.file,
            "network.subnet_newbits",
            f"need at least {SUBNET_SLOTS_PER_TIER * len(TIERS)} subnets per VPC "
            f"({len(TIERS)} tiers x {SUBNET_SLOTS_PER_TIER} AZ slots)",
            net.subnet_newbits,
        )


def _validate_needs(ws: Workspace) -> None:
    for section, needs in SECTION_NEEDS.items():
        if getattr(ws, section) is None:
            continue
        for needed in needs:
            if needed == "cdn" and ws.replica_of:
                continue  # a replica is served by its source's distribution
            if getattr(ws, needed) is None:
                raise ConfigError(
                    ws.file, section, f"needs a `{needed}:` section in the same workspace", show_received=False
                )


def _validate_ranges(ws: Workspace) -> None:
    """Pairs of settings that bound each other: the lower must not exceed the upper, nor equal it
    where a reason says why it must stay strictly below."""
    pairs = [
        ("database", "serverless_min_acu", "serverless_max_acu", ""),
        ("compute", "min_tasks", "max_tasks", ""),
        ("compute", "min_hosts", "max_hosts", ""),
        ("compute", "min_scaling_step", "max_scaling_step", ""),
        ("cdn", "page_default_ttl_s", "asset_default_ttl_s", ""),
        (
            "log_archive",
            "archive_after_days",
            "object_lock_retention_days",
            "objects move to Glacier before their retention ends",
        ),
    ]
    for section, low, high, strictly_below in pairs:
        values = getattr(ws, section)
        if values is None:
            continue
        lower, upper = getattr(values, low), getattr(values, high)
        if lower > upper:
            raise ConfigError(ws.file, f"{section}.{low}", f"exceeds {high} ({upper})", lower)
        if strictly_below and lower == upper:
            raise ConfigError(ws.file, f"{section}.{low}", f"must be below {high} ({upper}): {strictly_below}", lower)


# Fargate's CPU units -> the memory (MiB) it accepts: (lowest, highest, step).
FARGATE_MEMORY_MIB = {
    256: (512, 2048, 512),
    512: (1024, 4096, 1024),
    1024: (2048, 8192, 1024),
    2048: (4096, 16384, 1024),
    4096: (8192, 30720, 1024),
    8192: (16384, 61440, 4096),
    16384: (32768, 122880, 8192),
}
ALB_SUBNET_MAX_PREFIX = 27  # an ALB needs a /27 or larger in each of its subnets (8 free addresses)
SUBNET_RESERVED_ADDRESSES = 5  # AWS keeps the first four and the last address of every subnet


def _validate_sizes(ws: Workspace) -> None:
    """What AWS refuses later although each value is fine alone: Fargate's CPU/memory pairs,
    a task ceiling the hosts cannot place (ECS leaves the rest PROVISIONING),
    subnets too small for what lives in them, the longest names derived from `project`, a
    zone name with one label, archiving that does not come before retention ends."""
    compute, net = ws.compute, ws.network
    if compute is not None and compute.capacity != "ec2" and compute.warm_pool_hosts:
        raise ConfigError(
            ws.file,
            "compute.warm_pool_hosts",
            f"a warm pool keeps EC2 hosts; capacity {compute.capacity} runs no hosts (set it to 0)",
            compute.warm_pool_hosts,
        )
    if compute is not None and compute.warm_pool_hosts > compute.max_hosts:
        raise ConfigError(
            ws.file,
            "compute.warm_pool_hosts",
            f"more than compute.max_hosts ({compute.max_hosts}): the group could never take them",
            compute.warm_pool_hosts,
        )
    if compute is not None and compute.capacity in ("fargate", "fargate_spot"):
        low, high, step = FARGATE_MEMORY_MIB[compute.task_cpu_units]
        memory = compute.task_memory_mib
        if not low <= memory <= high or (memory - low) % step:
            raise ConfigError(
                ws.file,
                "compute.task_memory_mib",
                f"Fargate with {compute.task_cpu_units} CPU units takes {low}-{high} MiB in steps of {step}",
                memory,
            )
    if compute is not None and compute.capacity == "ec2":
        per_host, binding = tasks_per_host(compute.instance_type, compute.task_cpu_units, compute.task_memory_mib)
        if compute.max_tasks > compute.max_hosts * per_host:
            raise ConfigError(
                ws.file,
                "compute.max_tasks",
                f"{compute.max_hosts} x {compute.instance_type} hosts place {compute.max_hosts * per_host} tasks of "
                f"{compute.task_cpu_units} CPU units / {compute.task_memory_mib} MiB ({per_host} per host, limited by "
                f"its {binding}; modules/instances.py); raise compute.max_hosts or lower compute.max_tasks",
                compute.max_tasks,
            )
    if net is not None:
        prefix = ipaddress.IPv4Network(net.cidr).prefixlen + net.subnet_newbits
        if prefix > ALB_SUBNET_MAX_PREFIX:
            raise ConfigError(
                ws.file,
                "network.subnet_newbits",
                f"{net.cidr} split by {net.subnet_newbits} bits gives /{prefix} "
                f"subnets; the load balancer needs /{ALB_SUBNET_MAX_PREFIX} or larger",
                net.subnet_newbits,
            )
        if compute is not None:
            addresses = (2 ** (32 - prefix) - SUBNET_RESERVED_ADDRESSES) * net.az_count
            needed = compute.max_tasks + (compute.max_hosts if compute.capacity == "ec2" else 0)
            if needed > addresses:
                raise ConfigError(
                    ws.file,
                    "compute.max_tasks",
                    f"{compute.max_tasks} tasks (one network interface each, awsvpc)"
                    f"{' and ' + str(compute.max_hosts) + ' hosts' if compute.capacity == 'ec2' else ''} need "
                    f"{needed} addresses; the app subnets (/{prefix} x {net.az_count}) have {addresses}",
                    compute.max_tasks,
                )
    if ws.dns is not None and "." not in ws.dns.zone_name:
        raise ConfigError(ws.file, "dns.zone_name", "expected a domain of two labels or more", ws.dns.zone_name)
    for kind, name, limit in derived_names(ws):
        if len(name) > limit:
            raise ConfigError(
                ws.file,
                "project",
                f"makes {ws.name}'s {kind} name {name!r} {len(name)} characters; AWS allows {limit}",
                ws.project,
            )
        if kind.endswith("bucket") and bucket_name_problem(name):
            raise ConfigError(
                ws.file, "project", f"makes {ws.name}'s {kind} name {name!r}: {bucket_name_problem(name)}", ws.project
            )


def derived_names(ws: Workspace) -> list[tuple[str, str, int]]:
    """(kind, name, AWS's limit) of each length-limited name the modules derive for `ws`."""
    prefix = resource_prefix(ws)
    found: list[tuple[str, str, int]] = []
    if ws.storage is not None:
        found += [
            (f"{purpose} bucket", names.bucket_name(prefix, purpose, ws.account_id, ws.region), names.BUCKET_NAME_MAX)
            for purpose in (*names.DATA_BUCKETS, names.LOGS_BUCKET)
        ]
    if ws.pipeline is not None:
        found += [
            (
                f"pipeline {purpose} bucket",
                names.pipeline_bucket_name(prefix, purpose, ws.account_id),
                names.BUCKET_NAME_MAX,
            )
            for purpose in names.PIPELINE_BUCKETS
        ]
    if ws.log_archive is not None:
        found.append(
            ("log archive bucket", names.log_archive_bucket_name(ws.project, ws.account_id), names.BUCKET_NAME_MAX)
        )
    if ws.compute is not None:
        found += [
            ("load balancer", prefix, names.LOAD_BALANCER_NAME_MAX),
            ("target group", names.target_group_name(prefix), names.LOAD_BALANCER_NAME_MAX),
            ("task execution role", names.task_execution_role_name(prefix), names.IAM_ROLE_NAME_MAX),
        ]
    if ws.guardrails is not None:
        found.append(("Config role", names.config_role_name(prefix, ws.region), names.IAM_ROLE_NAME_MAX))
    return found


def _validate_across(workspaces: dict[str, Workspace]) -> None:
    for ws in workspaces.values():
        for dep in ws.depends_on:
            if dep not in workspaces:
                raise ConfigError(ws.file, "depends_on", f"unknown workspace {dep!r}", list(ws.depends_on))
            if dep == ws.name:
                raise ConfigError(ws.file, "depends_on", "a workspace cannot depend on itself", list(ws.depends_on))
    for ws in workspaces.values():  # primaries before replicas, whose checks read their source
        if ws.replica_of is None and ws.dr_region == ws.region:
            raise ConfigError(ws.file, "dr_region", f"must differ from region ({ws.region})", ws.dr_region)
    for ws in workspaces.values():
        if ws.replica_of is not None:
            source = workspaces.get(ws.replica_of)
            if source is None:
                raise ConfigError(ws.file, "replica_of", "unknown workspace", ws.replica_of)
            if source.replica_of is not None:
                raise ConfigError(ws.file, "replica_of", "the source is itself a replica", ws.replica_of)
            if ws.region != source.dr_region:
                raise ConfigError(
                    ws.file,
                    "region",
                    f"a replica of {source.name} must sit in its dr_region ({source.dr_region})",
                    ws.region,
                )
            if ws.replica_of not in ws.depends_on:
                raise ConfigError(
                    ws.file, "depends_on", f"a replica must depend on its source {ws.replica_of!r}", list(ws.depends_on)
                )
            _validate_replica(ws, source)
    replicated = {ws.replica_of for ws in workspaces.values() if ws.replica_of and ws.compute}
    for ws in workspaces.values():
        if ws.failover is not None and ws.name not in replicated:
            raise ConfigError(
                ws.file,
                "failover",
                f"no workspace runs a replica of {ws.name} "
                f"(`replica_of: {ws.name}` with a `compute:` section) to fail over to",
                show_received=False,
            )

    owners: dict[str, Workspace] = {}
    for ws in workspaces.values():
        if not ws.owns_account_settings:
            continue
        other = owners.setdefault(ws.account_id, ws)
        if other is not ws:
            raise ConfigError(
                ws.file,
                "owns_account_settings",
                f"account {ws.account_id} is already managed by {other.name} ({other.file}); set false in one of them",
                True,
            )

    _validate_singletons(workspaces)
    networks = [ws for ws in workspaces.values() if ws.network]
    for i, a in enumerate(networks):
        for b in networks[i + 1 :]:
            net_a = ipaddress.IPv4Network(a.network.cidr)
            net_b = ipaddress.IPv4Network(b.network.cidr)
            if net_a.overlaps(net_b):
                raise ConfigError(
                    b.file, "network.cidr", f"overlaps {a.name}'s {a.network.cidr} ({a.file})", b.network.cidr
                )


def _validate_replica(ws: Workspace, source: Workspace) -> None:
    """A replica runs its source's site in the DR region: same zone, a global database to join."""
    if ws.failover is not None:
        raise ConfigError(
            ws.file,
            "failover",
            f"belongs in the source's file ({source.file}); a replica follows it",
            show_received=False,
        )
    if ws.database is not None and (source.database is None or source.database.global_cluster != "primary"):
        raise ConfigError(
            source.file,
            "database.global_cluster",
            f"{ws.name} ({ws.file}) joins it as a secondary; expected 'primary'",
            source.database.global_cluster if source.database else None,
        )
    if ws.dns is not None and (source.dns is None or source.dns.zone_name != ws.dns.zone_name):
        raise ConfigError(
            ws.file,
            "dns.zone_name",
            f"a replica serves its source's zone ({source.dns.zone_name if source.dns else 'none'})",
            ws.dns.zone_name,
        )
    if ws.compute is not None and source.failover is None:
        raise ConfigError(
            source.file,
            "failover",
            f"{ws.name} ({ws.file}) runs a replica of this site; the "
            "source needs a `failover:` section (primary region, targets)",
            show_received=False,
        )
    if source.failover is not None and source.failover.primary_region not in (source.region, ws.region):
        raise ConfigError(
            source.file,
            "failover.primary_region",
            f"expected {source.region} or {ws.region} (the source's or its replica's region)",
            source.failover.primary_region,
        )


def _only_one(workspaces: dict[str, Workspace], section: str) -> Workspace | None:
    holders = [ws for ws in workspaces.values() if getattr(ws, section) is not None]
    if len(holders) > 1:
        raise ConfigError(
            holders[1].file,
            section,
            f"only one workspace may declare it; {holders[0].name} ({holders[0].file}) already does",
            show_received=False,
        )
    return holders[0] if holders else None


def _validate_singletons(workspaces: dict[str, Workspace]) -> None:
    """Sections that exist once per organisation, and what refers to them."""
    state = _only_one(workspaces, "state_bucket")
    first = next(iter(workspaces.values()))
    if state is None:
        raise ConfigError(
            first.file,
            "state_bucket",
            "no workspace declares it; the management workspace holds the state bucket (`state_bucket: {}`)",
            show_received=False,
        )
    if (state.account_id, state.region) != (state.state.account_id, state.state.region):
        raise ConfigError(
            state.file,
            "state.account_id",
            f"the state bucket is deployed by {state.name} (account {state.account_id}, "
            f"{state.region}); state must name that account and region",
            f"{state.state.account_id} {state.state.region}",
        )
    archive = _only_one(workspaces, "log_archive")
    if archive is not None and archive.log_archive is not None and archive.log_archive.organization_trail:
        raise ConfigError(
            archive.file,
            "log_archive.organization_trail",
            "an organization trail needs an AWS Organization with CloudTrail trusted access and this account as "
            "its delegated administrator, which no workspace manages yet; keep it false (an account trail)",
            True,
        )
    for ws in workspaces.values():
        if ws.guardrails is not None and archive is None:
            raise ConfigError(
                ws.file, "guardrails", "needs a workspace with `log_archive:` to deliver to", show_received=False
            )
    _only_one(workspaces, "apex_zone")
    if _only_one(workspaces, "registry") is None:
        for ws in workspaces.values():
            if ws.compute is not None:
                raise ConfigError(
                    ws.file, "compute", "needs a workspace with `registry:` to pull its image from", show_received=False
                )
    pipeline_ws = _only_one(workspaces, "pipeline")
    if pipeline_ws is not None:
        pipeline = pipeline_ws.pipeline
        for field_name in ("deploy_workspaces", "approval_before"):
            for name in getattr(pipeline, field_name):
                if name not in workspaces:
                    raise ConfigError(
                        pipeline_ws.file,
                        f"pipeline.{field_name}",
                        f"unknown workspace {name!r}",
                        list(getattr(pipeline, field_name)),
                    )
        if pipeline.test_workspace not in pipeline.deploy_workspaces:
            raise ConfigError(
                pipeline_ws.file, "pipeline.test_workspace", "must be one of deploy_workspaces", pipeline.test_workspace
            )
        for name in pipeline.approval_before:
            if name not in pipeline.deploy_workspaces:
                raise ConfigError(
                    pipeline_ws.file,
                    "pipeline.approval_before",
                    "must be in deploy_workspaces",
                    list(pipeline.approval_before),
                )


def _resolve_links(workspaces: dict[str, Workspace]) -> dict[str, Workspace]:
    """Fill what a workspace learns from others: the log archive's account, its zone's parent, and
    for a site in two regions the other side (`peer`) and, on the replica, the source's `failover`."""
    archive = next((ws for ws in workspaces.values() if ws.log_archive), None)
    apex = next((ws for ws in workspaces.values() if ws.apex_zone), None)
    registry = next((ws for ws in workspaces.values() if ws.registry), None)
    replicas = {ws.replica_of: ws for ws in workspaces.values() if ws.replica_of and ws.compute}
    sites = [ws for ws in workspaces.values() if ws.compute]
    resolved = {}
    for name, ws in workspaces.items():
        changes: dict[str, Any] = {}
        if ws.compute is not None and registry is not None:
            changes["image_registry"] = ImageRegistry(
                workspace=registry.name,
                account_id=registry.account_id,
                region=ws.region,
                repository=names.repository_name(registry.project),
            )
        if ws.registry is not None:
            changes["registry_pullers"] = tuple(
                role_arn(site.account_id, names.task_execution_role_name(resource_prefix(site))) for site in sites
            )
            changes["registry_replica_regions"] = tuple(sorted({site.region for site in sites} - {ws.region}))
        peer = replicas.get(name) or (workspaces[ws.replica_of] if ws.replica_of and ws.compute else None)
        if peer is not None and peer.compute is not None and ws.compute is not None:
            changes["peer"] = FailoverPeer(
                name=peer.name, region=peer.region, min_tasks=peer.compute.min_tasks, min_hosts=peer.compute.min_hosts
            )
            if ws.replica_of:  # a replica follows its source's failover settings
                changes["failover"] = peer.failover
        if ws.guardrails is not None:
            changes["log_archive_account_id"] = archive.account_id
            changes["log_archive_region"] = archive.region
            changes["log_archive_organization_trail"] = archive.log_archive.organization_trail
        # A replica serves its source's zone: the source's delegation covers it.
        delegated = apex is not None and ws.dns is not None and not ws.replica_of
        if delegated and ws.dns.zone_name.endswith("." + apex.apex_zone.zone_name):
            changes["parent_zone"] = ParentZone(
                zone_name=apex.apex_zone.zone_name, account_id=apex.account_id, role_arn=apex.role_arn
            )
        resolved[name] = replace(ws, **changes) if changes else ws
    return resolved


@dataclass(frozen=True)
class Read:
    """What a workspace reads of another: it must exist before the reader is deployed."""

    workspace: str
    kind: str
    """state | log_archive | apex_zone | replica_source | registry"""
    why: str


def data_reads(ws: Workspace, workspaces: Mapping[str, Workspace]) -> list[Read]:
    """What `ws` reads of other workspaces, so they must be deployed before it. (Every workspace
    also reads the state bucket's workspace; Settings.reads adds that.)"""
    reads: list[Read] = []
    if ws.replica_of:
        reads.append(
            Read(ws.replica_of, "replica_source", "a replica joins its source's global database, buckets and secrets")
        )
    if ws.guardrails is not None:
        archive = next((w for w in workspaces.values() if w.log_archive is not None), None)
        if archive is not None and archive.name != ws.name:
            reads.append(
                Read(archive.name, "log_archive", "its guardrails deliver into that workspace's log archive bucket")
            )
    if ws.image_registry is not None and ws.image_registry.workspace != ws.name:
        reads.append(
            Read(
                ws.image_registry.workspace,
                "registry",
                "its tasks pull the WordPress image from that workspace's registry",
            )
        )
    if ws.parent_zone is not None:
        apex = next((w for w in workspaces.values() if w.apex_zone is not None), None)
        if apex is not None and apex.name != ws.name:
            reads.append(
                Read(apex.name, "apex_zone", f"its zone is delegated from {ws.parent_zone.zone_name}, read there")
            )
    return reads


def _validate_reads(workspaces: Mapping[str, Workspace]) -> None:
    """`depends_on` is the data graph: each workspace must come after what it reads (directly or
    through another dependency). Release order is the pipeline's business, not this graph's."""

    def reachable(name: str) -> set[str]:
        seen: set[str] = set()
        todo = list(workspaces[name].depends_on)
        while todo:
            dep = todo.pop()
            if dep not in seen:
                seen.add(dep)
                todo.extend(workspaces[dep].depends_on)
        return seen

    for ws in workspaces.values():
        after = reachable(ws.name)
        for read in data_reads(ws, workspaces):
            if read.workspace not in after:
                raise ConfigError(ws.file, "depends_on", f"add {read.workspace!r}: {read.why}", list(ws.depends_on))


def _dependency_order(workspaces: dict[str, Workspace]) -> list[str]:
    ordered: list[str] = []
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in ordered:
            return
        if name in visiting:
            cycle = " -> ".join(visiting[visiting.index(name) :] + [name])
            ws = workspaces[name]
            raise ConfigError(ws.file, "depends_on", f"dependency cycle {cycle}", list(ws.depends_on))
        visiting.append(name)
        for dep in workspaces[name].depends_on:
            visit(dep)
        visiting.pop()
        ordered.append(name)

    for name in sorted(workspaces):
        visit(name)
    # By depth in the graph, then name: each workspace after what it reads, and the ones that
    # can deploy at the same time next to each other.
    depth: dict[str, int] = {}
    for name in ordered:
        depth[name] = 1 + max((depth[dep] for dep in workspaces[name].depends_on), default=-1)
    return sorted(ordered, key=lambda name: (depth[name], name))


def load_settings(directory: Path | None = None) -> Settings:
    """Load and validate every workspace under `directory` (default: ./environments)."""
    directory = Path(directory or os.environ.get(ENVIRONMENTS_ENV) or ENVIRONMENTS_DIR)
    label = directory.name
    defaults_path = directory / DEFAULTS_FILE
    defaults_file = f"{label}/{DEFAULTS_FILE}"
    if not defaults_path.is_file():
        raise UserError(f"{defaults_file}: missing (shared defaults are required)")
    defaults = _read_yaml(defaults_path, defaults_file)

    workspaces: dict[str, Workspace] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name == DEFAULTS_FILE:
            continue
        name = path.stem
        ws_file = f"{label}/{path.name}"
        if not re.fullmatch(r"[a-z]([a-z0-9-]{0,29}[a-z0-9])?", name):
            raise UserError(
                f"{ws_file}: workspace name {name!r} must be 1-31 lower-case letters, digits and dashes, "
                f"starting with a letter and not ending with a dash"
            )
        ws = _build_workspace(name, ws_file, _read_yaml(path, ws_file), defaults_file, defaults)
        _validate_network(ws)
        _validate_needs(ws)
        _validate_ranges(ws)
        _validate_sizes(ws)
        workspaces[name] = ws
    if not workspaces:
        raise UserError(f"{label}/: no workspace files (<workspace>.yaml) found")

    _validate_across(workspaces)
    workspaces = _resolve_links(workspaces)
    order = _dependency_order(workspaces)
    _validate_reads(workspaces)
    return Settings(workspaces=MappingProxyType({name: workspaces[name] for name in order}))

"""Compute: WordPress on ECS behind an ALB, scaled hard and fast for news surges.

What it creates
    - An ECS cluster with Container Insights and, for `capacity="ec2"`, an Auto Scaling group
      of ECS-optimized hosts (AMI from the public SSM parameter; IMDSv2 only, hop limit 1; no
      public IP; encrypted root volume; instance role with the ECS agent and SSM policies only)
      joined through a capacity provider with managed scaling, managed termination
      protection and managed draining. `fargate` / `fargate_spot` use AWS's providers instead:
      the same service, scaling and ALB, no hosts to manage.
    - The task definition: the image from `image_repository_url` (modules/registry: the one
      repository, in the shared services account, or its replica in this region) at
      `image_tag`, and the size from config; plain settings (hosts, names) as
      environment; every secret as an SSM `valueFrom`; awslogs into a KMS-encrypted group;
      read-only root file system with writable scratch mounts for the paths WordPress and
      Apache write to; not privileged; separate execution and task roles.
    - The service in the private app subnets (awsvpc), with a deployment circuit breaker
      that rolls back; its desired count belongs to Application Auto Scaling.
    - An internet-facing ALB in the public subnets reachable only from CloudFront's
      origin-facing prefix list: HTTPS with `ELBSecurityPolicy-TLS13-1-2-2021-06`, HTTP
      redirected to HTTPS, invalid header fields dropped, strictest desync mitigation,
      access logs to the logs bucket; a request without the CloudFront origin-secret header
      gets a fixed 403.
    - Scaling: target tracking on ALBRequestCountPerTarget and on CPU (scale out after
      `scale_out_cooldown_s`, in after `scale_in_cooldown_s`), plus a step policy that adds
      50–100 % capacity when the load balancer's one-minute request count jumps past
      `surge_requests_per_minute` — the fastest signal the ALB publishes. (ECS's 20-s CPU
      metric, ECSServiceAverageCPUUtilizationHighResolution, needs the service's
      `monitoring_configuration`, which hashicorp/aws 5.100, the provider pinned here, cannot
      set: not offered until the provider can.)
    - Optionally (`warm_pool_hosts`, ec2) a warm pool of stopped, initialized hosts beside the
      group (`ECS_WARM_POOLS_CHECK` keeps them out of the cluster until they leave it): a
      surge's first hosts start from it instead of booting; stopped, they cost their volumes.

Defaults and why
    - Hosts keep `capacity_target_percent` (80) of their capacity reserved, i.e. 20 %
      headroom: new tasks of a surge start on running hosts while the ASG adds more.
    - Cooldowns of 30 s out / 300 s in: scale out on the first breaching minute; scale in only
      after the story has cooled, so a second wave does not meet a shrunken fleet.
    - Two ALB security groups (443 and 80), because each reference to the CloudFront prefix
      list counts about 55 rules against a group's quota of 60.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cdktf import Fn, Token
from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyStepScalingPolicyConfiguration,
    AppautoscalingPolicyStepScalingPolicyConfigurationStepAdjustment,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.autoscaling_group import (
    AutoscalingGroup,
    AutoscalingGroupLaunchTemplate,
    AutoscalingGroupTag,
    AutoscalingGroupWarmPool,
)
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.data_aws_ec2_managed_prefix_list import DataAwsEc2ManagedPrefixList
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
    DataAwsIamPolicyDocumentStatementPrincipals,
)
from cdktf_cdktf_provider_aws.data_aws_ssm_parameter import DataAwsSsmParameter
from cdktf_cdktf_provider_aws.ecs_capacity_provider import (
    EcsCapacityProvider,
    EcsCapacityProviderAutoScalingGroupProvider,
    EcsCapacityProviderAutoScalingGroupProviderManagedScaling,
)
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from cdktf_cdktf_provider_aws.ecs_cluster_capacity_providers import (
    EcsClusterCapacityProviders,
    EcsClusterCapacityProvidersDefaultCapacityProviderStrategy,
)
from cdktf_cdktf_provider_aws.ecs_service import (
    EcsService,
    EcsServiceCapacityProviderStrategy,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceLoadBalancer,
    EcsServiceNetworkConfiguration,
    EcsServiceOrderedPlacementStrategy,
)
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition, EcsTaskDefinitionVolume
from cdktf_cdktf_provider_aws.iam_instance_profile import IamInstanceProfile
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.launch_template import (
    LaunchTemplate,
    LaunchTemplateBlockDeviceMappings,
    LaunchTemplateBlockDeviceMappingsEbs,
    LaunchTemplateIamInstanceProfile,
    LaunchTemplateMetadataOptions,
    LaunchTemplateMonitoring,
    LaunchTemplateNetworkInterfaces,
    LaunchTemplateTagSpecifications,
)
from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import (
    LbListener,
    LbListenerDefaultAction,
    LbListenerDefaultActionFixedResponse,
    LbListenerDefaultActionRedirect,
)
from cdktf_cdktf_provider_aws.lb_listener_rule import (
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleCondition,
    LbListenerRuleConditionHttpHeader,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from modules.instances import ECS_RESERVED_MEMORY_MIB
from modules.logs import encrypted_log_group
from modules.names import IMAGE_NAME, target_group_name, task_execution_role_name
from modules.outputs import export
from modules.policy import skip_check
from modules.roles import PlatformRole
from modules.security_groups import allow_tcp_from

CAPACITY_MODES = ("ec2", "fargate", "fargate_spot")
HOST_VOLUME_GB = 30
"""Each host's encrypted gp3 root volume (what a stopped warm-pool host still costs)."""
CONTAINER_NAME = IMAGE_NAME
CONTAINER_PORT = 8080  # the image's Apache (app/apache/ports.conf): a non-root user cannot bind below 1024
CONTAINER_USER = "33:33"  # www-data, the image's USER (app/Dockerfile): never root
ORIGIN_HEADER = "X-Origin-Verify"
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
CLOUDFRONT_PREFIX_LIST = "com.amazonaws.global.cloudfront.origin-facing"
ECS_AMI_PARAMETER = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
# Paths the image (app/Dockerfile) writes to; everything else is read-only, WordPress's code
# included: it is served from the image's /usr/src/wordpress, never from a writable copy.
WRITABLE_PATHS = {
    "tmp": "/tmp",
    "apache-run": "/var/run/apache2",
    "apache-lock": "/var/lock/apache2",
}
MANAGED = "arn:aws:iam::aws:policy"


@dataclass(frozen=True)
class ComputeProps:
    name: str
    """Cluster, service and load balancer name, e.g. `surgepress-staging` (≤ 29 characters)."""
    account_id: str
    """Account that administers the module's keys."""
    region: str
    """Region of the log groups (their key policies name them)."""
    vpc_id: str
    """VPC of every security group and of the target group."""
    public_subnet_ids: list[str]
    """Subnets of the load balancer."""
    app_subnet_ids: list[str]
    """Private subnets of the hosts and tasks."""
    certificate_arn: str
    """Issued ACM certificate of the HTTPS listener (origin host name)."""
    origin_secret: str
    """Value CloudFront sends in `X-Origin-Verify`; a reference read at apply, never a literal."""
    access_log_bucket: str
    """Bucket (name) receiving the load balancer's access logs, under `access_log_prefix`."""
    access_log_prefix: str
    """Key prefix of the access logs (the bucket policy admits log delivery there)."""
    media_bucket_arn: str
    """Bucket the task may read and write (WordPress uploads offloaded to S3)."""
    media_key_arn: str
    """KMS key of the media bucket."""
    secrets_key_arn: str
    """KMS key of the SSM parameters in `secrets`."""
    environment: dict[str, str] = field(default_factory=dict)
    """Plain settings for WordPress (host names, bucket, site URL)."""
    secrets: dict[str, str] = field(default_factory=dict)
    """Environment variable -> SSM parameter ARN, injected by ECS, never in plain text."""
    client_of: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Services the tasks call inside the VPC: name -> (security group id, port)."""
    image_repository_url: str = ""
    """Where the tasks pull the WordPress image from (modules/registry), in this region."""
    image_tag: str = ""
    """Tag of the WordPress image in that repository (surgepress.image)."""
    capacity: str = "ec2"
    """`ec2` (capacity provider on an ASG), `fargate` or `fargate_spot`."""
    instance_type: str = "c7i.large"
    """Host instance type when `ec2`."""
    min_hosts: int = 1
    """Smallest host count (ec2)."""
    max_hosts: int = 10
    """Largest host count (ec2): the ceiling of a surge."""
    capacity_target_percent: int = 80
    """Managed scaling target: below 100 keeps headroom for the next tasks."""
    instance_warmup_s: int = 60
    """Seconds before a new host counts in the capacity provider's metric."""
    min_scaling_step: int = 1
    """Fewest hosts the capacity provider adds or removes at once."""
    max_scaling_step: int = 10
    """Most hosts the capacity provider adds or removes at once."""
    warm_pool_hosts: int = 0
    """Stopped, initialized hosts in the group's warm pool (ec2; 0: none). ECS takes them
    first when it scales out; the pool refills itself."""
    task_cpu_units: int = 512
    """CPU units per task (1024 = one vCPU)."""
    task_memory_mib: int = 1024
    """Memory per task."""
    min_tasks: int = 2
    """Fewest running tasks (at least one per AZ in production)."""
    max_tasks: int = 40
    """Most running tasks."""
    requests_per_target: int = 300
    """Target tracking: ALB requests per task per minute."""
    cpu_target_percent: int = 50
    """Target tracking: average service CPU."""
    scale_out_cooldown_s: int = 30
    """Seconds between scale-outs (≤ 60)."""
    scale_in_cooldown_s: int = 300
    """Seconds between scale-ins (≥ 300)."""
    surge_requests_per_minute: int = 20000
    """ALB requests in one minute that trigger the surge step policy."""
    health_check_path: str = "/wp-includes/images/blank.gif"
    """Cheap path for the target group's health check (a static file, no PHP, no database)."""
    health_check_grace_s: int = 60
    """Seconds a new task may fail health checks while WordPress starts."""
    deregistration_delay_s: int = 30
    """Seconds the ALB drains a target before deregistering it."""
    log_retention_days: int = 365
    """Container log retention."""
    enable_deletion_protection: bool = True
    """Refuse to delete the load balancer; off where the environment is rebuilt freely."""
    role: PlatformRole = PlatformRole.PRIMARY
    """Primary or secondary (DR) copy; recorded as the `PlatformRole` tag."""


def _trust(scope: Construct, id: str, service: str) -> str:
    return DataAwsIamPolicyDocument(
        scope,
        id,
        statement=[
            DataAwsIamPolicyDocumentStatement(
                actions=["sts:AssumeRole"],
                principals=[DataAwsIamPolicyDocumentStatementPrincipals(type="Service", identifiers=[service])],
            )
        ],
    ).json


def _validate(props: ComputeProps) -> None:
    def fail(name: str, expected: str) -> None:
        raise ValueError(f"ComputeProps.{name}: expected {expected}, got {getattr(props, name)!r}")

    if props.capacity not in CAPACITY_MODES:
        fail("capacity", f"one of {', '.join(CAPACITY_MODES)}")
    if not 1 <= props.min_tasks <= props.max_tasks:
        fail("min_tasks", f"1 to max_tasks ({props.max_tasks})")
    if not 0 <= props.min_hosts <= props.max_hosts or props.max_hosts < 1:
        fail("min_hosts", f"0 to max_hosts ({props.max_hosts}), max_hosts ≥ 1")
    if not 1 <= props.capacity_target_percent <= 100:
        fail("capacity_target_percent", "1 to 100")
    if props.warm_pool_hosts and props.capacity != "ec2":
        fail("warm_pool_hosts", "0 unless capacity is ec2 (a warm pool keeps hosts)")
    if not 0 <= props.warm_pool_hosts <= props.max_hosts:
        fail("warm_pool_hosts", f"0 to max_hosts ({props.max_hosts}): the group cannot take more")
    if props.scale_out_cooldown_s > 60:
        fail("scale_out_cooldown_s", "60 or less (surges are measured in minutes)")
    if props.scale_in_cooldown_s < 300:
        fail("scale_in_cooldown_s", "300 or more (scale in slowly)")
    if len(props.name) > 29:
        fail("name", "29 characters or fewer (load balancer and target group names)")


class Compute(Construct):
    def __init__(self, scope: Construct, id: str, *, props: ComputeProps) -> None:
        super().__init__(scope, id)
        _validate(props)
        self._props = props
        self._tags = {"Name": props.name, "PlatformRole": props.role.value}
        self.host_group: AutoscalingGroup | None = None
        """The ECS hosts' Auto Scaling group (capacity `ec2` only)."""
        self.cluster = EcsCluster(
            self,
            "cluster",
            name=props.name,
            tags=self._tags,
            setting=[EcsClusterSetting(name="containerInsights", value="enabled")],
        )
        self.service_security_group = self._service_security_group()
        self._load_balancer()
        strategy = self._capacity()
        self.task_definition = self._task_definition()
        self.service = EcsService(
            self,
            "service",
            name=CONTAINER_NAME,
            cluster=self.cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=props.min_tasks,
            capacity_provider_strategy=[EcsServiceCapacityProviderStrategy(**s) for s in strategy],
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=props.app_subnet_ids, security_groups=[self.service_security_group.id], assign_public_ip=False
            ),
            load_balancer=[
                EcsServiceLoadBalancer(
                    target_group_arn=self.target_group.arn, container_name=CONTAINER_NAME, container_port=CONTAINER_PORT
                )
            ],
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(enable=True, rollback=True),
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            health_check_grace_period_seconds=props.health_check_grace_s,
            ordered_placement_strategy=[
                EcsServiceOrderedPlacementStrategy(type="spread", field="attribute:ecs.availability-zone"),
                EcsServiceOrderedPlacementStrategy(type="binpack", field="memory"),
            ]
            if props.capacity == "ec2"
            else None,
            enable_ecs_managed_tags=True,
            propagate_tags="SERVICE",
            wait_for_steady_state=False,
            # Application Auto Scaling owns the running count; a deploy must not reset it.
            lifecycle={"ignore_changes": ["desired_count"]},
            depends_on=[self.forward_rule, self._capacity_providers],
            tags=self._tags,
        )
        self._scaling()
        self._outputs()

    # --- image and cluster capacity ----------------------------------------------------------

    def _capacity(self) -> list[dict]:
        """Hosts (ec2) or Fargate providers; returns the service's capacity provider strategy."""
        props = self._props
        strategy: list[dict[str, Any]]
        if props.capacity == "fargate":
            providers, strategy = ["FARGATE", "FARGATE_SPOT"], [{"capacity_provider": "FARGATE", "weight": 1}]
        elif props.capacity == "fargate_spot":
            # The floor on on-demand Fargate; the surge on Spot at a fraction of the price.
            providers = ["FARGATE", "FARGATE_SPOT"]
            strategy = [
                {"capacity_provider": "FARGATE", "weight": 0, "base": props.min_tasks},
                {"capacity_provider": "FARGATE_SPOT", "weight": 1},
            ]
        else:
            provider = self._hosts()
            providers, strategy = [provider.name], [{"capacity_provider": provider.name, "weight": 1}]
        self._capacity_providers = EcsClusterCapacityProviders(
            self,
            "capacity-providers",
            cluster_name=self.cluster.name,
            capacity_providers=providers,
            default_capacity_provider_strategy=[
                EcsClusterCapacityProvidersDefaultCapacityProviderStrategy(**s) for s in strategy
            ],
        )
        return strategy

    def _hosts(self) -> EcsCapacityProvider:
        props = self._props
        role = IamRole(
            self,
            "host-role",
            name=f"{props.name}-ecs-host",
            tags=self._tags,
            assume_role_policy=_trust(self, "host-trust", "ec2.amazonaws.com"),
        )
        for policy in ("service-role/AmazonEC2ContainerServiceforEC2Role", "AmazonSSMManagedInstanceCore"):
            IamRolePolicyAttachment(
                self, f"host-{policy.split('/')[-1]}", role=role.name, policy_arn=f"{MANAGED}/{policy}"
            )
        profile = IamInstanceProfile(
            self, "host-profile", name=f"{props.name}-ecs-host", role=role.name, tags=self._tags
        )
        hosts_sg = self._group_with_https_out(
            "hosts",
            f"{props.name}-ecs-hosts",
            "ECS hosts: no inbound; HTTPS out to the ECS, ECR and SSM APIs",
            "AWS APIs and image pulls",
        )
        ami = DataAwsSsmParameter(self, "ecs-ami", name=ECS_AMI_PARAMETER)
        # Tasks must not reach the host's instance credentials (ECS_AWSVPC_BLOCK_IMDS).
        user_data = "\n".join(
            [
                "#!/bin/bash",
                f"echo ECS_CLUSTER={props.name} >> /etc/ecs/ecs.config",
                "echo ECS_AWSVPC_BLOCK_IMDS=true >> /etc/ecs/ecs.config",
                "echo ECS_ENABLE_CONTAINER_METADATA=true >> /etc/ecs/ecs.config",
                # What placement counts on (modules/instances.py): kept back from tasks for the host.
                f"echo ECS_RESERVED_MEMORY={ECS_RESERVED_MEMORY_MIB} >> /etc/ecs/ecs.config",
                # A warm-pool host must not register with the cluster until it leaves the pool.
                *(["echo ECS_WARM_POOLS_CHECK=true >> /etc/ecs/ecs.config"] if props.warm_pool_hosts else []),
                "",
            ]
        )
        template = LaunchTemplate(
            self,
            "hosts-template",
            name=f"{props.name}-ecs-host",
            image_id=ami.value,
            instance_type=props.instance_type,
            user_data=Fn.base64encode(user_data),
            update_default_version=True,
            iam_instance_profile=LaunchTemplateIamInstanceProfile(arn=profile.arn),
            metadata_options=LaunchTemplateMetadataOptions(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1
            ),
            network_interfaces=[
                LaunchTemplateNetworkInterfaces(associate_public_ip_address="false", security_groups=[hosts_sg.id])
            ],
            block_device_mappings=[
                LaunchTemplateBlockDeviceMappings(
                    device_name="/dev/xvda",
                    ebs=LaunchTemplateBlockDeviceMappingsEbs(
                        encrypted="true", volume_size=HOST_VOLUME_GB, volume_type="gp3", delete_on_termination="true"
                    ),
                )
            ],
            monitoring=LaunchTemplateMonitoring(enabled=True),
            tag_specifications=[
                LaunchTemplateTagSpecifications(resource_type=t, tags=self._tags) for t in ("instance", "volume")
            ],
            tags=self._tags,
        )
        group = self.host_group = AutoscalingGroup(
            self,
            "hosts",
            name=f"{props.name}-ecs-hosts",
            min_size=props.min_hosts,
            max_size=props.max_hosts,
            vpc_zone_identifier=props.app_subnet_ids,
            launch_template=AutoscalingGroupLaunchTemplate(
                id=template.id, version=Token.as_string(template.latest_version)
            ),
            # Managed termination protection: ECS decides which hosts are empty enough to go.
            protect_from_scale_in=True,
            # Hosts are cattle: on delete, terminate them instead of waiting for scale-in that
            # termination protection would refuse (the service is gone by then).
            force_delete=True,
            default_instance_warmup=props.instance_warmup_s,
            health_check_type="EC2",
            # Exactly `warm_pool_hosts` stopped hosts: with MaxGroupPreparedCapacity no larger than
            # the pool's MinSize, the pool is MinSize whatever the group's size. ECS cannot set
            # ReuseOnScaleIn (hosts leaving the group terminate), so none is set.
            warm_pool=AutoscalingGroupWarmPool(
                pool_state="Stopped",
                min_size=props.warm_pool_hosts,
                max_group_prepared_capacity=props.warm_pool_hosts,
            )
            if props.warm_pool_hosts
            else None,
            tag=[
                AutoscalingGroupTag(key="AmazonECSManaged", value="true", propagate_at_launch=True),
                *[AutoscalingGroupTag(key=k, value=v, propagate_at_launch=True) for k, v in self._tags.items()],
            ],
        )
        return EcsCapacityProvider(
            self,
            "hosts-provider",
            name=f"{props.name}-ec2",
            auto_scaling_group_provider=EcsCapacityProviderAutoScalingGroupProvider(
                auto_scaling_group_arn=group.arn,
                managed_termination_protection="ENABLED",
                managed_draining="ENABLED",
                managed_scaling=EcsCapacityProviderAutoScalingGroupProviderManagedScaling(
                    status="ENABLED",
                    target_capacity=props.capacity_target_percent,
                    instance_warmup_period=props.instance_warmup_s,
                    minimum_scaling_step_size=props.min_scaling_step,
                    maximum_scaling_step_size=props.max_scaling_step,
                ),
            ),
            tags=self._tags,
        )

    # --- traffic ---------------------------------------------------------------------------

    def _service_security_group(self) -> SecurityGroup:
        props = self._props
        group = self._group_with_https_out(
            "service",
            f"{props.name}-service",
            "WordPress tasks: HTTP from the load balancer; out to data and HTTPS",
            "AWS APIs, S3 and WordPress.org over HTTPS",
        )
        for name, (client_sg, port) in props.client_of.items():
            VpcSecurityGroupEgressRule(
                self,
                f"service-to-{name}",
                security_group_id=group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                referenced_security_group_id=client_sg,
                description=f"to {name}",
            )
        return group

    def _group_with_https_out(self, id: str, name: str, description: str, out: str) -> SecurityGroup:
        """A group with no inbound rule and HTTPS out to anywhere (AWS APIs through NAT)."""
        group = SecurityGroup(
            self, f"{id}-sg", name=name, vpc_id=self._props.vpc_id, description=description, tags=self._tags
        )
        VpcSecurityGroupEgressRule(
            self,
            f"{id}-https-out",
            security_group_id=group.id,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            cidr_ipv4="0.0.0.0/0",
            description=out,
        )
        return group

    def _load_balancer(self) -> None:
        props = self._props
        cloudfront = DataAwsEc2ManagedPrefixList(self, "cloudfront-origin-facing", name=CLOUDFRONT_PREFIX_LIST)
        groups = {}
        for port, purpose in ((443, "https"), (80, "http")):
            group = SecurityGroup(
                self,
                f"alb-{purpose}-sg",
                name=f"{props.name}-alb-{purpose}",
                vpc_id=props.vpc_id,
                tags=self._tags,
                description=f"ALB {purpose.upper()}: from CloudFront origin-facing addresses only",
            )
            rule = VpcSecurityGroupIngressRule(
                self,
                f"alb-{purpose}-from-cloudfront",
                security_group_id=group.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                prefix_list_id=cloudfront.id,
                description=f"{purpose} from CloudFront",
            )
            skip_check(rule, {"CKV_AWS_260": "the source is CloudFront's origin-facing prefix list, not 0.0.0.0/0"})
            groups[purpose] = group
        VpcSecurityGroupEgressRule(
            self,
            "alb-to-service",
            security_group_id=groups["https"].id,
            ip_protocol="tcp",
            from_port=CONTAINER_PORT,
            to_port=CONTAINER_PORT,
            referenced_security_group_id=self.service_security_group.id,
            description="to WordPress tasks",
        )
        from_alb = allow_tcp_from(
            self,
            "alb",
            security_group_id=self.service_security_group.id,
            client_security_group_id=groups["https"].id,
            port=CONTAINER_PORT,
            description="HTTP from the load balancer",
        )
        skip_check(from_alb, {"CKV_AWS_260": "the source is the load balancer's security group, not 0.0.0.0/0"})

        self.load_balancer = Lb(
            self,
            "alb",
            name=props.name,
            load_balancer_type="application",
            internal=False,
            subnets=props.public_subnet_ids,
            security_groups=[g.id for g in groups.values()],
            drop_invalid_header_fields=True,
            desync_mitigation_mode="strictest",
            enable_deletion_protection=props.enable_deletion_protection,
            access_logs=LbAccessLogs(bucket=props.access_log_bucket, prefix=props.access_log_prefix, enabled=True),
            tags=self._tags,
        )
        skip_check(
            self.load_balancer,
            {
                "CKV2_AWS_28": "the web ACL sits on CloudFront; the ALB admits only CloudFront's origin-facing "
                "addresses carrying the origin secret",
            },
        )
        if not props.enable_deletion_protection:
            skip_check(
                self.load_balancer,
                {"CKV_AWS_150": "deletion protection is off by this environment's setting (rebuilt freely)"},
            )
        self.target_group = LbTargetGroup(
            self,
            "targets",
            name=target_group_name(props.name),
            port=CONTAINER_PORT,
            protocol="HTTP",
            target_type="ip",
            vpc_id=props.vpc_id,
            deregistration_delay=str(props.deregistration_delay_s),
            health_check=LbTargetGroupHealthCheck(
                enabled=True,
                path=props.health_check_path,
                matcher="200",
                interval=10,
                timeout=5,
                healthy_threshold=2,
                unhealthy_threshold=2,
            ),
            tags=self._tags,
        )
        skip_check(
            self.target_group,
            {
                "CKV_AWS_378": "TLS ends at the ALB; tasks answer plain HTTP inside the private app subnets, "
                "reachable only from the ALB's security group",
            },
        )
        LbListener(
            self,
            "http",
            load_balancer_arn=self.load_balancer.arn,
            port=80,
            protocol="HTTP",
            default_action=[
                LbListenerDefaultAction(
                    type="redirect",
                    redirect=LbListenerDefaultActionRedirect(protocol="HTTPS", port="443", status_code="HTTP_301"),
                )
            ],
            tags=self._tags,
        )
        self.https_listener = LbListener(
            self,
            "https",
            load_balancer_arn=self.load_balancer.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=props.certificate_arn,
            default_action=[
                LbListenerDefaultAction(
                    type="fixed-response",
                    fixed_response=(
                        LbListenerDefaultActionFixedResponse(
                            content_type="text/plain", message_body="Forbidden", status_code="403"
                        )
                    ),
                )
            ],
            tags=self._tags,
        )
        self.forward_rule = LbListenerRule(
            self,
            "from-cloudfront",
            listener_arn=self.https_listener.arn,
            priority=1,
            condition=[
                LbListenerRuleCondition(
                    http_header=LbListenerRuleConditionHttpHeader(
                        http_header_name=ORIGIN_HEADER, values=[props.origin_secret]
                    )
                )
            ],
            action=[LbListenerRuleAction(type="forward", target_group_arn=self.target_group.arn)],
            tags=self._tags,
        )

    # --- the task ----------------------------------------------------------------------------

    def _task_definition(self) -> EcsTaskDefinition:
        props = self._props
        logs, _ = encrypted_log_group(
            self,
            key_id="logs-key",
            group_id="logs",
            name=f"/ecs/{props.name}/{CONTAINER_NAME}",
            region=props.region,
            account_id=props.account_id,
            retention_days=props.log_retention_days,
            description=f"{props.name} container logs",
            tags=self._tags,
        )
        execution = IamRole(
            self,
            "execution-role",
            name=task_execution_role_name(props.name),
            tags=self._tags,
            assume_role_policy=_trust(self, "execution-trust", "ecs-tasks.amazonaws.com"),
        )
        IamRolePolicyAttachment(
            self,
            "execution-managed",
            role=execution.name,
            policy_arn=f"{MANAGED}/service-role/AmazonECSTaskExecutionRolePolicy",
        )
        # The image: the managed policy's ECR pull, which the registry's policy admits this role to.
        if props.secrets:
            statements = [
                DataAwsIamPolicyDocumentStatement(
                    actions=["ssm:GetParameters"], resources=sorted(set(props.secrets.values()))
                ),
                DataAwsIamPolicyDocumentStatement(actions=["kms:Decrypt"], resources=[props.secrets_key_arn]),
            ]
            IamRolePolicy(
                self,
                "execution-secrets",
                name="read-secrets",
                role=execution.id,
                policy=DataAwsIamPolicyDocument(self, "execution-access", statement=statements).json,
            )

        task = IamRole(
            self,
            "task-role",
            name=f"{props.name}-task",
            tags=self._tags,
            assume_role_policy=_trust(self, "task-trust", "ecs-tasks.amazonaws.com"),
        )
        IamRolePolicy(
            self,
            "task-media",
            name="media-bucket",
            role=task.id,
            policy=DataAwsIamPolicyDocument(
                self,
                "task-access",
                statement=[
                    DataAwsIamPolicyDocumentStatement(actions=["s3:ListBucket"], resources=[props.media_bucket_arn]),
                    DataAwsIamPolicyDocumentStatement(
                        actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                        resources=[f"{props.media_bucket_arn}/*"],
                    ),
                    DataAwsIamPolicyDocumentStatement(
                        actions=["kms:Decrypt", "kms:GenerateDataKey"], resources=[props.media_key_arn]
                    ),
                ],
            ).json,
        )

        container = {
            "name": CONTAINER_NAME,
            "image": f"{props.image_repository_url}:{props.image_tag}",
            "essential": True,
            "user": CONTAINER_USER,
            "portMappings": [{"containerPort": CONTAINER_PORT, "protocol": "tcp"}],
            "environment": [{"name": k, "value": v} for k, v in sorted(props.environment.items())],
            "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(props.secrets.items())],
            "readonlyRootFilesystem": True,
            "privileged": False,
            "mountPoints": [
                {"sourceVolume": v, "containerPath": p, "readOnly": False} for v, p in WRITABLE_PATHS.items()
            ],
            "linuxParameters": {"initProcessEnabled": True},
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": logs.name,
                    "awslogs-region": props.region,
                    "awslogs-stream-prefix": CONTAINER_NAME,
                },
            },
        }
        return EcsTaskDefinition(
            self,
            "task",
            family=props.name,
            network_mode="awsvpc",
            requires_compatibilities=["EC2" if props.capacity == "ec2" else "FARGATE"],
            cpu=str(props.task_cpu_units),
            memory=str(props.task_memory_mib),
            execution_role_arn=execution.arn,
            task_role_arn=task.arn,
            container_definitions=json.dumps([container]),
            volume=[EcsTaskDefinitionVolume(name=v) for v in WRITABLE_PATHS],
            tags=self._tags,
        )

    # --- scaling -----------------------------------------------------------------------------

    def _scaling(self) -> None:
        props = self._props
        target = AppautoscalingTarget(
            self,
            "scaling-target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{self.cluster.name}/{self.service.name}",
            min_capacity=props.min_tasks,
            max_capacity=props.max_tasks,
            tags=self._tags,
        )
        label = f"{self.load_balancer.arn_suffix}/{self.target_group.arn_suffix}"
        for name, metric, value, resource_label in (
            ("requests", "ALBRequestCountPerTarget", props.requests_per_target, label),
            ("cpu", "ECSServiceAverageCPUUtilization", props.cpu_target_percent, None),
        ):
            AppautoscalingPolicy(
                self,
                f"track-{name}",
                name=f"{props.name}-track-{name}",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                resource_id=target.resource_id,
                scalable_dimension=target.scalable_dimension,
                target_tracking_scaling_policy_configuration=(
                    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
                        target_value=value,
                        scale_out_cooldown=props.scale_out_cooldown_s,
                        scale_in_cooldown=props.scale_in_cooldown_s,
                        predefined_metric_specification=(
                            AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                                predefined_metric_type=metric, resource_label=resource_label
                            )
                        ),
                    )
                ),
            )
        surge = AppautoscalingPolicy(
            self,
            "surge",
            name=f"{props.name}-surge",
            policy_type="StepScaling",
            service_namespace=target.service_namespace,
            resource_id=target.resource_id,
            scalable_dimension=target.scalable_dimension,
            step_scaling_policy_configuration=AppautoscalingPolicyStepScalingPolicyConfiguration(
                adjustment_type="PercentChangeInCapacity",
                cooldown=props.scale_out_cooldown_s,
                metric_aggregation_type="Maximum",
                min_adjustment_magnitude=2,
                step_adjustment=[
                    # Past the threshold: +50 %; past twice the threshold: double at once.
                    AppautoscalingPolicyStepScalingPolicyConfigurationStepAdjustment(
                        metric_interval_lower_bound="0",
                        metric_interval_upper_bound=str(props.surge_requests_per_minute),
                        scaling_adjustment=50,
                    ),
                    AppautoscalingPolicyStepScalingPolicyConfigurationStepAdjustment(
                        metric_interval_lower_bound=str(props.surge_requests_per_minute), scaling_adjustment=100
                    ),
                ],
            ),
        )
        self.surge_alarm = CloudwatchMetricAlarm(
            self,
            "surge-alarm",
            alarm_name=f"{props.name}-surge",
            alarm_description="Breaking-news surge: one minute of ALB requests past the surge threshold",
            namespace="AWS/ApplicationELB",
            metric_name="RequestCount",
            statistic="Sum",
            period=60,
            evaluation_periods=1,
            threshold=props.surge_requests_per_minute,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            dimensions={"LoadBalancer": self.load_balancer.arn_suffix},
            alarm_actions=[surge.arn],
            tags=self._tags,
        )

    def _outputs(self) -> None:
        outputs = {
            "alb_dns_name": self.load_balancer.dns_name,
            "alb_zone_id": self.load_balancer.zone_id,
            "alb_arn_suffix": self.load_balancer.arn_suffix,
            "target_group_arn_suffix": self.target_group.arn_suffix,
            "cluster_name": self.cluster.name,
            "service_name": self.service.name,
            "task_definition_family": self.task_definition.family,
            "task_definition_arn": self.task_definition.arn,
            "image_repository_url": self._props.image_repository_url,
            "service_security_group_id": self.service_security_group.id,
        }
        if self.host_group is not None:
            outputs["host_group_name"] = self.host_group.name
        export(self, outputs)

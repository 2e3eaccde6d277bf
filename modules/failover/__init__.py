"""Failover: one region's side of a site that runs in two regions, and where its app finds its data.

What it creates
    `FailoverOrigin` (in each region of a replicated site):
      - a CloudWatch alarm that fires when the region's load balancer has had no healthy
        target for `unhealthy_minutes`;
      - a Route 53 health check on that alarm (CLOUDWATCH_METRIC);
      - the origin host's failover alias record for this region's load balancer, with that
        health check: PRIMARY in the active region, SECONDARY in the other, identified by
        the region.
    `AppEndpoints` (in every region that runs the site): the application's data settings as
    SSM String parameters, which the service reads at task start (ECS `secrets`):
      - `app/db-host`: the cluster's writer endpoint while this region is active, its reader
        endpoint while passive (a secondary Aurora cluster's writer endpoint is inactive);
      - `app/db-reader-host`, `app/cache-host`: this region's reader and cache endpoints.

Why the health check watches an alarm
    The origin admits only CloudFront's address ranges carrying the origin secret; Route 53's
    checkers could not reach it, and a custom header is not something they can send. The
    load balancer's own view of its targets is what an outage changes.

Which region is active
    One setting, `failover.primary_region` in the source workspace's file, decides both the
    record roles and the parameter values in both workspaces. A drill changes the live
    records and parameters and then rewrites that setting, so a plan afterwards is clean:
    nothing in Terraform fights a completed switchover.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from cdktf_cdktf_provider_aws.route53_health_check import Route53HealthCheck
from cdktf_cdktf_provider_aws.route53_record import (
    Route53Record,
    Route53RecordAlias,
    Route53RecordFailoverRoutingPolicy,
)
from cdktf_cdktf_provider_aws.ssm_parameter import SsmParameter
from constructs import Construct

from modules.outputs import export
from modules.policy import skip_check
from modules.roles import PlatformRole

ALARM_PERIOD_S = 60  # Route 53 reads standard-resolution alarms only
APP_SETTINGS = ("db-host", "db-reader-host", "cache-host")


@dataclass(frozen=True)
class FailoverOriginProps:
    name: str
    """Resource name prefix, e.g. `surgepress-production`."""
    region: str
    """This side's region: the record's set identifier and the alarm's region."""
    active: bool
    """Whether this region serves now (`failover.primary_region`): PRIMARY, else SECONDARY."""
    zone_id: str
    """The site's public zone."""
    record_name: str
    """The origin host name CloudFront connects to, e.g. `origin.live.example`."""
    load_balancer_dns_name: str
    load_balancer_zone_id: str
    load_balancer_arn_suffix: str
    target_group_arn_suffix: str
    unhealthy_minutes: int = 2
    """Minutes without a healthy target before Route 53 answers with the other region."""
    alarm_topic_arn: str | None = None
    """Where the alarm also notifies operators (the observability topic)."""
    role: PlatformRole = PlatformRole.PRIMARY
    """Recorded as the `PlatformRole` tag."""


class FailoverOrigin(Construct):
    def __init__(self, scope: Construct, id: str, *, props: FailoverOriginProps) -> None:
        super().__init__(scope, id)
        if not 1 <= props.unhealthy_minutes <= 10:
            raise ValueError(
                f"FailoverOriginProps.unhealthy_minutes: expected 1 to 10, got {props.unhealthy_minutes!r}"
            )
        tags = {"Name": f"{props.name}-origin", "PlatformRole": props.role.value}
        self.alarm = CloudwatchMetricAlarm(
            self,
            "no-healthy-targets",
            alarm_name=f"{props.name}-origin-no-healthy-targets",
            alarm_description="No healthy WordPress target behind the load balancer: Route 53 fails the origin over",
            namespace="AWS/ApplicationELB",
            metric_name="HealthyHostCount",
            statistic="Minimum",
            dimensions={"LoadBalancer": props.load_balancer_arn_suffix, "TargetGroup": props.target_group_arn_suffix},
            period=ALARM_PERIOD_S,
            evaluation_periods=props.unhealthy_minutes,
            comparison_operator="LessThanThreshold",
            threshold=1,
            treat_missing_data="breaching",
            tags=tags,
            alarm_actions=[props.alarm_topic_arn] if props.alarm_topic_arn else None,
            ok_actions=[props.alarm_topic_arn] if props.alarm_topic_arn else None,
        )
        self.health_check = Route53HealthCheck(
            self,
            "health-check",
            type="CLOUDWATCH_METRIC",
            cloudwatch_alarm_name=self.alarm.alarm_name,
            cloudwatch_alarm_region=props.region,
            insufficient_data_health_status="LastKnownStatus",
            tags={**tags, "Name": f"{props.name}-origin"},
        )
        failover = "PRIMARY" if props.active else "SECONDARY"
        self.record = Route53Record(
            self,
            "record",
            zone_id=props.zone_id,
            name=props.record_name,
            type="A",
            set_identifier=props.region,
            failover_routing_policy=Route53RecordFailoverRoutingPolicy(type=failover),
            health_check_id=self.health_check.id,
            alias=Route53RecordAlias(
                name=props.load_balancer_dns_name, zone_id=props.load_balancer_zone_id, evaluate_target_health=True
            ),
        )
        # Not the role: a drill moves it live, and an output would hold the old one until the next apply.
        export(self, {"origin_health_check_id": self.health_check.id, "origin_set_identifier": props.region})


@dataclass(frozen=True)
class AppEndpointsProps:
    name: str
    """Resource name prefix."""
    parameter_prefix: str
    """e.g. `/surgepress/production`; the settings live under `<prefix>/app/`."""
    active: bool
    """Whether this region's cluster writes now (see the module docstring)."""
    writer_endpoint: str
    reader_endpoint: str
    cache_endpoint: str
    role: PlatformRole = PlatformRole.PRIMARY
    """Recorded as the `PlatformRole` tag."""


class AppEndpoints(Construct):
    def __init__(self, scope: Construct, id: str, *, props: AppEndpointsProps) -> None:
        super().__init__(scope, id)
        tags = {"Name": f"{props.name}-app", "PlatformRole": props.role.value}
        values = {
            "db-host": props.writer_endpoint if props.active else props.reader_endpoint,
            "db-reader-host": props.reader_endpoint,
            "cache-host": props.cache_endpoint,
        }
        self.parameters: dict[str, SsmParameter] = {}
        for setting in APP_SETTINGS:
            parameter = SsmParameter(
                self,
                setting,
                name=f"{props.parameter_prefix}/app/{setting}",
                type="String",
                value=values[setting],
                description=f"where WordPress finds its {setting}",
                tags=tags,
            )
            skip_check(parameter, {"CKV2_AWS_34": "a host name, not a secret: every task and operator may read it"})
            self.parameters[setting] = parameter
        export(self, {"app_setting_parameters": {k: p.name for k, p in self.parameters.items()}})

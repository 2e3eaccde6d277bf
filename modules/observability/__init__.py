"""Observability: the platform's alarms, into one KMS-encrypted SNS topic.

What it creates
    A topic `<name>-alarms` encrypted with its own key (CloudWatch may use the key to publish,
    nothing else), and alarms that notify it when they fire and when they clear:
        ALB      target 5xx and load-balancer 5xx per minute; p95 target response time
        ECS      service CPU and memory
        Aurora   cluster CPU, connections, replica lag (when there are readers)
        Redis    engine CPU and evictions of every node
    Container Insights (compute) and the log groups (each module) supply the rest.

Defaults and why
    An alarm fires after `evaluation_minutes` (3) breaching minutes, except 5xx, which
    fires on the first minute: during a surge a minute of errors is already news. Missing
    data is "not breaching" — an idle staging at night is not an incident. Thresholds are
    per environment (`alarms:` in environments/).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
from constructs import Construct

from modules.notifications import encrypted_topic
from modules.outputs import export
from modules.roles import PlatformRole


@dataclass(frozen=True)
class ObservabilityProps:
    name: str
    """Topic and alarm name prefix, e.g. `surgepress-staging`."""
    account_id: str
    """Account that administers the topic key."""
    alb_arn_suffix: str
    """`app/<name>/<id>` of the load balancer (the ALB metrics' dimension)."""
    cluster_name: str
    """ECS cluster of the service."""
    service_name: str
    """ECS service of WordPress."""
    db_cluster_identifier: str
    """Aurora cluster identifier."""
    db_reader_count: int
    """Readers of the cluster (no replica-lag alarm without readers)."""
    cache_member_ids: tuple[str, ...]
    """Cache cluster ids of the Redis nodes (`<group>-001`, …)."""
    target_5xx_per_minute: int = 50
    """WordPress 5xx answers in one minute."""
    elb_5xx_per_minute: int = 20
    """Load-balancer-made 5xx (no healthy target, timeouts) in one minute."""
    response_time_p95_s: float = 1.5
    """p95 target response time, seconds."""
    ecs_cpu_percent: int = 85
    """Service CPU (tasks should have scaled out before this)."""
    ecs_memory_percent: int = 85
    """Service memory."""
    db_cpu_percent: int = 80
    """Aurora CPU of any instance."""
    db_connections: int = 800
    """Aurora connections of any instance."""
    db_replica_lag_ms: int = 1000
    """Largest Aurora replica lag, milliseconds."""
    cache_cpu_percent: int = 80
    """Redis engine CPU of a node (Redis is single-threaded)."""
    cache_evictions_per_5min: int = 100
    """Keys evicted from a node in five minutes (the object cache is too small)."""
    evaluation_minutes: int = 3
    """Breaching minutes before an alarm fires (5xx: one)."""
    role: PlatformRole = PlatformRole.PRIMARY
    """Primary or secondary (DR) copy; recorded as the `PlatformRole` tag."""


class Observability(Construct):
    def __init__(self, scope: Construct, id: str, *, props: ObservabilityProps) -> None:
        super().__init__(scope, id)
        if props.evaluation_minutes < 1:
            raise ValueError(
                f"ObservabilityProps.evaluation_minutes: expected 1 or more, got {props.evaluation_minutes!r}"
            )
        self._props = props
        self._tags = {"Name": f"{props.name}-alarms", "PlatformRole": props.role.value}
        self.topic = encrypted_topic(
            self,
            "topic",
            name=f"{props.name}-alarms",
            account_id=props.account_id,
            publishers=("cloudwatch.amazonaws.com",),
            description=f"{props.name} alarm notifications",
            tags=self._tags,
        )
        self.alarms: dict[str, CloudwatchMetricAlarm] = {}
        alb = {"LoadBalancer": props.alb_arn_suffix}
        service = {"ClusterName": props.cluster_name, "ServiceName": props.service_name}
        cluster = {"DBClusterIdentifier": props.db_cluster_identifier}
        self._alarm(
            "alb-target-5xx",
            "AWS/ApplicationELB",
            "HTTPCode_Target_5XX_Count",
            alb,
            "Sum",
            props.target_5xx_per_minute,
            minutes=1,
            what="WordPress answered 5xx",
        )
        self._alarm(
            "alb-elb-5xx",
            "AWS/ApplicationELB",
            "HTTPCode_ELB_5XX_Count",
            alb,
            "Sum",
            props.elb_5xx_per_minute,
            minutes=1,
            what="the load balancer answered 5xx itself",
        )
        self._alarm(
            "alb-response-time",
            "AWS/ApplicationELB",
            "TargetResponseTime",
            alb,
            "p95",
            props.response_time_p95_s,
            what="p95 response time of WordPress (s)",
        )
        self._alarm(
            "ecs-cpu",
            "AWS/ECS",
            "CPUUtilization",
            service,
            "Average",
            props.ecs_cpu_percent,
            what="WordPress service CPU (%)",
        )
        self._alarm(
            "ecs-memory",
            "AWS/ECS",
            "MemoryUtilization",
            service,
            "Average",
            props.ecs_memory_percent,
            what="WordPress service memory (%)",
        )
        self._alarm(
            "db-cpu", "AWS/RDS", "CPUUtilization", cluster, "Maximum", props.db_cpu_percent, what="Aurora CPU (%)"
        )
        self._alarm(
            "db-connections",
            "AWS/RDS",
            "DatabaseConnections",
            cluster,
            "Maximum",
            props.db_connections,
            what="Aurora connections",
        )
        if props.db_reader_count:
            self._alarm(
                "db-replica-lag",
                "AWS/RDS",
                "AuroraReplicaLagMaximum",
                cluster,
                "Maximum",
                props.db_replica_lag_ms,
                what="Aurora replica lag (ms)",
            )
        for member in props.cache_member_ids:
            node = {"CacheClusterId": member}
            self._alarm(
                f"cache-cpu-{member}",
                "AWS/ElastiCache",
                "EngineCPUUtilization",
                node,
                "Average",
                props.cache_cpu_percent,
                what=f"Redis engine CPU of {member} (%)",
            )
            self._alarm(
                f"cache-evictions-{member}",
                "AWS/ElastiCache",
                "Evictions",
                node,
                "Sum",
                props.cache_evictions_per_5min,
                minutes=1,
                period_s=300,
                what=f"keys evicted from {member} in 5 minutes",
            )
        export(self, {"alarm_topic_arn": self.topic.arn})

    def _alarm(
        self,
        id: str,
        namespace: str,
        metric: str,
        dimensions: dict[str, str],
        statistic: str,
        threshold: float,
        *,
        what: str,
        minutes: int | None = None,
        period_s: int = 60,
    ) -> None:
        props = self._props
        percentile = statistic.startswith("p")
        self.alarms[id] = CloudwatchMetricAlarm(
            self,
            id,
            alarm_name=f"{props.name}-{id}",
            alarm_description=f"{props.name}: {what}",
            namespace=namespace,
            metric_name=metric,
            dimensions=dimensions,
            statistic=None if percentile else statistic,
            extended_statistic=statistic if percentile else None,
            period=period_s,
            evaluation_periods=minutes or props.evaluation_minutes,
            threshold=threshold,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            tags=self._tags,
        )

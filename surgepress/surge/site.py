"""What the surge model simulates, read from a workspace's synthesized Terraform JSON.

The model judges what would be deployed, not a copy of the YAML: everything here comes from
`cdk.tf.json` (the scalable target, every scaling policy with its alarm, the capacity
provider, the host group and its instance type, the task's size, the target group's health
check, the service's grace period). `read_site` refuses a stack that is not a site (no
service) in one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from modules.instances import INSTANCE_TYPES, tasks_per_host
from surgepress.errors import UserError

REFERENCE = re.compile(r"^\$\{(?P<type>[a-z0-9_]+)\.(?P<name>[^.}]+)\.")


@dataclass(frozen=True)
class Alarm:
    metric: str
    """RequestCount, ... (the CloudWatch metric name)."""
    statistic: str
    period_s: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    """GreaterThanThreshold | GreaterThanOrEqualToThreshold | LessThan... (CloudWatch's)."""

    def breaches(self, value: float) -> bool:
        if self.comparison == "GreaterThanThreshold":
            return value > self.threshold
        if self.comparison == "GreaterThanOrEqualToThreshold":
            return value >= self.threshold
        if self.comparison == "LessThanThreshold":
            return value < self.threshold
        return value <= self.threshold


@dataclass(frozen=True)
class Step:
    lower: float | None
    """Relative to the alarm's threshold; None: minus infinity."""
    upper: float | None
    """None: infinity."""
    adjustment: int


@dataclass(frozen=True)
class TargetTracking:
    name: str
    metric: str
    """ALBRequestCountPerTarget | ECSServiceAverageCPUUtilization | ECSServiceAverageCPUUtilizationHighResolution"""
    target: float
    scale_out_cooldown_s: int
    scale_in_cooldown_s: int
    disable_scale_in: bool = False


@dataclass(frozen=True)
class StepScaling:
    name: str
    adjustment_type: str
    """ChangeInCapacity | PercentChangeInCapacity | ExactCapacity"""
    cooldown_s: int
    aggregation: str
    min_adjustment_magnitude: int
    steps: tuple[Step, ...]
    alarm: Alarm


@dataclass(frozen=True)
class HostGroup:
    instance_type: str
    min_hosts: int
    max_hosts: int
    target_capacity_percent: int
    warmup_s: int
    min_step: int
    max_step: int
    tasks_per_host: int
    """What binds is in `binding` (CPU, memory or ENIs)."""
    binding: str
    warm_pool: int = 0
    """Stopped hosts in the group's warm pool (`warm_pool_size`)."""
    volume_gb: float = 0.0
    """Each host's EBS volumes (what a stopped warm-pool host still costs)."""


@dataclass(frozen=True)
class Site:
    workspace: str
    capacity: str
    """ec2 | fargate | fargate_spot"""
    min_tasks: int
    max_tasks: int
    initial_tasks: int
    task_cpu_units: int
    task_memory_mib: int
    health_check_interval_s: int
    healthy_threshold: int
    deregistration_delay_s: int
    health_check_grace_s: int
    target_tracking: tuple[TargetTracking, ...]
    step_scaling: tuple[StepScaling, ...]
    hosts: HostGroup | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    on_demand_base: int = 0
    """fargate_spot: the tasks the strategy's FARGATE base keeps on on-demand Fargate."""


def _one(document: dict, rtype: str, workspace: str) -> tuple[str, dict]:
    found = (document.get("resource") or {}).get(rtype) or {}
    if len(found) != 1:
        raise UserError(
            f"surge: {workspace}'s synthesized stack has {len(found)} {rtype}, not one: the model simulates one "
            "WordPress service per site (a workspace without compute has nothing to simulate)"
        )
    return next(iter(found.items()))


def warm_pool_size(min_size: int, max_prepared: int | None, max_hosts: int, hosts: int) -> int:
    """The warm pool's size as EC2 Auto Scaling keeps it: MaxGroupPreparedCapacity (the group's
    maximum when unset or -1) less the group's desired capacity (`hosts`), never below the
    pool's MinSize (AWS doc, PutWarmPool). Read at the run's start: the model keeps the pool
    that size (it refills)."""
    prepared = max_hosts if max_prepared is None or max_prepared < 0 else max_prepared
    return max(min_size, prepared - hosts)


def warm_pool_block(group: dict) -> dict | None:
    """A synthesized aws_autoscaling_group's `warm_pool` block (one object, or a list of one)."""
    pool = group.get("warm_pool")
    return (pool[0] if pool else None) if isinstance(pool, list) else pool


def synthesized_pool_size(group: dict) -> int:
    """The warm pool a synthesized aws_autoscaling_group keeps (0 without one)."""
    pool = warm_pool_block(group)
    if not pool:
        return 0
    prepared = pool.get("max_group_prepared_capacity")
    return warm_pool_size(
        int(pool.get("min_size") or 0),
        None if prepared is None else int(prepared),
        int(group["max_size"]),
        int(group.get("desired_capacity") or group["min_size"]),
    )


def bound(value) -> float | None:
    return None if value is None or value == "" else float(value)


def placement(workspace: str, instance_type: str, cpu: int, memory: int, awsvpc: bool) -> tuple[int, str]:
    """Tasks per host of the type, and what binds (modules/instances.py)."""
    if instance_type not in INSTANCE_TYPES:
        raise UserError(f"surge: {workspace}: instance type {instance_type!r} is not in modules/instances.py")
    return tasks_per_host(instance_type, cpu, memory, awsvpc=awsvpc)


MODELLED_TRACKING = (
    "ALBRequestCountPerTarget",
    "ECSServiceAverageCPUUtilization",
    "ECSServiceAverageCPUUtilizationHighResolution",
)
MODELLED_STEP_ALARM = ("RequestCount", "Sum", 60)


def refuse_unmodelled(workspace: str, tracking: list[TargetTracking], stepping: list[StepScaling]) -> None:
    """What the engine does not model is refused in one line, never simulated as something else."""
    for policy in tracking:
        if policy.metric not in MODELLED_TRACKING:
            raise UserError(
                f"surge: {workspace}: target tracking on {policy.metric} ({policy.name}) is not modelled; "
                f"the engine simulates {', '.join(MODELLED_TRACKING)}"
            )
    for step in stepping:
        alarm = step.alarm
        if (alarm.metric, alarm.statistic, alarm.period_s) != MODELLED_STEP_ALARM:
            raise UserError(
                f"surge: {workspace}: step policy {step.name}'s alarm ({alarm.statistic} of {alarm.metric} over "
                f"{alarm.period_s} s) is not modelled; the engine simulates one-minute RequestCount sums"
            )


def read_site(document: dict, workspace: str) -> Site:
    """The site's scaling as synthesized (see the module's note)."""
    resources = document.get("resource") or {}
    if not resources.get("aws_ecs_service"):
        raise UserError(f"surge: {workspace} runs no WordPress service (no compute): there is nothing to simulate")
    _, service = _one(document, "aws_ecs_service", workspace)
    _, target = _one(document, "aws_appautoscaling_target", workspace)
    _, task = _one(document, "aws_ecs_task_definition", workspace)
    _, group = _one(document, "aws_lb_target_group", workspace)
    health = group.get("health_check") or {}
    alarms = {}
    for alarm in (resources.get("aws_cloudwatch_metric_alarm") or {}).values():
        for action in alarm.get("alarm_actions") or []:
            match = REFERENCE.match(action)
            if match and match["type"] == "aws_appautoscaling_policy":
                alarms[match["name"]] = Alarm(
                    metric=alarm["metric_name"],
                    statistic=alarm.get("statistic", "Average"),
                    period_s=int(alarm["period"]),
                    evaluation_periods=int(alarm["evaluation_periods"]),
                    datapoints_to_alarm=int(alarm.get("datapoints_to_alarm") or alarm["evaluation_periods"]),
                    threshold=float(alarm["threshold"]),
                    comparison=alarm["comparison_operator"],
                )
    tracking, stepping = [], []
    for key, policy in (resources.get("aws_appautoscaling_policy") or {}).items():
        if policy["policy_type"] == "TargetTrackingScaling":
            config = policy["target_tracking_scaling_policy_configuration"]
            tracking.append(
                TargetTracking(
                    name=policy["name"],
                    metric=config["predefined_metric_specification"]["predefined_metric_type"],
                    target=float(config["target_value"]),
                    scale_out_cooldown_s=int(config.get("scale_out_cooldown", 300)),
                    scale_in_cooldown_s=int(config.get("scale_in_cooldown", 300)),
                    disable_scale_in=bool(config.get("disable_scale_in", False)),
                )
            )
        elif policy["policy_type"] == "StepScaling":
            config = policy["step_scaling_policy_configuration"]
            if key not in alarms:
                raise UserError(f"surge: {workspace}: step policy {policy['name']} has no alarm that invokes it")
            stepping.append(
                StepScaling(
                    name=policy["name"],
                    adjustment_type=config["adjustment_type"],
                    cooldown_s=int(config.get("cooldown", 300)),
                    aggregation=config.get("metric_aggregation_type") or "Average",
                    min_adjustment_magnitude=int(config.get("min_adjustment_magnitude") or 0),
                    steps=tuple(
                        Step(
                            bound(s.get("metric_interval_lower_bound")),
                            bound(s.get("metric_interval_upper_bound")),
                            int(s["scaling_adjustment"]),
                        )
                        for s in config["step_adjustment"]
                    ),
                    alarm=alarms[key],
                )
            )
    strategy = service.get("capacity_provider_strategy") or []
    providers = [s["capacity_provider"] for s in strategy]
    capacity = "fargate_spot" if "FARGATE_SPOT" in providers else "fargate" if "FARGATE" in providers else "ec2"
    cpu, memory = int(task["cpu"]), int(task["memory"])
    hosts = None
    if capacity == "ec2":
        _, provider = _one(document, "aws_ecs_capacity_provider", workspace)
        _, asg = _one(document, "aws_autoscaling_group", workspace)
        _, template = _one(document, "aws_launch_template", workspace)
        scaling = provider["auto_scaling_group_provider"]["managed_scaling"]
        instance_type = template["instance_type"]
        per_host, binding = placement(workspace, instance_type, cpu, memory, task.get("network_mode") == "awsvpc")
        hosts = HostGroup(
            instance_type=instance_type,
            min_hosts=int(asg["min_size"]),
            max_hosts=int(asg["max_size"]),
            target_capacity_percent=int(scaling.get("target_capacity", 100)),
            warmup_s=int(scaling.get("instance_warmup_period", 300)),
            min_step=int(scaling.get("minimum_scaling_step_size", 1)),
            max_step=int(scaling.get("maximum_scaling_step_size", 10000)),
            tasks_per_host=per_host,
            binding=binding,
            warm_pool=synthesized_pool_size(asg),
            volume_gb=sum(
                float((m.get("ebs") or {}).get("volume_size") or 0) for m in template.get("block_device_mappings") or []
            ),
        )
    refuse_unmodelled(workspace, tracking, stepping)
    return Site(
        workspace=workspace,
        capacity=capacity,
        min_tasks=int(target["min_capacity"]),
        max_tasks=int(target["max_capacity"]),
        initial_tasks=int(service.get("desired_count") or target["min_capacity"]),
        task_cpu_units=cpu,
        task_memory_mib=memory,
        health_check_interval_s=int(health.get("interval", 30)),
        healthy_threshold=int(health.get("healthy_threshold", 5)),
        deregistration_delay_s=int(group.get("deregistration_delay", 300)),
        health_check_grace_s=int(service.get("health_check_grace_period_seconds") or 0),
        target_tracking=tuple(sorted(tracking, key=lambda p: p.name)),
        step_scaling=tuple(sorted(stepping, key=lambda p: p.name)),
        hosts=hosts,
        on_demand_base=sum(int(s.get("base") or 0) for s in strategy if s["capacity_provider"] == "FARGATE")
        if capacity == "fargate_spot"
        else 0,
    )

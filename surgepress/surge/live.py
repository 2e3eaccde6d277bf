"""The same `Site` as `site.read_site`, read from a deployed workspace's APIs instead of its
synthesized JSON (`surge --from-deployment`): what is live, on either target.

Application Auto Scaling gives the scalable target and the policies; CloudWatch the alarm
whose actions name each step policy; ECS the service, its task definition and the capacity
provider; Auto Scaling the host group (and its launch template's instance type, from EC2);
ELB the target group's health check and deregistration delay.
"""

from __future__ import annotations

from surgepress.aws import WorkspaceClients
from surgepress.errors import UserError
from surgepress.surge.site import (
    Alarm,
    HostGroup,
    Site,
    Step,
    StepScaling,
    TargetTracking,
    bound,
    placement,
    refuse_unmodelled,
    warm_pool_size,
)

FARGATE = {"FARGATE": "fargate", "FARGATE_SPOT": "fargate_spot"}


def read_deployed(clients: WorkspaceClients, workspace: str, outputs: dict) -> Site:
    """`outputs`: the workspace's Terraform outputs (cluster_name, service_name)."""
    try:
        cluster, service_name = outputs["cluster_name"], outputs["service_name"]
    except KeyError:
        raise UserError(
            f"surge --from-deployment: {workspace} is not deployed with compute (no cluster outputs)"
        ) from None
    ecs, scaling = clients.get("ecs"), clients.get("application-autoscaling")
    (service,) = ecs.describe_services(cluster=cluster, services=[service_name])["services"]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    resource_id = f"service/{cluster}/{service_name}"
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource_id])["ScalableTargets"]
    policies = scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource_id)["ScalingPolicies"]
    alarms = [
        a
        for page in clients.get("cloudwatch").get_paginator("describe_alarms").paginate()
        for a in page["MetricAlarms"]
    ]
    tracking, stepping = [], []
    for policy in policies:
        if policy["PolicyType"] == "TargetTrackingScaling":
            config = policy["TargetTrackingScalingPolicyConfiguration"]
            tracking.append(
                TargetTracking(
                    name=policy["PolicyName"],
                    metric=config["PredefinedMetricSpecification"]["PredefinedMetricType"],
                    target=float(config["TargetValue"]),
                    scale_out_cooldown_s=int(config.get("ScaleOutCooldown", 300)),
                    scale_in_cooldown_s=int(config.get("ScaleInCooldown", 300)),
                    disable_scale_in=bool(config.get("DisableScaleIn", False)),
                )
            )
            continue
        config = policy["StepScalingPolicyConfiguration"]
        alarm = next((a for a in alarms if policy["PolicyARN"] in a.get("AlarmActions", [])), None)
        if alarm is None:
            raise UserError(
                f"surge --from-deployment: {workspace}: no alarm invokes step policy {policy['PolicyName']}"
            )
        stepping.append(
            StepScaling(
                name=policy["PolicyName"],
                adjustment_type=config["AdjustmentType"],
                cooldown_s=int(config.get("Cooldown", 300)),
                aggregation=config.get("MetricAggregationType") or "Average",
                min_adjustment_magnitude=int(config.get("MinAdjustmentMagnitude") or 0),
                steps=tuple(
                    Step(
                        bound(s.get("MetricIntervalLowerBound")),
                        bound(s.get("MetricIntervalUpperBound")),
                        int(s["ScalingAdjustment"]),
                    )
                    for s in config["StepAdjustments"]
                ),
                alarm=Alarm(
                    metric=alarm["MetricName"],
                    statistic=alarm.get("Statistic", "Average"),
                    period_s=int(alarm["Period"]),
                    evaluation_periods=int(alarm["EvaluationPeriods"]),
                    datapoints_to_alarm=int(alarm.get("DatapointsToAlarm") or alarm["EvaluationPeriods"]),
                    threshold=float(alarm["Threshold"]),
                    comparison=alarm["ComparisonOperator"],
                ),
            )
        )
    elbv2 = clients.get("elbv2")
    group_arn = service["loadBalancers"][0]["targetGroupArn"]
    (group,) = elbv2.describe_target_groups(TargetGroupArns=[group_arn])["TargetGroups"]
    attributes = {
        a["Key"]: a["Value"] for a in elbv2.describe_target_group_attributes(TargetGroupArn=group_arn)["Attributes"]
    }
    providers = [s["capacityProvider"] for s in service.get("capacityProviderStrategy") or []]
    capacity = next((FARGATE[p] for p in providers if p in FARGATE), "ec2")
    cpu, memory = int(task["cpu"]), int(task["memory"])
    hosts = None
    if capacity == "ec2":
        (provider,) = ecs.describe_capacity_providers(capacityProviders=providers)["capacityProviders"]
        managed = provider["autoScalingGroupProvider"]["managedScaling"]
        asg_name = provider["autoScalingGroupProvider"]["autoScalingGroupArn"].rsplit("/", 1)[-1]
        autoscaling = clients.get("autoscaling")
        (asg,) = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[asg_name])["AutoScalingGroups"]
        template = asg["LaunchTemplate"]
        (version,) = clients.get("ec2").describe_launch_template_versions(
            LaunchTemplateId=template["LaunchTemplateId"], Versions=[template.get("Version", "$Latest")]
        )["LaunchTemplateVersions"]
        instance_type = version["LaunchTemplateData"]["InstanceType"]
        per_host, binding = placement(workspace, instance_type, cpu, memory, task.get("networkMode") == "awsvpc")
        warm = autoscaling.describe_warm_pool(AutoScalingGroupName=asg_name).get("WarmPoolConfiguration")
        hosts = HostGroup(
            instance_type=instance_type,
            min_hosts=int(asg["MinSize"]),
            max_hosts=int(asg["MaxSize"]),
            target_capacity_percent=int(managed.get("targetCapacity", 100)),
            warmup_s=int(managed.get("instanceWarmupPeriod", 300)),
            min_step=int(managed.get("minimumScalingStepSize", 1)),
            max_step=int(managed.get("maximumScalingStepSize", 10000)),
            tasks_per_host=per_host,
            binding=binding,
            warm_pool=warm_pool_size(
                int(warm.get("MinSize") or 0),
                warm.get("MaxGroupPreparedCapacity"),
                int(asg["MaxSize"]),
                int(asg.get("DesiredCapacity", asg["MinSize"])),
            )
            if warm
            else 0,
            volume_gb=sum(
                float((m.get("Ebs") or {}).get("VolumeSize") or 0)
                for m in version["LaunchTemplateData"].get("BlockDeviceMappings") or []
            ),
        )
    refuse_unmodelled(workspace, tracking, stepping)
    return Site(
        workspace=workspace,
        capacity=capacity,
        min_tasks=int(target["MinCapacity"]),
        max_tasks=int(target["MaxCapacity"]),
        initial_tasks=int(service["desiredCount"]),
        task_cpu_units=cpu,
        task_memory_mib=memory,
        health_check_interval_s=int(group["HealthCheckIntervalSeconds"]),
        healthy_threshold=int(group["HealthyThresholdCount"]),
        deregistration_delay_s=int(attributes.get("deregistration_delay.timeout_seconds", 300)),
        health_check_grace_s=int(service.get("healthCheckGracePeriodSeconds") or 0),
        target_tracking=tuple(sorted(tracking, key=lambda p: p.name)),
        step_scaling=tuple(sorted(stepping, key=lambda p: p.name)),
        hosts=hosts,
        on_demand_base=sum(
            int(s.get("base") or 0)
            for s in service.get("capacityProviderStrategy") or []
            if s["capacityProvider"] == "FARGATE"
        )
        if capacity == "fargate_spot"
        else 0,
    )

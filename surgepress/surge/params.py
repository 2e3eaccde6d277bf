"""The constants of the surge model that AWS does not publish, each named and overridable.

Every field's docstring gives its source, or says "assumed" where no source here gives a
figure (../shared/research/autoscaling.md collects what AWS documents and what users
report). `Timings()` is the model's default; `Timings(ec2_boot_s=20)` a what-if. Reports
print the values they ran with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class Timings:
    metric_delay_s: int = 60
    """Seconds after a one-minute period ends until its datapoint is in CloudWatch and an alarm
    can judge it. Assumed: AWS publishes no figure ("Elastic Load Balancing measures and sends
    its metrics in 60-second intervals"; ECS likewise every minute)."""
    ec2_boot_s: int = 40
    """Launch to a booted ECS-optimized AL2023 host. Assumed from a third-party measurement
    (brevdev ec2-coldboot-research: 25.8 s on average to SSH, Pending->Running 16.5 s), plus the
    encrypted root volume, which slows a launch (martysweet.co.uk, Oct 2023)."""
    agent_register_s: int = 20
    """Boot to the ECS agent registering the host with the cluster. Assumed: the one user report
    (amazon-ecs-agent#2309: 41 s from launch to registration) includes the boot."""
    warm_pool_start_s: int = 30
    """A stopped warm-pool host to a registered one ("as low as 30 seconds", InfoQ 2021)."""
    image_pull_s: int = 15
    """Pulling the WordPress image on a host that lacks it, through the ECR interface endpoints.
    Assumed (a ~250 MB image at a few hundred Mbit/s)."""
    container_start_s: int = 5
    """Container start to Apache listening. Assumed."""
    fargate_start_s: int = 45
    """A Fargate task from placement to its container running, image pull included. Assumed:
    AWS publishes no figure."""
    provisioning_limit: int = 100
    """Tasks that may wait in PROVISIONING per cluster (Deep Dive, quoted in containers-roadmap#2381)."""
    reservation_delay_s: int = 60
    """Seconds from the capacity provider's minute until the host group's scaling acts on the
    CapacityProviderReservation it published (a CloudWatch metric, each minute; the group's
    target tracking alarm takes one datapoint: containers-roadmap#638, a user report). Assumed:
    the same as `metric_delay_s`."""
    capacity_provider_period_s: int = 60
    """"Every minute, Amazon ECS collects information" for CapacityProviderReservation (AWS doc)."""
    scale_in_minutes: int = 15
    """Datapoints below target before the host group scales in ("scale-in alarms require 15 data
    points (15 minutes)", AWS doc); the service's target tracking AlarmLow is 15 of 15 too."""
    queue_wait_s: int = 10
    """How long a request waits for a busy fleet before it fails (ALB to php-fpm: the listen
    backlog drains or the request times out). Assumed."""
    cpu_percent_at_capacity: int = 90
    """ECS CPU utilization of a task serving its calibrated capacity. Assumed (php-fpm workers
    near saturation at the p95 objective)."""

    def override(self, **changes: int) -> Timings:
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown timing {unknown[0]!r}: one of {', '.join(sorted(known))}")
        return Timings(**{**asdict(self), **changes})


DEFAULT = Timings()

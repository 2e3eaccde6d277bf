"""Auto Scaling: a warm pool is refused where AWS refuses it.

moto stores any `PutWarmPool`. AWS refuses a warm pool for a group with a mixed instances
policy, or whose launch template requests Spot Instances ("You cannot add a warm pool to
Auto Scaling groups that have a mixed instances policy or that launch Spot Instances", EC2
Auto Scaling User Guide, warm pools' limitations). The platform's host
group (modules/compute) uses one launch template of on-demand hosts, so it passes.
"""

from __future__ import annotations

from typing import Any


def refusal(group: Any) -> str | None:
    """Why AWS refuses this warm pool for the group; None when it takes it."""
    if group.mixed_instances_policy:
        return "You can't add a warm pool to an Auto Scaling group that has a mixed instances policy."
    template = group.ec2_launch_template
    if template is not None:
        data = template.get_version(group.launch_template_version).data
        if (data.get("InstanceMarketOptions") or {}).get("MarketType") == "spot":
            return "You can't add a warm pool to an Auto Scaling group that launches Spot Instances."
    return None


def install() -> None:
    from moto.autoscaling.exceptions import ValidationError
    from moto.autoscaling.models import AutoScalingBackend

    original = AutoScalingBackend.put_warm_pool

    def put_warm_pool(self: Any, group_name: str, max_group_prepared_capacity: Any, min_size: Any, *a: Any, **k: Any):
        group = self.autoscaling_groups.get(group_name)
        if group is not None:
            why = refusal(group)
            if why:
                raise ValidationError(why)
        return original(self, group_name, max_group_prepared_capacity, min_size, *a, **k)

    AutoScalingBackend.put_warm_pool = put_warm_pool

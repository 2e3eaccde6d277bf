"""Auto Scaling: a group keeps its default instance warm-up.

moto drops `DefaultInstanceWarmup` from `CreateAutoScalingGroup` and
`UpdateAutoScalingGroup`, so it reads back as 0 and every plan sets it again. AWS keeps it
(the capacity provider's new hosts count in metrics only after it).
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    from moto.autoscaling.responses import AutoScalingResponse

    for name in ("create_auto_scaling_group", "update_auto_scaling_group"):
        original = getattr(AutoScalingResponse, name)

        def wrapper(self: Any, _original: Any = original) -> Any:
            result = _original(self)
            warmup = self._get_int_param("DefaultInstanceWarmup")
            group = self.autoscaling_backend.autoscaling_groups.get(self._get_param("AutoScalingGroupName"))
            if warmup is not None and group is not None:
                group.default_instance_warmup = warmup
            return result

        setattr(AutoScalingResponse, name, wrapper)

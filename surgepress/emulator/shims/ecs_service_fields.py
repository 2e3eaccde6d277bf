"""ECS: a service answers with the settings it was created or updated with.

moto drops a service's capacity provider strategy, placement strategy, health-check grace
period, managed-tags flag and deployment configuration, so the provider reads defaults and
plans to replace the service. AWS returns them as given; a service placed by a capacity
provider strategy has no launch type.
"""

from __future__ import annotations

from typing import Any

KEPT = (
    "capacityProviderStrategy",
    "placementStrategy",
    "placementConstraints",
    "healthCheckGracePeriodSeconds",
    "enableECSManagedTags",
    "enableExecuteCommand",
    "deploymentConfiguration",
    "availabilityZoneRebalancing",
)


def _keep(service: Any, params: dict[str, Any]) -> None:
    from moto.core.utils import camelcase_to_underscores

    for key in KEPT:
        if key in params:
            setattr(service, camelcase_to_underscores(key), params[key])
    if params.get("capacityProviderStrategy"):
        service.launch_type = None


def install() -> None:
    from moto.ecs.responses import EC2ContainerServiceResponse

    for name in ("create_service", "update_service"):
        original = getattr(EC2ContainerServiceResponse, name)

        def wrapper(self: Any, _original: Any = original) -> Any:
            result = _original(self)
            _keep(result.result["service"], self._get_params())
            return result

        setattr(EC2ContainerServiceResponse, name, wrapper)

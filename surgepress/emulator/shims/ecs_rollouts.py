"""ECS: a new task definition is a new deployment, judged by whether its image can be pulled.

moto gives a service one deployment when it is created, `IN_PROGRESS` until as many tasks
run as are desired (none run here, so forever), and keeps it when the service is updated
to another task definition. AWS starts a new PRIMARY deployment for each new task
definition; with the deployment circuit breaker (rollback on, as the platform sets it), a
deployment whose tasks cannot start is marked FAILED and the service goes back to its last
completed task definition in a new deployment.

The emulator runs no containers (the local data plane serves the site), so one cause of
failure is modelled, the one a registry decides: the image a task definition names is in
the emulator's ECR (any account, the region the image URL names) or it is not. Present:
the deployment COMPLETED. Absent: FAILED with the reason ECS gives, and the rollback.
An image outside ECR cannot be judged here and counts as present.
"""

from __future__ import annotations

import re
from typing import Any

ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<repo>[^:@]+):(?P<tag>.+)$"
)
CIRCUIT_BREAKER = "ECS deployment circuit breaker: tasks failed to start."


def _pullable(backend: Any, task_definition_arn: str) -> bool:
    from moto.ecr.models import ecr_backends

    definition = backend.describe_task_definition(task_definition_arn)
    for container in definition.container_definitions:
        match = ECR_IMAGE.match(container.get("image", ""))
        if match is None:
            continue
        registry = ecr_backends[match["account"]][match["region"]]
        repository = registry.repositories.get(match["repo"])
        if repository is None or not any(match["tag"] in image.image_tags for image in repository.images):
            return False
    return True


def _deployment(service: Any, task_definition: str, state: str, reason: str) -> dict[str, Any]:
    from moto.core.utils import utcnow
    from moto.moto_api._internal import mock_random

    now = utcnow()
    return {
        "id": f"ecs-svc/{mock_random.randint(0, 32**12)}",
        "status": "PRIMARY",
        "taskDefinition": task_definition,
        "desiredCount": service.desired_count,
        "pendingCount": 0,
        "runningCount": 0,
        "failedTasks": 0,
        "createdAt": now,
        "updatedAt": now,
        "launchType": service.launch_type,
        "rolloutState": state,
        "rolloutStateReason": reason,
    }


def _roll(backend: Any, service: Any, previous: str | None) -> None:
    """A new deployment of the service's task definition, completed or failed and rolled back."""
    wanted = service.task_definition
    for deployment in service.deployments:
        deployment["status"] = "ACTIVE" if deployment["rolloutState"] == "COMPLETED" else "INACTIVE"
    if _pullable(backend, wanted):
        new = _deployment(service, wanted, "COMPLETED", "ECS deployment completed.")
        service.deployments = [new]
        return
    failed = _deployment(service, wanted, "FAILED", CIRCUIT_BREAKER)
    if previous is None:  # nothing to go back to
        service.deployments = [failed]
        return
    failed["status"] = "ACTIVE"
    service.task_definition = previous
    back = _deployment(service, previous, "COMPLETED", f"ECS deployment rolled back to {previous}.")
    service.deployments = [back, failed]


def install() -> None:
    from moto.ecs.models import EC2ContainerServiceBackend

    create, update = EC2ContainerServiceBackend.create_service, EC2ContainerServiceBackend.update_service

    def create_service(self: Any, *args: Any, **kwargs: Any) -> Any:
        service = create(self, *args, **kwargs)
        if service.task_definition and service.deployment_controller.get("type") == "ECS":
            _roll(self, service, None)
        return service

    def update_service(self: Any, service_properties: dict[str, Any]) -> Any:
        cluster = service_properties.get("cluster", "default")
        name = service_properties.get("service", "").split("/")[-1]
        before = self._get_service(cluster, name)
        previous = before.task_definition
        forced = bool(service_properties.get("force_new_deployment"))
        service = update(self, service_properties)
        changed = service.task_definition != previous
        if (changed or forced) and service.deployment_controller.get("type") == "ECS":
            _roll(self, service, previous if changed else None)
        return service

    EC2ContainerServiceBackend.create_service = create_service
    EC2ContainerServiceBackend.update_service = update_service

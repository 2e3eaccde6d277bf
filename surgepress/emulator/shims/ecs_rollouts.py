"""ECS: a new task definition is a new deployment, judged by whether its image can be pulled.

moto gives a service one deployment when it is created, `IN_PROGRESS` until as many tasks
run as are desired (none run here, so forever), and keeps it when the service is updated
to another task definition. AWS starts a new PRIMARY deployment for each new task
definition; with the deployment circuit breaker (rollback on, as the platform sets it), a
deployment whose tasks cannot start is marked FAILED and the service goes back to its last
completed task definition in a new deployment.

The emulator runs no containers (the local data plane serves the site), so one cause of
failure is modelled, the one a registry decides: can the task's execution role pull the
image its task definition names? It can when the image is in the emulator's ECR (the
account and region the image URL names) under that tag, and IAM lets the execution role
call ecr:GetAuthorizationToken and, on the repository, ecr:BatchGetImage and
ecr:GetDownloadUrlForLayer: its own policies with the repository's policy, as IAM joins
them (`_iam.refusal`: across accounts both must allow). Then the deployment COMPLETED.
Without an execution role a Fargate task cannot pull from ECR at all; on EC2 the agent pulls
with the container instance's role, which the emulator (running no container instances)
cannot judge, so such a pull counts as allowed.
Otherwise FAILED with the reason ECS gives, and the rollback (why the pull was refused,
ECS's CannotPullContainerError, AWS shows on the stopped tasks, which the emulator does not
keep). An image outside ECR cannot be judged here and counts as pullable.
"""

from __future__ import annotations

import re
from typing import Any

ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/(?P<repo>[^:@]+):(?P<tag>.+)$"
)
CIRCUIT_BREAKER = "ECS deployment circuit breaker: tasks failed to start."


AGENT_PULLS = ("ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage")
"""What the ECS agent calls on the repository to pull an image (after ecr:GetAuthorizationToken),
as AWS documents it: written here, not taken from modules/registry, so that the shim judges
the registry's grant rather than repeating it."""


FARGATE = ("FARGATE", "FARGATE_SPOT")


def _on_fargate(service: Any) -> bool:
    strategy = getattr(service, "capacity_provider_strategy", None) or []
    providers = [s.get("capacityProvider") for s in strategy if isinstance(s, dict)]
    return service.launch_type == "FARGATE" or any(p in FARGATE for p in providers)


def pull_refusals(backend: Any, task_definition_arn: str, fargate: bool = True) -> list[str]:
    """ECS's CannotPullContainerError for each image of the task definition its execution role
    cannot pull (`fargate`: no container instance's role to fall back on)."""
    from moto.ecr.models import ecr_backends

    from surgepress.emulator.shims._iam import own_refusal, refusal

    definition = backend.describe_task_definition(task_definition_arn)
    role = getattr(definition, "execution_role_arn", None)
    out = []
    for container in definition.container_definitions:
        image = container.get("image", "")
        match = ECR_IMAGE.match(image)
        if match is None:
            continue
        repository = ecr_backends[match["account"]][match["region"]].repositories.get(match["repo"])
        if repository is None or not any(match["tag"] in i.image_tags for i in repository.images):
            out.append(f"CannotPullContainerError: {image}: not found")
            continue
        if not role:
            if fargate:
                out.append(
                    f"CannotPullContainerError: {image}: the task definition has no execution role to pull it with"
                )
            continue
        why = own_refusal(role, "ecr:GetAuthorizationToken") or next(
            (w for a in AGENT_PULLS if (w := refusal(role, a, repository.arn, repository.policy))), None
        )
        if why:
            out.append(f"CannotPullContainerError: {image}: AccessDenied: {why}")
    return out


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
    refused = pull_refusals(backend, wanted, fargate=_on_fargate(service))
    if not refused:
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

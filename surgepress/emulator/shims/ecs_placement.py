"""ECS: placement by what the host's instance type offers, ENIs included.

moto registers every container instance with 4,096 CPU units and 7,482 MiB whatever its
instance type, and places awsvpc tasks without counting network interfaces. ECS registers
the instance's vCPUs (1,024 units each) and its memory less what the agent keeps
(`ECS_RESERVED_MEMORY`, which the platform's hosts set), and an awsvpc task takes an ENI of
its own while the host keeps its primary one: without ENI trunking at most (ENIs - 1) such
tasks fit, and RunTask places no more (AWS reports RESOURCE:ENI). A task reserves its
task-level CPU and memory where the definition sets them. Here both follow
modules/instances.py, the table the settings loader and policy check CKV_SURGE_5 use; an
instance type missing from it keeps moto's figures and no ENI limit.
"""

from __future__ import annotations

import threading
from typing import Any

from modules.instances import ECS_RESERVED_MEMORY_MIB, INSTANCE_TYPES

ENI = "ENI"


def _set(resources: list[dict[str, Any]], name: str, value: int) -> None:
    for resource in resources:
        if resource.get("name") == name:
            resource["integerValue"] = value


PLACING = threading.Lock()


def requirements(task_definition: Any) -> dict[str, Any]:
    """What one task reserves on a host, as ECS counts it: the task-level CPU and memory when
    the task definition sets them (the platform's do; moto added up container sizes only, and
    failed on a container without one), else the containers' own; host ports in bridge mode
    (an awsvpc task answers on its own ENI, which it takes one of)."""
    containers = list(task_definition.container_definitions or [])
    awsvpc = getattr(task_definition, "network_mode", None) == "awsvpc"

    def summed(*names: str) -> int:
        return sum(int(next((c[n] for n in names if c.get(n)), 0)) for c in containers)

    cpu = int(task_definition.cpu) if task_definition.cpu else summed("cpu", "Cpu")
    memory = (
        int(task_definition.memory)
        if task_definition.memory
        else summed("memory", "Memory", "memoryReservation", "MemoryReservation")
    )
    ports = (
        []
        if awsvpc
        else [
            m.get("hostPort", m.get("HostPort"))
            for c in containers
            for m in c.get("portMappings", c.get("PortMappings", []))
            if m.get("hostPort", m.get("HostPort"))
        ]
    )
    return {"CPU": cpu, "MEMORY": memory, "PORTS": ports, "PORTS_UDP": [], ENI: 1 if awsvpc else 0}


def install() -> None:
    from moto.ecs.models import ContainerInstance, EC2ContainerServiceBackend

    original_init = ContainerInstance.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        spec = INSTANCE_TYPES.get(self.attributes.get("ecs.instance-type"))
        self.surgepress_free_enis = None if spec is None else spec.enis - 1
        if spec is not None:
            for resources in (self.registered_resources, self.remaining_resources):
                _set(resources, "CPU", spec.vcpus * 1024)
                _set(resources, "MEMORY", spec.memory_mib - ECS_RESERVED_MEMORY_MIB)

    can_be_placed = EC2ContainerServiceBackend._can_be_placed
    update = EC2ContainerServiceBackend.update_container_instance_resources
    run_task = EC2ContainerServiceBackend.run_task

    def calculate(task_definition: Any) -> dict[str, Any]:
        return requirements(task_definition)

    def locked_run_task(self: Any, *args: Any, **kwargs: Any) -> Any:
        with PLACING:  # moto checks then takes a host's resources: one placement at a time
            return run_task(self, *args, **kwargs)

    def placeable(container_instance: Any, needed: dict[str, Any]) -> bool:
        free = getattr(container_instance, "surgepress_free_enis", None)
        if needed.get(ENI) and free is not None and free < needed[ENI]:
            return False
        return can_be_placed(container_instance, needed)

    def update_resources(
        self: Any, container_instance: Any, task_resources: dict[str, Any], removing: bool = False
    ) -> None:
        update(self, container_instance, task_resources, removing)
        free = getattr(container_instance, "surgepress_free_enis", None)
        if free is not None and task_resources.get(ENI):
            container_instance.surgepress_free_enis = free + (task_resources[ENI] if removing else -task_resources[ENI])

    ContainerInstance.__init__ = __init__
    EC2ContainerServiceBackend.run_task = locked_run_task
    EC2ContainerServiceBackend._calculate_task_resource_requirements = staticmethod(calculate)
    EC2ContainerServiceBackend._can_be_placed = staticmethod(placeable)
    EC2ContainerServiceBackend.update_container_instance_resources = update_resources

"""What an ECS host of each instance type offers tasks: vCPUs, memory, network interfaces.

Sources: the EC2 instance type specifications (DescribeInstanceTypes: VCpuInfo.DefaultVCpus,
MemoryInfo.SizeInMiB, NetworkInfo.MaximumNetworkInterfaces). The settings loader and the
policy check CKV_SURGE_5 both read this table; a type missing here is refused at load time
rather than guessed.

Placement (ECS developer guide, task networking and container instance memory):
    - CPU: 1,024 units per vCPU;
    - memory: what the agent registers, which is the instance's memory less what the OS keeps
      and less `ECS_RESERVED_MEMORY` (the hosts' user data sets ECS_RESERVED_MEMORY_MIB). The
      OS share is not published per type, so the rule here (instance memory less the reserve)
      is a necessary condition, not a sufficient one;
    - awsvpc network mode without ENI trunking: one ENI per task, and the host keeps its own
      primary ENI, so at most (ENIs - 1) tasks per host. Trunking is not modelled: AWS
      publishes its per-type limits only in a table this project has not verified.
"""

from __future__ import annotations

from dataclasses import dataclass

ECS_RESERVED_MEMORY_MIB = 256


@dataclass(frozen=True)
class InstanceType:
    vcpus: int
    memory_mib: int
    enis: int


INSTANCE_TYPES: dict[str, InstanceType] = {
    "c7i.large": InstanceType(2, 4096, 3),
    "c7i.xlarge": InstanceType(4, 8192, 4),
    "c7i.2xlarge": InstanceType(8, 16384, 4),
    "c7i.4xlarge": InstanceType(16, 32768, 8),
    "m7i.large": InstanceType(2, 8192, 3),
    "m7i.xlarge": InstanceType(4, 16384, 4),
    "m7i.2xlarge": InstanceType(8, 32768, 4),
    "r7i.large": InstanceType(2, 16384, 3),
    "r7i.xlarge": InstanceType(4, 32768, 4),
}


def tasks_per_host(instance_type: str, cpu_units: int, memory_mib: int, *, awsvpc: bool = True) -> tuple[int, str]:
    """How many tasks of this size ECS can place on one host of the type, and what binds."""
    spec = INSTANCE_TYPES[instance_type]
    fits = {
        "CPU": spec.vcpus * 1024 // cpu_units,
        "memory": (spec.memory_mib - ECS_RESERVED_MEMORY_MIB) // memory_mib,
    }
    if awsvpc:
        fits["ENIs"] = spec.enis - 1
    binding = min(fits, key=lambda k: fits[k])
    return fits[binding], binding

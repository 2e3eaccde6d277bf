"""Stage verify, hosts with pytest-testinfra: the operator host (the toolchain this platform
needs, and on local the emulator) and, on aws, the ECS container instances through SSM Run
Command (surgepress/harness/ssm_host.py: no public address or SSH needed)."""

from __future__ import annotations

import json

import pytest
import testinfra

from surgepress.emulator.control import Emulator
from surgepress.harness.ssm_host import ssm_host
from surgepress.runner import PROVIDER_SOURCE, find_provider_mirror
from surgepress.targets import REPO_ROOT, Paths

pytestmark = [pytest.mark.integration, pytest.mark.stage("verify")]

MIN_TERRAFORM = (1, 10)
MIN_NODE = 20
CDKTF_CLI = "0.20.12"


@pytest.fixture(scope="module")
def operator():
    return testinfra.get_host("local://")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.lstrip("v").split(".")[:2])


def test_operator_host_has_the_toolchain(operator, record_property):
    terraform = json.loads(operator.check_output("terraform version -json"))["terraform_version"]
    assert _version(terraform) >= MIN_TERRAFORM, terraform
    node = operator.check_output("node --version")
    assert _version(node)[0] >= MIN_NODE, node
    cdktf = operator.file(str(REPO_ROOT / "node_modules" / "cdktf-cli" / "package.json"))
    assert cdktf.exists and json.loads(cdktf.content_string)["version"] == CDKTF_CLI
    mirror = find_provider_mirror()
    provider = "registry (no local mirror)"
    if mirror is not None:
        versions = sorted(p.name for p in (mirror / PROVIDER_SOURCE).iterdir() if p.is_dir())
        assert any(v.startswith("5.") for v in versions), versions
        provider = f"hashicorp/aws {', '.join(versions)} from {mirror}"
    record_property("detail", f"terraform {terraform}, node {node}, cdktf-cli {CDKTF_CLI}, provider {provider}")


def test_the_runs_emulator_listens_on_loopback_only(operator, deployed, local_only, record_property):
    info = Emulator(Paths(deployed.build)).status().info
    assert operator.process.get(pid=info.pid).args.count("surgepress.emulator.server") == 1
    assert operator.socket(f"tcp://127.0.0.1:{info.port}").is_listening
    assert not operator.socket(f"tcp://0.0.0.0:{info.port}").is_listening
    record_property("detail", f"pid {info.pid} on 127.0.0.1:{info.port}")


@pytest.mark.parametrize("workspace", ["production"])
def test_container_instances_run_the_agent_enforce_imdsv2_and_expose_no_ssh(
    deployed, clients, outputs, workspace, record_property
):
    if deployed.local:
        pytest.skip(
            "local target: the emulator runs no ECS container instances (the data plane's hosts are "
            "checked in test_dataplane.py)"
        )
    if workspace not in deployed.state.workspaces or deployed.settings.get(workspace).compute.capacity != "ec2":
        pytest.skip(f"{workspace} does not run ECS on EC2 in this run")
    ecs, ec2, ssm = (clients(workspace).get(s) for s in ("ecs", "ec2", "ssm"))
    arns = ecs.list_container_instances(cluster=outputs[workspace]["cluster_name"])["containerInstanceArns"]
    assert arns, "no container instances registered"
    described = ecs.describe_container_instances(cluster=outputs[workspace]["cluster_name"], containerInstances=arns)[
        "containerInstances"
    ]
    instance_ids = [c["ec2InstanceId"] for c in described]
    for reservation in ec2.describe_instances(InstanceIds=instance_ids)["Reservations"]:
        for instance in reservation["Instances"]:
            assert instance["MetadataOptions"]["HttpTokens"] == "required", instance["InstanceId"]
            assert not instance.get("PublicIpAddress"), instance["InstanceId"]
    for instance_id in instance_ids:
        host = ssm_host(instance_id, ssm)
        assert host.service("ecs").is_running, instance_id
        assert not host.socket("tcp://0.0.0.0:22").is_listening, instance_id
    record_property("detail", f"{len(instance_ids)} instances: agent running, IMDSv2 required, no SSH listening")

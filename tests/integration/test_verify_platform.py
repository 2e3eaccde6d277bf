"""Stage verify, through AWS APIs: a clean second plan, each workspace's network in its own
account and region, the platform's checks (surgepress.harness.aws_checks) per site, and
secrets only where they belong."""

from __future__ import annotations

import hashlib

import pytest

from surgepress.harness.aws_checks import SITE_CHECKS
from surgepress.harness.http_checks import CheckFailed
from tests.integration.conftest import state_document

pytestmark = [pytest.mark.integration, pytest.mark.stage("verify")]

SITES = ("staging", "production")
NETWORKED = ("staging", "production", "dr")


def in_run(deployed, name: str) -> None:
    if name not in deployed.state.workspaces:
        pytest.skip(f"{name} is not deployed in this run (workspaces: {', '.join(deployed.state.workspaces)})")


def test_second_plan_shows_no_changes_in_any_workspace(deployed):
    result = deployed.cli("plan", *deployed.state.workspaces)  # one synth for every plan
    assert result.returncode == 0, f"drift:\n{result.stdout[-4000:]}"
    for name in deployed.state.workspaces:
        assert f"plan {name}: no changes" in result.stdout


@pytest.mark.parametrize("check", sorted(SITE_CHECKS))
@pytest.mark.parametrize("workspace", SITES)
def test_site(deployed, clients, outputs, workspace, check, record_property):
    in_run(deployed, workspace)
    ws = deployed.settings.get(workspace)
    try:
        record_property("detail", SITE_CHECKS[check](clients(workspace), outputs[workspace], ws))
    except CheckFailed as failed:
        pytest.fail(f"{workspace} {check}: {failed}", pytrace=False)


@pytest.mark.parametrize("workspace", NETWORKED)
def test_vpc_lives_in_the_workspaces_own_account_and_region(deployed, clients, outputs, workspace):
    in_run(deployed, workspace)
    ws = deployed.settings.get(workspace)
    ec2 = clients(workspace).get("ec2")
    vpc = ec2.describe_vpcs(VpcIds=[outputs[workspace]["vpc_id"]])["Vpcs"][0]
    assert (vpc["CidrBlock"], vpc["OwnerId"]) == (ws.network.cidr, ws.account_id)
    subnets = ec2.describe_subnets(SubnetIds=outputs[workspace]["app_subnet_ids"])["Subnets"]
    assert sorted(s["AvailabilityZone"] for s in subnets) == list(ws.network.availability_zones)
    flow_logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc["VpcId"]]}])["FlowLogs"]
    assert [f["TrafficType"] for f in flow_logs] == ["ALL"]


@pytest.mark.parametrize("workspace", SITES)
def test_nat_gateways_match_the_environments_setting(deployed, clients, outputs, workspace):
    in_run(deployed, workspace)
    ws = deployed.settings.get(workspace)
    expected = ws.network.az_count if ws.network.nat_gateways == "per_az" else 1
    assert len(outputs[workspace]["nat_gateway_public_ips"]) == expected
    gateways = (
        clients(workspace)
        .get("ec2")
        .describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [outputs[workspace]["vpc_id"]]}])["NatGateways"]
    )
    assert len([g for g in gateways if g["State"] == "available"]) == expected


def test_flow_log_group_is_encrypted_with_retention(deployed, clients, outputs):
    in_run(deployed, "production")
    ws = deployed.settings.get("production")
    logs = clients("production").get("logs")
    group = logs.describe_log_groups(logGroupNamePrefix=outputs["production"]["flow_log_group_name"])["logGroups"][0]
    assert group["retentionInDays"] == ws.network.flow_log_retention_days
    assert f":kms:{ws.region}:{ws.account_id}:key/" in group["kmsKeyId"]


@pytest.mark.parametrize("workspace", SITES)
def test_secrets_are_generated_into_ssm_and_nowhere_else(deployed, clients, outputs, workspace):
    # On either target: the values are read from SSM and looked for in what this run synthesized
    # and in the state it keeps. No value reaches an assertion message: only digests and flags do.
    in_run(deployed, workspace)
    ssm = clients(workspace).get("ssm")
    values = {}
    for key, name in outputs[workspace]["secret_parameter_names"].items():
        param = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        assert param["Type"] == "SecureString"
        value = param.pop("Value")
        long_alphanumeric = len(value) >= 40 and value.isalnum()
        assert long_alphanumeric, f"{key}: shorter than 40 characters or not alphanumeric"
        values[key] = value
    digests = {key: hashlib.sha256(value.encode()).hexdigest() for key, value in values.items()}
    assert len(set(digests.values())) == len(digests), "every secret is generated independently"
    synthesized = (deployed.build / "synth" / deployed.target / "stacks" / workspace / "cdk.tf.json").read_text()
    assert not [key for key, value in values.items() if value in synthesized], "a secret leaked into cdk.tf.json"
    # The Redis token and the origin secret have no write-only argument to go to: they are
    # read into the (encrypted, access-controlled) state. No other secret may be there.
    state = state_document(deployed, workspace)
    assert sorted(key for key, value in values.items() if value in state) == ["origin_secret", "redis_auth_token"]

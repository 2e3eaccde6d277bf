"""Synthesized JSON per workspace: provider, backend, composition and the network module."""

from __future__ import annotations

import ipaddress
import json

import pytest

from modules.subnet_layout import subnet_cidrs
from surgepress.config import load_settings
from surgepress.targets import Paths, Target
from tests.conftest import resources

pytestmark = pytest.mark.unit

NETWORK_WORKSPACES = ("staging", "production", "dr")


def test_provider_pin_is_relaxed_to_any_5x_from_5_99(local_stacks):
    for name, stack in local_stacks.items():
        assert stack["terraform"]["required_providers"]["aws"]["version"] == "~> 5.99", name


def test_provider_assumes_the_workspace_role_and_allows_only_its_account(local_stacks, settings):
    for name, stack in local_stacks.items():
        ws = settings.get(name)
        provider = stack["provider"]["aws"][0]
        assert provider["region"] == ws.region
        assert provider["allowed_account_ids"] == [ws.account_id]
        assert provider["assume_role"][0]["role_arn"] == ws.role_arn
        assert provider["default_tags"][0]["tags"]["Workspace"] == name


def test_local_target_differs_only_in_retries_path_style_and_backend(local_stacks, aws_stacks):
    for name in local_stacks:
        local, aws = local_stacks[name], aws_stacks[name]
        assert local["resource"] == aws["resource"], name
        assert local["provider"]["aws"][0]["max_retries"] == 2
        assert "max_retries" not in aws["provider"]["aws"][0]
        assert local["terraform"]["backend"]["s3"] == {**aws["terraform"]["backend"]["s3"], "use_path_style": True}
        assert json.dumps(local).count("127.0.0.1") == 0, "the emulator port must not be synthesized"


def test_state_lives_in_s3_with_native_locking_kms_and_one_key_per_workspace(aws_stacks, settings):
    keys = set()
    for name, stack in aws_stacks.items():
        backend = stack["terraform"]["backend"]["s3"]
        assert backend["encrypt"] is True
        assert backend["kms_key_id"] == f"alias/{settings.get(name).state.bucket}"
        assert backend["use_lockfile"] is True
        assert "dynamodb_table" not in backend
        assert backend["bucket"] == settings.get(name).state.bucket
        assert backend["assume_role"]["role_arn"] == f"arn:aws:iam::100000000001:role/{settings.get(name).role_name}"
        assert backend["key"] == f"{settings.get(name).project}/{name}/terraform.tfstate"
        keys.add(backend["key"])
    assert len(keys) == len(aws_stacks)


def test_bootstrap_synthesizes_the_state_workspace_with_local_state_only(settings, tmp_path):
    from surgepress.synth import synthesize

    paths = Paths(tmp_path)
    state_ws = settings.state_workspace
    dirs = synthesize(settings, [state_ws], target=Target.LOCAL, paths=paths, local_state=frozenset({state_ws.name}))
    stack = json.loads((dirs[state_ws.name] / "cdk.tf.json").read_text())
    assert stack["terraform"]["backend"] == {"local": {"path": str(paths.local_state_file(state_ws.name))}}
    assert state_ws.state.bucket in [b["bucket"] for b in resources(stack, "aws_s3_bucket").values()]


def test_the_state_bucket_is_private_versioned_kms_encrypted_and_tls_only(aws_stacks, settings):
    stack = aws_stacks[settings.state_workspace.name]

    def state(rtype: str) -> dict:
        return next(r for key, r in resources(stack, rtype).items() if key.startswith("state_"))

    assert state("aws_s3_bucket")["bucket"] == settings.state_workspace.state.bucket
    encryption = state("aws_s3_bucket_server_side_encryption_configuration")
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms"
    assert state("aws_s3_bucket_versioning")["versioning_configuration"]["status"] == "Enabled"
    block = state("aws_s3_bucket_public_access_block")
    assert all(
        block[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    policy = json.loads(state("aws_s3_bucket_policy")["policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert state("aws_kms_alias")["name"] == f"alias/{settings.state_workspace.state.bucket}"
    assert state("aws_kms_key")["enable_key_rotation"] is True


def test_only_workspaces_with_a_network_section_get_a_vpc(local_stacks):
    for name, stack in local_stacks.items():
        assert bool(resources(stack, "aws_vpc")) == (name in NETWORK_WORKSPACES), name


@pytest.mark.parametrize("name", NETWORK_WORKSPACES)
def test_three_tiers_of_subnets_one_per_az_without_public_ips(local_stacks, settings, name):
    net = settings.get(name).network
    subnets = resources(local_stacks[name], "aws_subnet").values()
    assert len(subnets) == 3 * net.az_count
    for tier in ("public", "app", "data"):
        tier_subnets = [s for s in subnets if s["tags"]["Tier"] == tier]
        assert sorted(s["availability_zone"] for s in tier_subnets) == list(net.availability_zones)
    assert all(s["map_public_ip_on_launch"] is False for s in subnets)
    cidrs = [ipaddress.IPv4Network(s["cidr_block"]) for s in subnets]
    vpc = ipaddress.IPv4Network(net.cidr)
    assert all(c.subnet_of(vpc) for c in cidrs)
    assert not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1 :])


def test_nat_per_az_in_production_and_single_in_staging(local_stacks):
    assert len(resources(local_stacks["production"], "aws_nat_gateway")) == 3
    assert len(resources(local_stacks["production"], "aws_eip")) == 3
    assert len(resources(local_stacks["staging"], "aws_nat_gateway")) == 1
    assert len(resources(local_stacks["staging"], "aws_eip")) == 1


def _route_targets(stack: dict) -> dict[str, list[str]]:
    """{route table logical id: [what its default route points at]}"""
    found: dict[str, list[str]] = {}
    for route in resources(stack, "aws_route").values():
        table = route["route_table_id"].split(".")[1]
        target = route.get("gateway_id") or route.get("nat_gateway_id")
        found.setdefault(table, []).append(target.split(".")[0].removeprefix("${"))
    return found


def test_data_tier_is_isolated_and_app_tier_egresses_through_nat(local_stacks):
    stack = local_stacks["production"]
    tables = resources(stack, "aws_route_table")
    targets = _route_targets(stack)
    data_tables = [k for k, t in tables.items() if t["tags"]["Name"].endswith("-data")]
    app_tables = [k for k, t in tables.items() if "-app-" in t["tags"]["Name"]]
    assert len(data_tables) == 1 and data_tables[0] not in targets, "data subnets must have no internet route"
    assert len(app_tables) == 3
    assert all(targets[t] == ["aws_nat_gateway"] for t in app_tables)
    public = [k for k, t in tables.items() if t["tags"]["Name"].endswith("-public")]
    assert targets[public[0]] == ["aws_internet_gateway"]


def test_s3_gateway_endpoint_serves_app_and_data_tiers(local_stacks):
    (endpoint,) = [
        e for e in resources(local_stacks["production"], "aws_vpc_endpoint").values() if "route_table_ids" in e
    ]
    assert endpoint["service_name"] == "com.amazonaws.eu-west-1.s3"
    assert endpoint["vpc_endpoint_type"] == "Gateway"
    assert len(endpoint["route_table_ids"]) == 3 + 1


def test_interface_endpoints_where_the_settings_ask_reached_over_https_from_the_vpc(local_stacks, settings):
    for name in ("staging", "production", "dr"):
        stack, wanted = local_stacks[name], settings.get(name).network.interface_endpoints
        interface = {e["service_name"]: e for e in resources(stack, "aws_vpc_endpoint").values() if "subnet_ids" in e}
        region = settings.get(name).region
        assert set(interface) == {f"com.amazonaws.{region}.{service}" for service in wanted}, name
        app_subnets = {
            f"${{aws_subnet.{k}.id}}" for k in resources(stack, "aws_subnet") if k.startswith("network_app-")
        }
        for endpoint in interface.values():
            assert endpoint["vpc_endpoint_type"] == "Interface" and endpoint["private_dns_enabled"] is True
            assert set(endpoint["subnet_ids"]) == app_subnets  # one ENI in each AZ the tasks run in
            (group,) = endpoint["security_group_ids"]
            rules = [
                r
                for r in resources(stack, "aws_vpc_security_group_ingress_rule").values()
                if r["security_group_id"] == group
            ]
            assert [(r["cidr_ipv4"], r["from_port"], r["to_port"]) for r in rules] == [
                (settings.get(name).network.cidr, 443, 443)
            ]
    # Restated from production.yaml: a surge's pulls, logs, settings and role without NAT.
    assert settings.get("production").network.interface_endpoints == (
        *("ecr.api", "ecr.dkr", "logs", "ssm", "sts"),
        *("ecs", "ecs-agent", "ecs-telemetry"),  # production's hosts are EC2: their agent registers too
    )
    assert settings.get("staging").network.interface_endpoints == ()


def test_flow_logs_capture_all_traffic_into_a_kms_encrypted_group(local_stacks, settings):
    stack = local_stacks["staging"]
    flow_log = next(iter(resources(stack, "aws_flow_log").values()))
    group = next(
        g
        for g_id, g in resources(stack, "aws_cloudwatch_log_group").items()
        if g_id.startswith("network_flow-log-group")
    )
    key = next(k for k_id, k in resources(stack, "aws_kms_key").items() if k_id.startswith("network_flow-log-key"))
    assert flow_log["traffic_type"] == "ALL"
    assert flow_log["log_destination"].startswith("${aws_cloudwatch_log_group.")
    assert group["kms_key_id"].startswith("${aws_kms_key.")
    assert group["retention_in_days"] == settings.get("staging").network.flow_log_retention_days
    assert key["enable_key_rotation"] is True
    policy = json.loads(key["policy"])
    logs = next(s for s in policy["Statement"] if s["Principal"].get("Service"))
    assert logs["Principal"]["Service"] == "logs.eu-west-1.amazonaws.com"
    assert logs["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"].endswith(
        ":log-group:/vpc/surgepress-staging/flow-logs"
    )


def test_default_security_group_is_stripped_of_rules(local_stacks):
    for name in NETWORK_WORKSPACES:
        sg = next(iter(resources(local_stacks[name], "aws_default_security_group").values()))
        assert "ingress" not in sg and "egress" not in sg


def test_dr_is_the_same_modules_with_the_secondary_role(local_stacks):
    dr, production = local_stacks["dr"], local_stacks["production"]
    # Every kind of resource in dr comes from a module production also composes, but for the
    # replication it attaches to production's buckets; no distribution, no account-wide controls.
    assert set(dr["resource"]) - set(production["resource"]) == {"aws_s3_bucket_replication_configuration"}
    assert not resources(dr, "aws_cloudfront_distribution") and not resources(dr, "aws_route53_zone")
    network_kinds = {"aws_vpc", "aws_subnet", "aws_nat_gateway", "aws_flow_log", "aws_vpc_endpoint"}
    assert network_kinds <= set(dr["resource"])
    assert {v["tags"]["PlatformRole"] for v in resources(dr, "aws_subnet").values()} == {"secondary"}
    assert {v["tags"]["PlatformRole"] for v in resources(production, "aws_subnet").values()} == {"primary"}
    assert dr["output"]["source_region"]["value"] == "eu-west-1"


def test_account_wide_controls_exactly_once_per_account(local_stacks, settings):
    per_account: dict[str, int] = {}
    for name, stack in local_stacks.items():
        assert resources(stack, "aws_ebs_encryption_by_default"), f"{name}: regional control missing"
        owned = len(resources(stack, "aws_s3_account_public_access_block"))
        per_account[settings.get(name).account_id] = per_account.get(settings.get(name).account_id, 0) + owned
    assert set(per_account.values()) == {1}


def test_outputs_are_named_resource_attribute(local_stacks):
    outputs = set(local_stacks["production"]["output"])
    assert {
        "vpc_id",
        "vpc_cidr_block",
        "public_subnet_ids",
        "app_subnet_ids",
        "data_subnet_ids",
        "nat_gateway_public_ips",
        "flow_log_group_name",
        "account_id",
        "region",
    } <= outputs


def test_subnet_addresses_stay_put_when_an_az_is_added():
    two = subnet_cidrs("10.20.0.0/16", 4, "app", 2)
    three = subnet_cidrs("10.20.0.0/16", 4, "app", 3)
    assert three[:2] == two == ["10.20.64.0/20", "10.20.80.0/20"]


def test_a_stack_is_synthesized_again_only_when_its_inputs_changed(env_dir, tmp_path, monkeypatch):
    from surgepress.config import ENVIRONMENTS_ENV
    from surgepress.synth import mark, stale

    monkeypatch.setenv(ENVIRONMENTS_ENV, str(env_dir))
    settings, paths = load_settings(env_dir), Paths(tmp_path / "build")
    workspaces = list(settings.workspaces.values())
    todo, prints = stale(workspaces, target=Target.LOCAL, paths=paths)
    assert todo == workspaces  # nothing synthesized yet
    directories = {ws.name: paths.stack_dir(Target.LOCAL, ws.name) for ws in workspaces}
    for directory in directories.values():
        directory.mkdir(parents=True)
        (directory / "cdk.tf.json").write_text("{}")
    mark(directories, prints)
    assert stale(workspaces, target=Target.LOCAL, paths=paths)[0] == []
    # Another backend for one workspace (bootstrap's local state) makes that one stale only.
    assert stale(workspaces, target=Target.LOCAL, paths=paths, local_state=frozenset({"management"}))[0] == [
        settings.get("management")
    ]
    assert stale(workspaces, target=Target.AWS, paths=paths)[0] == workspaces
    # Any environment file may change any stack (peers, zones, accounts): all of them are stale.
    with (env_dir / "staging.yaml").open("a") as f:
        f.write("# a comment is a change too\n")
    assert stale(workspaces, target=Target.LOCAL, paths=paths)[0] == workspaces

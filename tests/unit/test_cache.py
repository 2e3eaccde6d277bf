"""The cache module: Redis with failover across AZs, encrypted both ways, token never synthesized."""

from __future__ import annotations

import pytest

from modules.cache import Cache, CacheProps
from tests.conftest import resources

pytestmark = pytest.mark.unit


def _group(stack: dict) -> dict:
    (group,) = resources(stack, "aws_elasticache_replication_group").values()
    return group


def test_nodes_spread_over_the_azs_with_automatic_failover(local_stacks, settings):
    for name in ("staging", "production"):
        ws, group = settings.get(name), _group(local_stacks[name])
        assert group["num_cache_clusters"] == ws.cache.node_count >= 2
        zones = list(ws.network.availability_zones)
        assert group["preferred_cache_cluster_azs"] == [zones[i % len(zones)] for i in range(ws.cache.node_count)]
        assert len(set(group["preferred_cache_cluster_azs"])) >= 2
        assert group["automatic_failover_enabled"] is True and group["multi_az_enabled"] is True


def test_encrypted_at_rest_with_the_modules_key_and_in_transit(local_stacks):
    group = _group(local_stacks["production"])
    assert group["at_rest_encryption_enabled"] == "true" and "cache_key" in group["kms_key_id"]
    assert group["transit_encryption_enabled"] is True


def test_auth_token_comes_from_its_ssm_parameter_not_from_the_json(local_stacks):
    stack = local_stacks["production"]
    group = _group(stack)
    reader_id = group["auth_token"].removeprefix("${data.aws_ssm_parameter.").removesuffix(".value}")
    reader = stack["data"]["aws_ssm_parameter"][reader_id]
    assert group["auth_token"] == f"${{data.aws_ssm_parameter.{reader_id}.value}}"
    assert reader["with_decryption"] is True
    assert reader["name"].startswith("${aws_ssm_parameter.secrets_redis_auth_token")


def test_snapshot_retention_and_node_type_follow_config(local_stacks, settings):
    for name in ("staging", "production"):
        group, ws = _group(local_stacks[name]), settings.get(name)
        assert group["snapshot_retention_limit"] == ws.cache.snapshot_retention_days
        assert group["node_type"] == ws.cache.node_type
    assert (
        settings.get("production").cache.snapshot_retention_days > settings.get("staging").cache.snapshot_retention_days
    )


def test_slow_log_goes_to_an_encrypted_log_group_with_retention(local_stacks, settings):
    stack = local_stacks["staging"]
    (delivery,) = _group(stack)["log_delivery_configuration"]
    group = next(
        g
        for g in resources(stack, "aws_cloudwatch_log_group").values()
        if g["name"] == "/elasticache/surgepress-staging/slow-log"
    )
    assert delivery["destination"].startswith("${aws_cloudwatch_log_group.cache_slow-log")
    assert group["retention_in_days"] == settings.get("staging").cache.log_retention_days and group["kms_key_id"]


def test_only_the_service_may_reach_redis(local_stacks):
    stack = local_stacks["production"]
    rules = [
        r
        for r in resources(stack, "aws_vpc_security_group_ingress_rule").values()
        if "cache_sg" in r["security_group_id"]
    ]
    assert rules, "the cache must admit its client"
    for rule in rules:
        assert "referenced_security_group_id" in rule and "cidr_ipv4" not in rule
        assert rule["from_port"] == rule["to_port"] == 6379


@pytest.mark.parametrize(
    "change, message",
    [
        ({"node_count": 1}, "node_count: expected 2 or more, got 1"),
        ({"snapshot_retention_days": 0}, "snapshot_retention_days: expected 1 or more, got 0"),
    ],
)
def test_the_construct_refuses_a_cache_without_failover_or_snapshots(change, message):
    from cdktf import App, TerraformStack

    props = dict(
        name="t",
        account_id="100000000003",
        region="eu-west-1",
        vpc_id="vpc-1",
        subnet_ids=["s-1", "s-2"],
        availability_zones=("eu-west-1a", "eu-west-1b"),
        auth_token_parameter_name="/t/redis",
    )
    with pytest.raises(ValueError, match=message):
        Cache(TerraformStack(App(), "s"), "cache", props=CacheProps(**{**props, **change}))

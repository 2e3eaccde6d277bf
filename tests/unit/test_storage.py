"""The storage module: private, versioned, encrypted, TLS-only buckets with lifecycle rules."""

from __future__ import annotations

import json

import pytest

from modules.storage import Storage, StorageProps
from tests.conftest import resources

pytestmark = pytest.mark.unit

PURPOSES = ("media", "misc", "logs")


def _by_bucket(stack: dict, rtype: str) -> dict[str, dict]:
    """{purpose: resource} for a per-bucket resource type (keyed by the bucket it points at)."""
    found = {}
    for config in resources(stack, rtype).values():
        for purpose in PURPOSES:
            if f"aws_s3_bucket.storage_{purpose}_" in config["bucket"]:
                found[purpose] = config
    return found


def test_three_buckets_named_for_workspace_account_and_region(local_stacks):
    names = sorted(b["bucket"] for b in resources(local_stacks["production"], "aws_s3_bucket").values())
    assert names == [f"surgepress-production-{p}-100000000004-eu-west-1" for p in ("logs", "media", "misc")]


@pytest.mark.parametrize(
    "rtype",
    [
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_versioning",
        "aws_s3_bucket_ownership_controls",
        "aws_s3_bucket_policy",
        "aws_s3_bucket_lifecycle_configuration",
        "aws_s3_bucket_server_side_encryption_configuration",
    ],
)
def test_every_bucket_has(local_stacks, rtype):
    assert set(_by_bucket(local_stacks["staging"], rtype)) == set(PURPOSES)


def test_public_access_is_blocked_and_acls_are_off(local_stacks):
    stack = local_stacks["production"]
    for block in _by_bucket(stack, "aws_s3_bucket_public_access_block").values():
        assert all(
            block[k] is True
            for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
        )
    for owner in _by_bucket(stack, "aws_s3_bucket_ownership_controls").values():
        assert owner["rule"]["object_ownership"] == "BucketOwnerEnforced"


def test_data_buckets_use_the_kms_key_and_logs_use_sse_s3(local_stacks):
    encryption = _by_bucket(local_stacks["production"], "aws_s3_bucket_server_side_encryption_configuration")
    for purpose in ("media", "misc"):
        default = encryption[purpose]["rule"][0]["apply_server_side_encryption_by_default"]
        assert default["sse_algorithm"] == "aws:kms" and "storage_key" in default["kms_master_key_id"]
        assert encryption[purpose]["rule"][0]["bucket_key_enabled"] is True
    assert encryption["logs"]["rule"][0]["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"


def test_every_bucket_policy_denies_insecure_transport(local_stacks):
    for policy in _by_bucket(local_stacks["staging"], "aws_s3_bucket_policy").values():
        deny = json.loads(policy["policy"])["Statement"][0]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_only_the_three_log_deliveries_may_write_logs_each_under_its_prefix(local_stacks):
    policy = json.loads(_by_bucket(local_stacks["production"], "aws_s3_bucket_policy")["logs"]["policy"])
    allow = {st["Sid"]: st for st in policy["Statement"] if st["Effect"] == "Allow"}
    assert set(allow) == {"S3ServerAccessLogDelivery", "LoadBalancerAccessLogDelivery", "CloudFrontAccessLogDelivery"}
    assert all(st["Action"] == "s3:PutObject" for st in allow.values())
    s3 = allow["S3ServerAccessLogDelivery"]
    assert s3["Principal"] == {"Service": "logging.s3.amazonaws.com"} and s3["Resource"].endswith("/s3/*")
    assert s3["Condition"] == {"StringEquals": {"aws:SourceAccount": "100000000004"}}
    # eu-west-1 opened before 2022: its ELB log-delivery account, not the service principal.
    alb = allow["LoadBalancerAccessLogDelivery"]
    assert alb["Principal"] == {"AWS": "arn:aws:iam::156460612806:root"}
    assert alb["Resource"].endswith("/alb/AWSLogs/100000000004/*")
    cdn = allow["CloudFrontAccessLogDelivery"]
    assert cdn["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert cdn["Condition"]["StringEquals"]["aws:SourceAccount"] == "100000000004"


def test_data_buckets_log_after_the_log_policy_exists(local_stacks):
    logging = resources(local_stacks["production"], "aws_s3_bucket_logging").values()
    assert len(logging) == 2
    for config in logging:
        assert "storage_logs_" in config["target_bucket"]
        assert any(dep.startswith("aws_s3_bucket_policy.storage_logs-policy") for dep in config["depends_on"])


def test_lifecycle_values_come_from_each_environment(local_stacks, settings):
    for name in ("staging", "production"):
        storage = settings.get(name).storage
        rules = {
            p: c["rule"][0] for p, c in _by_bucket(local_stacks[name], "aws_s3_bucket_lifecycle_configuration").items()
        }
        assert rules["logs"]["expiration"][0]["days"] == storage.log_retention_days
        assert "expiration" not in rules["media"], "current media never expires"
        for rule in rules.values():
            assert (
                rule["noncurrent_version_expiration"][0]["noncurrent_days"]
                == storage.noncurrent_version_expiration_days
            )
            assert rule["abort_incomplete_multipart_upload"][0]["days_after_initiation"] == 7


def test_production_buckets_are_never_force_destroyed_staging_may_be(local_stacks):
    assert {b["force_destroy"] for b in resources(local_stacks["production"], "aws_s3_bucket").values()} == {False}
    assert {b["force_destroy"] for b in resources(local_stacks["staging"], "aws_s3_bucket").values()} == {True}


def test_every_skip_on_a_bucket_carries_its_reason(local_stacks):
    for bucket in resources(local_stacks["production"], "aws_s3_bucket").values():
        for check, reason in bucket["//"].get("checkov_skip", {}).items():
            assert check.startswith("CKV") and len(reason) > 20


def test_a_zero_retention_is_refused():
    from cdktf import App, TerraformStack

    with pytest.raises(ValueError, match="log_retention_days: expected 1 or more, got 0"):
        Storage(
            TerraformStack(App(), "s"),
            "storage",
            props=StorageProps(name="x", account_id="100000000003", region="eu-west-1", log_retention_days=0),
        )

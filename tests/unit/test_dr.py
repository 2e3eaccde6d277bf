"""The DR replica as synthesized: global secondary, replication with RTC, failover records,
copied secrets, pilot-light floors, and what changes (only what should) when the recorded
primary region moves."""

from __future__ import annotations

import json

import pytest

from surgepress.config import load_settings
from surgepress.drill import set_primary_region
from surgepress.targets import Paths, Target
from tests.conftest import resources

pytestmark = pytest.mark.unit


def _by_name(stack: dict, rtype: str, attribute: str = "name") -> dict[str, dict]:
    return {r[attribute]: r for r in resources(stack, rtype).values()}


def test_dr_cluster_joins_productions_global_database_as_a_secondary(local_stacks):
    production, dr = local_stacks["production"], local_stacks["dr"]
    (global_cluster,) = resources(production, "aws_rds_global_cluster").values()
    assert global_cluster["global_cluster_identifier"] == "surgepress-production-global"
    assert not resources(dr, "aws_rds_global_cluster")
    (cluster,) = resources(dr, "aws_rds_cluster").values()
    assert cluster["global_cluster_identifier"] == "surgepress-production-global"
    # A secondary inherits schema, user and password from the global database: none are set.
    assert {"database_name", "master_username", "master_password_wo"} & set(cluster) == set()
    assert cluster["kms_key_id"].startswith("${aws_kms_key.database_key")  # its own key, in its own region
    assert "provider" not in cluster  # the workspace's provider: eu-central-1
    assert len(resources(dr, "aws_rds_cluster_instance")) == 2  # writer slot + one reader


def test_media_and_misc_replicate_both_ways_with_rtc_metrics_replica_key_and_delete_markers(local_stacks):
    dr = local_stacks["dr"]
    configurations = resources(dr, "aws_s3_bucket_replication_configuration")
    assert len(configurations) == 4
    forward = {k: c for k, c in configurations.items() if "-back" not in k}
    back = {k: c for k, c in configurations.items() if "-back" in k}
    for configuration in forward.values():
        assert configuration["bucket"].startswith("surgepress-production-") and configuration["bucket"].endswith(
            "-100000000004-eu-west-1"
        )
        assert configuration["provider"] == "aws.source_region"  # written on the source bucket, in its region
    for configuration in back.values():
        assert "provider" not in configuration and configuration["bucket"].startswith("${aws_s3_bucket.storage_")
    for configuration in configurations.values():
        (rule,) = configuration["rule"]
        assert rule["status"] == "Enabled" and rule["filter"] == {"prefix": ""}
        assert rule["delete_marker_replication"] == {"status": "Enabled"}
        assert rule["source_selection_criteria"]["sse_kms_encrypted_objects"] == {"status": "Enabled"}
        destination = rule["destination"]
        assert destination["replication_time"] == {"status": "Enabled", "time": {"minutes": 15}}
        assert destination["metrics"] == {"status": "Enabled", "event_threshold": {"minutes": 15}}
        assert destination["encryption_configuration"]["replica_kms_key_id"]
        assert configuration["depends_on"]  # the replica buckets are versioned first
    for configuration in forward.values():
        key = configuration["rule"][0]["destination"]["encryption_configuration"]["replica_kms_key_id"]
        assert key.startswith("${aws_kms_key.storage_key")
    roles = _by_name(dr, "aws_iam_role")
    trust = json.loads(roles["surgepress-dr-s3-replication"]["assume_role_policy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "s3.amazonaws.com"}
    assert trust["Statement"][0]["Condition"]["StringEquals"]["aws:SourceAccount"] == "100000000004"


def test_origin_has_failover_records_primary_in_production_secondary_in_dr(local_stacks):
    records = {}
    for name in ("production", "dr"):
        (record,) = [
            r for r in resources(local_stacks[name], "aws_route53_record").values() if r.get("failover_routing_policy")
        ]
        records[name] = record
        (check,) = resources(local_stacks[name], "aws_route53_health_check").values()
        assert check["type"] == "CLOUDWATCH_METRIC" and check["cloudwatch_alarm_region"] in record["set_identifier"]
        assert record["health_check_id"].startswith("${aws_route53_health_check.")
        alarm = _by_name(local_stacks[name], "aws_cloudwatch_metric_alarm", "alarm_name")[
            f"surgepress-{name}-origin-no-healthy-targets"
        ]
        assert (alarm["metric_name"], alarm["treat_missing_data"]) == ("HealthyHostCount", "breaching")
    assert records["production"]["name"] == records["dr"]["name"] == "origin.live.surgepress.example"
    assert (records["production"]["failover_routing_policy"]["type"], records["production"]["set_identifier"]) == (
        "PRIMARY",
        "eu-west-1",
    )
    assert (records["dr"]["failover_routing_policy"]["type"], records["dr"]["set_identifier"]) == (
        "SECONDARY",
        "eu-central-1",
    )
    # dr serves production's zone (looked up) and has no distribution of its own.
    assert not resources(local_stacks["dr"], "aws_route53_zone")
    assert records["dr"]["zone_id"].startswith("${data.aws_route53_zone.")


def test_dr_secrets_are_copies_of_productions_never_generated(local_stacks):
    dr = local_stacks["dr"]
    assert "aws_secretsmanager_random_password" not in dr.get("ephemeral", {})
    copies = dr["ephemeral"]["aws_ssm_parameter"]
    assert len(copies) == 11
    for copy in copies.values():
        assert copy["provider"] == "aws.source_region" and copy["with_decryption"] is True
        assert copy["arn"].startswith("arn:aws:ssm:eu-west-1:100000000004:parameter/surgepress/production/")
    for parameter in resources(dr, "aws_ssm_parameter").values():
        if parameter["type"] == "SecureString":
            assert parameter["value_wo"].startswith("${ephemeral.aws_ssm_parameter.")
            assert parameter["key_id"].startswith("${aws_kms_key.secrets_key")


def _floors(stack: dict) -> tuple[int, int]:
    (target,) = resources(stack, "aws_appautoscaling_target").values()
    (group,) = resources(stack, "aws_autoscaling_group").values()
    return target["min_capacity"], group["min_size"]


def _db_host(stack: dict) -> str:
    return _by_name(stack, "aws_ssm_parameter")[
        next(n for n in _by_name(stack, "aws_ssm_parameter") if n.endswith("/app/db-host"))
    ]["value"]


def test_pilot_light_floors_and_app_endpoints_follow_the_recorded_primary(local_stacks, settings):
    production, dr = local_stacks["production"], local_stacks["dr"]
    assert (
        _floors(production)
        == (settings.get("production").compute.min_tasks, settings.get("production").compute.min_hosts)
        == (3, 3)
    )
    assert _floors(dr) == (settings.get("dr").compute.min_tasks, settings.get("dr").compute.min_hosts) == (1, 1)
    assert _db_host(production).startswith("${aws_rds_cluster.") and _db_host(production).endswith(".endpoint}")
    assert _db_host(dr).endswith(".reader_endpoint}")  # a secondary's writer endpoint is inactive


def test_moving_the_primary_region_swaps_roles_floors_and_endpoints_and_nothing_else(env_dir, local_stacks, tmp_path):
    from surgepress.synth import synthesize

    path = env_dir / "production.yaml"
    path.write_text(set_primary_region(path.read_text(), "eu-central-1"))
    settings = load_settings(env_dir)
    sides = [settings.get("production"), settings.get("dr")]
    dirs = synthesize(settings, sides, target=Target.LOCAL, paths=Paths(tmp_path / "build"))
    moved = {name: json.loads((d / "cdk.tf.json").read_text()) for name, d in dirs.items()}
    assert _floors(moved["production"]) == (1, 1) and _floors(moved["dr"]) == (3, 3)
    assert _db_host(moved["production"]).endswith(".reader_endpoint}")
    assert _db_host(moved["dr"]).startswith("${aws_rds_cluster.") and _db_host(moved["dr"]).endswith(".endpoint}")
    for name, role in (("production", "SECONDARY"), ("dr", "PRIMARY")):
        (record,) = [
            r for r in resources(moved[name], "aws_route53_record").values() if r.get("failover_routing_policy")
        ]
        assert record["failover_routing_policy"]["type"] == role
    # The drift trap: the global database and both clusters are exactly as before.
    for name in ("production", "dr"):
        for rtype in (
            "aws_rds_global_cluster",
            "aws_rds_cluster",
            "aws_rds_cluster_instance",
            "aws_s3_bucket_replication_configuration",
        ):
            assert resources(moved[name], rtype) == resources(local_stacks[name], rtype), (name, rtype)


def test_set_primary_region_keeps_comments_and_fills_an_empty_section():
    text = "a: 1\nfailover:\n  primary_region: eu-west-1  # who writes\n  rto_target_s: 60\nb: 2\n"
    assert set_primary_region(text, "eu-central-1") == text.replace("eu-west-1", "eu-central-1")
    assert set_primary_region("failover: {}\n", "eu-central-1").startswith("failover:\n  primary_region: eu-central-1")
    assert "primary_region: eu-central-1" in set_primary_region("failover:\n  rto_target_s: 60\n", "eu-central-1")


def test_uploads_fail_over_to_the_dr_replica_bucket_through_an_origin_group(local_stacks):
    (distribution,) = resources(local_stacks["production"], "aws_cloudfront_distribution").values()
    (group,) = distribution["origin_group"]
    assert group["failover_criteria"]["status_codes"] == [500, 502, 503, 504]
    assert [m["origin_id"] for m in group["member"]] == ["media", "media-replica"]
    replica = next(o for o in distribution["origin"] if o["origin_id"] == "media-replica")
    assert replica["domain_name"] == "surgepress-dr-media-100000000004-eu-central-1.s3.eu-central-1.amazonaws.com"
    uploads = next(b for b in distribution["ordered_cache_behavior"] if b["path_pattern"] == "wp-content/uploads/*")
    assert uploads["target_origin_id"] == group["origin_id"]
    assert uploads["allowed_methods"] == ["GET", "HEAD", "OPTIONS"]  # origin groups fail over reads only
    # Pages and wp-admin take writes: they stay on the origin name, which fails over by DNS.
    assert distribution["default_cache_behavior"]["target_origin_id"] == "alb"
    # The replica bucket admits the account's distributions (the source's id is unknown to dr).
    policies = [json.loads(p["policy"]) for p in resources(local_stacks["dr"], "aws_s3_bucket_policy").values()]
    reads = [s for p in policies for s in p["Statement"] if s.get("Sid") == "CloudFrontOriginAccessControlReads"]
    assert reads and reads[0]["Condition"] == {
        "ArnLike": {"AWS:SourceArn": "arn:aws:cloudfront::100000000004:distribution/*"}
    }
    (staging,) = resources(local_stacks["staging"], "aws_cloudfront_distribution").values()
    assert "origin_group" not in staging  # one region: nothing to fail over to

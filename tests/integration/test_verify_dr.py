"""Stage verify, the DR replica through AWS APIs (and, on local, its data plane): the global
database's members and roles, bucket replication doing its work, the origin's failover
records and their health checks, the pilot-light size, and secrets copied, not generated."""

from __future__ import annotations

import hashlib
import time
import uuid

import pytest

from surgepress.drill.topology import read_topology, replicated_site
from surgepress.harness import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.stage("verify")]

REPLICATION_WAIT_S = 60


@pytest.fixture(scope="module")
def site(deployed):
    found = replicated_site(deployed.settings)
    if found is None or not {found.source.name, found.replica.name} <= set(deployed.state.workspaces):
        pytest.skip("no replicated site (production + dr) in this run")
    return found


def test_the_global_database_has_production_writing_and_dr_reading(deployed, site, clients, outputs):
    topology = read_topology(site, deployed.environment())
    assert topology.settled and topology.writer == site.source.name
    assert set(topology.clusters) == {site.source.name, site.replica.name}
    rds = clients(site.replica.name).get("rds")
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier=outputs[site.replica.name]["cluster_identifier"])[
        "DBClusters"
    ]
    assert cluster["StorageEncrypted"] and f":{site.replica.region}:" in cluster["KmsKeyId"]


def test_bucket_replication_copies_new_objects_and_deletes_into_dr(deployed, site, clients, outputs):
    source, replica = outputs[site.source.name]["media_bucket_name"], outputs[site.replica.name]["media_bucket_name"]
    s3_source, s3_replica = clients(site.source.name).get("s3"), clients(site.replica.name).get("s3")
    (rule,) = s3_source.get_bucket_replication(Bucket=source)["ReplicationConfiguration"]["Rules"]
    destination = rule["Destination"]
    assert destination["Bucket"] == f"arn:aws:s3:::{replica}"
    assert destination["ReplicationTime"] == {"Status": "Enabled", "Time": {"Minutes": 15}}
    assert destination["Metrics"]["Status"] == "Enabled" and rule["DeleteMarkerReplication"]["Status"] == "Enabled"
    key = f"verify/{uuid.uuid4().hex}.txt"
    s3_source.put_object(Bucket=source, Key=key, Body=b"replicate me")

    def copied():
        try:
            return s3_replica.get_object(Bucket=replica, Key=key)
        except s3_replica.exceptions.NoSuchKey:
            return None

    got = wait_for(f"{key} in {replica}", copied, timeout_s=REPLICATION_WAIT_S)
    assert got["Body"].read() == b"replicate me"
    assert got["SSEKMSKeyId"] == destination["EncryptionConfiguration"]["ReplicaKmsKeyID"]
    s3_source.delete_object(Bucket=source, Key=key)
    wait_for(f"the delete marker of {key} in {replica}", lambda: copied() is None, timeout_s=REPLICATION_WAIT_S)


def test_the_origin_fails_over_between_the_regions_load_balancers(deployed, site, clients, outputs):
    from surgepress.dataplane.discover import failover_records

    origin = f"{site.source.dns.origin_host}.{site.source.dns.zone_name}"
    records = failover_records(clients(site.source.name), origin)
    assert [(r.set_identifier, r.role) for r in records] == [
        (site.source.region, "PRIMARY"),
        (site.replica.region, "SECONDARY"),
    ]
    for record, ws in zip(records, site.sides, strict=True):
        assert record.target.rstrip(".").lower() == outputs[ws.name]["alb_dns_name"].lower()
        check = clients(ws.name).get("route53").get_health_check(HealthCheckId=record.health_check_id)["HealthCheck"]
        config = check["HealthCheckConfig"]
        assert config["Type"] == "CLOUDWATCH_METRIC" and config["AlarmIdentifier"]["Region"] == ws.region
        alarms = (
            clients(ws.name)
            .get("cloudwatch")
            .describe_alarms(AlarmNames=[config["AlarmIdentifier"]["Name"]])["MetricAlarms"]
        )
        assert alarms and alarms[0]["MetricName"] == "HealthyHostCount"


def test_dr_waits_at_pilot_light_size(deployed, site, clients, outputs):
    out = outputs[site.replica.name]
    service = (
        clients(site.replica.name)
        .get("ecs")
        .describe_services(cluster=out["cluster_name"], services=[out["service_name"]])["services"][0]
    )
    (target,) = (
        clients(site.replica.name)
        .get("application-autoscaling")
        .describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=[f"service/{out['cluster_name']}/{out['service_name']}"]
        )["ScalableTargets"]
    )
    assert service["desiredCount"] == target["MinCapacity"] == site.replica.compute.min_tasks
    assert target["MaxCapacity"] >= site.source.compute.min_tasks  # room for production's size in a drill


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_dr_secrets_are_productions_values_in_drs_key(deployed, site, clients, outputs):
    names = outputs[site.replica.name]["secret_parameter_names"]
    source_names = outputs[site.source.name]["secret_parameter_names"]
    ssm, source_ssm = clients(site.replica.name).get("ssm"), clients(site.source.name).get("ssm")
    for key in ("db_master_password", "origin_secret", "wordpress_auth_key"):
        copy = ssm.get_parameter(Name=names[key], WithDecryption=True)["Parameter"]
        original = source_ssm.get_parameter(Name=source_names[key], WithDecryption=True)["Parameter"]
        # Digests only: a failed comparison must not print either secret (pytest shows the operands).
        same = _digest(copy.pop("Value")) == _digest(original.pop("Value"))
        assert copy["Type"] == "SecureString" and same, f"{key}: dr's copy differs from production's value"
        assert f":{site.replica.region}:" in copy["ARN"]


def test_dr_database_replicates_productions_writes(deployed, site, local_only):
    from surgepress.dataplane.replication import Node

    nodes = {ws.name: Node(ws.name, deployed.build / "dataplane" / ws.name, "wordpress") for ws in site.sides}
    writer, replica = nodes[site.source.name], nodes[site.replica.name]
    assert replica.value("@@read_only") == "1" and writer.value("@@read_only") == "0"
    marker = f"verify-{uuid.uuid4().hex[:8]}"
    writer.sql(
        f"INSERT INTO wordpress.wp_options (option_name, option_value, autoload) "
        f"VALUES ('{marker}', '{time.time()}', 'no');"
    )
    wait_for(
        f"{marker} on {site.replica.name}",
        lambda: replica.sql(f"SELECT option_value FROM wordpress.wp_options WHERE option_name = '{marker}';"),
        timeout_s=30,
    )
    writer.sql(f"DELETE FROM wordpress.wp_options WHERE option_name = '{marker}';")

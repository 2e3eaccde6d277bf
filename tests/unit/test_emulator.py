"""The embedded AWS: lifecycle, multi-account through STS, and each shim's gap, via boto3."""

from __future__ import annotations

import json
import os
import signal
import time

import boto3
import pytest
from botocore.config import Config

from surgepress.emulator.control import Emulator
from surgepress.regions import ZONE_LETTERS_BY_REGION
from surgepress.targets import Paths
from tests.conftest import client, session_in

pytestmark = pytest.mark.unit

OPERATOR = "100000000001"


def test_operator_identity_lives_in_the_management_account(emulator):
    # operator_account shim: moto would otherwise answer 123456789012 for the static key.
    identity = client(emulator, session_in(emulator, None, "eu-west-1"), "sts").get_caller_identity()
    assert identity["Account"] == OPERATOR


def test_assumed_role_credentials_act_in_the_roles_account(emulator):
    staging = session_in(emulator, "100000000003", "eu-west-1")
    assert client(emulator, staging, "sts").get_caller_identity()["Account"] == "100000000003"
    vpc = client(emulator, staging, "ec2").create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]
    assert vpc["OwnerId"] == "100000000003"
    operator_ec2 = client(emulator, session_in(emulator, None, "eu-west-1"), "ec2")
    assert vpc["VpcId"] not in [v["VpcId"] for v in operator_ec2.describe_vpcs()["Vpcs"]]


def test_host_prefixed_apis_reach_the_emulator_through_its_proxy(emulator):
    # S3 Control prefixes the host with the account id, which no resolver maps to loopback.
    session = session_in(emulator, "100000000003", "eu-west-1")
    s3control = session.client("s3control", endpoint_url=emulator.endpoint,
                               config=Config(proxies={"http": emulator.environment()["HTTP_PROXY"]}))
    config = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
              "RestrictPublicBuckets": True}
    s3control.put_public_access_block(AccountId="100000000003", PublicAccessBlockConfiguration=config)
    got = s3control.get_public_access_block(AccountId="100000000003")["PublicAccessBlockConfiguration"]
    assert got == config


def test_region_table_matches_the_emulators_zones():
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

    for region, letters in ZONE_LETTERS_BY_REGION.items():
        moto_letters = "".join(z.name[len(region):] for z in RegionsAndZonesBackend.zones[region])
        assert moto_letters == letters, region


KILL_NOTICED_WITHIN_S = 10


def _kill_leaving_state(control: Emulator, info, workspace: str) -> None:
    """Leave a local state behind, kill the emulator hard and wait until it reads as dead."""
    control.paths.local_state_dir.mkdir(parents=True, exist_ok=True)
    control.paths.local_state_file(workspace).write_text("{}")
    os.killpg(info.pid, signal.SIGKILL)
    deadline = time.monotonic() + KILL_NOTICED_WITHIN_S
    while control.status().state != "dead" and time.monotonic() < deadline:
        time.sleep(0.1)


def test_up_reuses_down_stops_and_a_dead_emulator_resets_local_state(tmp_path):
    paths = Paths(tmp_path)
    control = Emulator(paths)
    said: list[str] = []
    try:
        info, started = control.up(OPERATOR, say=said.append)
        assert started and control.status().state == "running"
        again, started_again = control.up(OPERATOR, say=said.append)
        assert (again, started_again) == (info, False)

        _kill_leaving_state(control, info, "staging")
        status = control.status()
        assert status.state == "dead" and str(info.pid) in status.detail

        said.clear()
        fresh, started = control.up(OPERATOR, say=said.append)
        assert started and fresh.port != 0 and fresh.boot_id != info.boot_id
        assert any("died" in line for line in said)
        assert any("reset local state of staging" in line for line in said)
        assert not paths.local_state_file("staging").exists()
    finally:
        control.down()
    assert control.status().state == "stopped"


def test_the_real_aws_endpoint_is_never_reached_from_the_local_environment(emulator):
    env = emulator.environment()
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    assert env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert "127.0.0.1" in env["NO_PROXY"]
    # boto3 built from exactly this environment talks to the emulator.
    session = boto3.Session(aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name="eu-central-1")
    zones = session.client("ec2", endpoint_url=env["AWS_ENDPOINT_URL"]).describe_availability_zones()
    assert [z["ZoneName"] for z in zones["AvailabilityZones"]][:2] == ["eu-central-1a", "eu-central-1b"]


def test_recover_forgets_a_dead_emulator_once_without_starting_another(tmp_path):
    paths = Paths(tmp_path)
    control = Emulator(paths)
    info, _ = control.up(OPERATOR, say=lambda _m: None)
    try:
        _kill_leaving_state(control, info, "production")
        said: list[str] = []
        assert control.recover(say=said.append).state == "stopped"
        assert any("died" in line for line in said) and any("production" in line for line in said)
        assert not paths.local_state_file("production").exists()
        said.clear()
        assert control.recover(say=said.append).state == "stopped" and said == []
    finally:
        control.down()


def test_log_delivery_grant_is_read_like_iam():
    from surgepress.emulator.shims.s3_logging_policy import grants_log_delivery

    def policy(*statements):
        return json.dumps({"Statement": list(statements)})

    tls_deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::logs/*"}
    allow = {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": "arn:aws:s3:::logs/s3/*"}
    assert grants_log_delivery(policy(tls_deny, allow), "aws", "logs", "s3/media/")
    assert grants_log_delivery(policy({**allow, "Resource": ["arn:aws:s3:::other/*", "arn:aws:s3:::logs/*"]}),
                               "aws", "logs", None)
    assert not grants_log_delivery(policy(tls_deny, allow), "aws", "logs", "elsewhere/")
    assert not grants_log_delivery(policy({**allow, "Effect": "Deny"}), "aws", "logs", "s3/")
    assert not grants_log_delivery(policy({**allow, "Principal": "*"}), "aws", "logs", "s3/")


def test_bucket_logging_into_a_policy_protected_bucket_works_on_the_emulator(emulator):
    session = session_in(emulator, "100000000003", "eu-west-1")
    s3 = client(emulator, session, "s3")
    config = {"LocationConstraint": "eu-west-1"}
    s3.create_bucket(Bucket="shim-logs", CreateBucketConfiguration=config)
    s3.create_bucket(Bucket="shim-data", CreateBucketConfiguration=config)
    s3.put_bucket_policy(Bucket="shim-logs", Policy=json.dumps({"Statement": [
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::shim-logs/*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::shim-logs/s3/*"}]}))
    s3.put_bucket_logging(Bucket="shim-data", BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": "shim-logs", "TargetPrefix": "s3/data/"}})
    assert s3.get_bucket_logging(Bucket="shim-data")["LoggingEnabled"]["TargetPrefix"] == "s3/data/"


def test_rds_answers_keep_performance_insights_and_omit_v1_scaling(emulator):
    rds = client(emulator, session_in(emulator, "100000000003", "eu-west-1"), "rds")
    cluster = rds.create_db_cluster(DBClusterIdentifier="shim-aurora", Engine="aurora-mysql",
                                    MasterUsername="admin", MasterUserPassword="not-a-real-secret-1")["DBCluster"]
    assert "ScalingConfigurationInfo" not in cluster
    rds.create_db_instance(DBInstanceIdentifier="shim-aurora-0", DBClusterIdentifier="shim-aurora",
                           Engine="aurora-mysql", DBInstanceClass="db.r6g.large",
                           EnablePerformanceInsights=True, PerformanceInsightsKMSKeyId="arn:aws:kms:eu-west-1:1:key/k")
    described = rds.describe_db_instances(DBInstanceIdentifier="shim-aurora-0")["DBInstances"][0]
    assert described["PerformanceInsightsEnabled"] is True
    assert described["PerformanceInsightsKMSKeyId"] == "arn:aws:kms:eu-west-1:1:key/k"
    assert described["PerformanceInsightsRetentionPeriod"] == 7
    rds.modify_db_instance(DBInstanceIdentifier="shim-aurora-0", EnablePerformanceInsights=False,
                           ApplyImmediately=True)
    assert rds.describe_db_instances(
        DBInstanceIdentifier="shim-aurora-0")["DBInstances"][0]["PerformanceInsightsEnabled"] is False
    assert "ScalingConfigurationInfo" not in rds.describe_db_clusters(
        DBClusterIdentifier="shim-aurora")["DBClusters"][0]


def test_elasticache_replication_groups_have_their_member_clusters_and_go_away(emulator):
    session = session_in(emulator, "100000000003", "eu-west-1")
    ec2, cache = client(emulator, session, "ec2"), client(emulator, session, "elasticache")
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.99.{i}.0/24", AvailabilityZone=f"eu-west-1{z}")
               ["Subnet"]["SubnetId"] for i, z in enumerate("ab")]
    cache.create_cache_subnet_group(CacheSubnetGroupName="shim-cache", CacheSubnetGroupDescription="d",
                                    SubnetIds=subnets)
    group = cache.create_replication_group(
        ReplicationGroupId="shim-redis", ReplicationGroupDescription="d", Engine="redis", EngineVersion="7.1",
        CacheNodeType="cache.t4g.small", NumCacheClusters=3, PreferredCacheClusterAZs=["eu-west-1a", "eu-west-1b",
                                                                                    "eu-west-1a"],
        CacheSubnetGroupName="shim-cache", SecurityGroupIds=["sg-1"], AutomaticFailoverEnabled=True,
        MultiAZEnabled=True, TransitEncryptionEnabled=True, AuthToken="a" * 32)["ReplicationGroup"]
    assert group["MemberClusters"] == ["shim-redis-001", "shim-redis-002", "shim-redis-003"]
    member = cache.describe_cache_clusters(CacheClusterId="shim-redis-002")["CacheClusters"][0]
    assert member["ReplicationGroupId"] == "shim-redis" and member["PreferredAvailabilityZone"] == "eu-west-1b"
    assert member["CacheSubnetGroupName"] == "shim-cache"
    assert member["SecurityGroups"] == [{"SecurityGroupId": "sg-1", "Status": "active"}]
    assert member["CacheParameterGroup"]["CacheParameterGroupName"] == "default.redis7"
    with pytest.raises(cache.exceptions.ClientError, match="CacheSubnetGroupInUse"):
        cache.delete_cache_subnet_group(CacheSubnetGroupName="shim-cache")

    cache.delete_replication_group(ReplicationGroupId="shim-redis")
    with pytest.raises(cache.exceptions.ReplicationGroupNotFoundFault):
        cache.describe_replication_groups(ReplicationGroupId="shim-redis")
    with pytest.raises(cache.exceptions.CacheClusterNotFoundFault):
        cache.describe_cache_clusters(CacheClusterId="shim-redis-001")
    cache.delete_cache_subnet_group(CacheSubnetGroupName="shim-cache")
    with pytest.raises(cache.exceptions.CacheSubnetGroupNotFoundFault):
        cache.describe_cache_subnet_groups(CacheSubnetGroupName="shim-cache")

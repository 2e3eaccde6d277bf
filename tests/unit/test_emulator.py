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
    s3control = session.client(
        "s3control",
        endpoint_url=emulator.endpoint,
        config=Config(proxies={"http": emulator.environment()["HTTP_PROXY"]}),
    )
    config = {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    s3control.put_public_access_block(AccountId="100000000003", PublicAccessBlockConfiguration=config)
    got = s3control.get_public_access_block(AccountId="100000000003")["PublicAccessBlockConfiguration"]
    assert got == config


def test_region_table_matches_the_emulators_zones():
    from moto.ec2.models.availability_zones_and_regions import RegionsAndZonesBackend

    for region, letters in ZONE_LETTERS_BY_REGION.items():
        moto_letters = "".join(z.name[len(region) :] for z in RegionsAndZonesBackend.zones[region])
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
    assert env["AWS_ENDPOINT_URL_S3"] == f"https://127.0.0.1:{emulator.tls_port}"
    assert env["AWS_CA_BUNDLE"] == env["SSL_CERT_FILE"] == emulator.ca_file
    assert env["AWS_EC2_METADATA_DISABLED"] == "true"
    assert "127.0.0.1" in env["NO_PROXY"]
    # boto3 built from exactly this environment talks to the emulator.
    session = boto3.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name="eu-central-1",
    )
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
    allow = {
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::logs/s3/*",
    }
    assert grants_log_delivery(policy(tls_deny, allow), "aws", "logs", "s3/media/")
    assert grants_log_delivery(
        policy({**allow, "Resource": ["arn:aws:s3:::other/*", "arn:aws:s3:::logs/*"]}), "aws", "logs", None
    )
    assert not grants_log_delivery(policy(tls_deny, allow), "aws", "logs", "elsewhere/")
    assert not grants_log_delivery(policy({**allow, "Effect": "Deny"}), "aws", "logs", "s3/")
    assert not grants_log_delivery(policy({**allow, "Principal": "*"}), "aws", "logs", "s3/")


def test_bucket_logging_into_a_policy_protected_bucket_works_on_the_emulator(emulator):
    session = session_in(emulator, "100000000003", "eu-west-1")
    s3 = client(emulator, session, "s3")
    config = {"LocationConstraint": "eu-west-1"}
    s3.create_bucket(Bucket="shim-logs", CreateBucketConfiguration=config)
    s3.create_bucket(Bucket="shim-data", CreateBucketConfiguration=config)
    s3.put_bucket_policy(
        Bucket="shim-logs",
        Policy=json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": "arn:aws:s3:::shim-logs/*",
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": "arn:aws:s3:::shim-logs/s3/*",
                    },
                ]
            }
        ),
    )
    s3.put_bucket_logging(
        Bucket="shim-data",
        BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": "shim-logs", "TargetPrefix": "s3/data/"}},
    )
    assert s3.get_bucket_logging(Bucket="shim-data")["LoggingEnabled"]["TargetPrefix"] == "s3/data/"


def test_a_tls_only_bucket_policy_lets_signed_requests_read_and_write(emulator):
    session = session_in(emulator, "100000000003", "eu-west-1")
    s3 = client(emulator, session, "s3")
    s3.create_bucket(Bucket="shim-tls-only", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_policy(
        Bucket="shim-tls-only",
        Policy=json.dumps(
            {
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": ["arn:aws:s3:::shim-tls-only", "arn:aws:s3:::shim-tls-only/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:DeleteObject",
                        "Resource": "arn:aws:s3:::shim-tls-only/*",
                    },
                ]
            }
        ),
    )
    assert client(emulator, session, "s3").meta.endpoint_url == emulator.s3_endpoint  # TLS
    s3.put_object(Bucket="shim-tls-only", Key="a.txt", Body=b"news")
    assert s3.get_object(Bucket="shim-tls-only", Key="a.txt")["Body"].read() == b"news"
    # A statement without a condition still denies.
    with pytest.raises(s3.exceptions.ClientError, match="403|AccessDenied"):
        s3.delete_object(Bucket="shim-tls-only", Key="a.txt")
    # The same signed request over plain HTTP meets the TLS-only deny, as on AWS.
    plain = session.client("s3", endpoint_url=emulator.endpoint)
    with pytest.raises(plain.exceptions.ClientError, match="403|AccessDenied"):
        plain.get_object(Bucket="shim-tls-only", Key="a.txt")


def test_a_suspended_bucket_with_delete_markers_can_be_emptied(emulator):
    s3 = client(emulator, session_in(emulator, "100000000003", "eu-west-1"), "s3")
    s3.create_bucket(Bucket="shim-markers", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_versioning(Bucket="shim-markers", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="shim-markers", Key="uploads/a.txt", Body=b"1")
    s3.delete_object(Bucket="shim-markers", Key="uploads/a.txt")  # leaves a delete marker
    s3.put_bucket_versioning(Bucket="shim-markers", VersioningConfiguration={"Status": "Suspended"})
    listing = s3.list_object_versions(Bucket="shim-markers")
    versions = [
        {"Key": v["Key"], "VersionId": v["VersionId"]}
        for v in listing.get("Versions", []) + listing.get("DeleteMarkers", [])
    ]
    assert len(versions) == 2
    answer = s3.delete_objects(Bucket="shim-markers", Delete={"Objects": versions})
    assert not answer.get("Errors")
    s3.delete_bucket(Bucket="shim-markers")


def test_rds_answers_keep_performance_insights_and_omit_v1_scaling(emulator):
    rds = client(emulator, session_in(emulator, "100000000003", "eu-west-1"), "rds")
    cluster = rds.create_db_cluster(
        DBClusterIdentifier="shim-aurora",
        Engine="aurora-mysql",
        MasterUsername="admin",
        MasterUserPassword="not-a-real-secret-1",
    )["DBCluster"]
    assert "ScalingConfigurationInfo" not in cluster
    rds.create_db_instance(
        DBInstanceIdentifier="shim-aurora-0",
        DBClusterIdentifier="shim-aurora",
        Engine="aurora-mysql",
        DBInstanceClass="db.r6g.large",
        EnablePerformanceInsights=True,
        PerformanceInsightsKMSKeyId="arn:aws:kms:eu-west-1:1:key/k",
    )
    described = rds.describe_db_instances(DBInstanceIdentifier="shim-aurora-0")["DBInstances"][0]
    assert described["PerformanceInsightsEnabled"] is True
    assert described["PerformanceInsightsKMSKeyId"] == "arn:aws:kms:eu-west-1:1:key/k"
    assert described["PerformanceInsightsRetentionPeriod"] == 7
    rds.modify_db_instance(DBInstanceIdentifier="shim-aurora-0", EnablePerformanceInsights=False, ApplyImmediately=True)
    assert (
        rds.describe_db_instances(DBInstanceIdentifier="shim-aurora-0")["DBInstances"][0]["PerformanceInsightsEnabled"]
        is False
    )
    assert (
        "ScalingConfigurationInfo" not in rds.describe_db_clusters(DBClusterIdentifier="shim-aurora")["DBClusters"][0]
    )


def test_elasticache_replication_groups_have_their_member_clusters_and_go_away(emulator):
    session = session_in(emulator, "100000000003", "eu-west-1")
    ec2, cache = client(emulator, session, "ec2"), client(emulator, session, "elasticache")
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # as the platform's VPCs have it
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.99.{i}.0/24", AvailabilityZone=f"eu-west-1{z}")["Subnet"][
            "SubnetId"
        ]
        for i, z in enumerate("ab")
    ]
    cache.create_cache_subnet_group(
        CacheSubnetGroupName="shim-cache", CacheSubnetGroupDescription="d", SubnetIds=subnets
    )
    group = cache.create_replication_group(
        ReplicationGroupId="shim-redis",
        ReplicationGroupDescription="d",
        Engine="redis",
        EngineVersion="7.1",
        CacheNodeType="cache.t4g.small",
        NumCacheClusters=3,
        PreferredCacheClusterAZs=["eu-west-1a", "eu-west-1b", "eu-west-1a"],
        CacheSubnetGroupName="shim-cache",
        SecurityGroupIds=["sg-1"],
        AutomaticFailoverEnabled=True,
        MultiAZEnabled=True,
        TransitEncryptionEnabled=True,
        AuthToken="a" * 32,
    )["ReplicationGroup"]
    assert group["MemberClusters"] == ["shim-redis-001", "shim-redis-002", "shim-redis-003"]
    assert group["NodeGroups"][0]["ReaderEndpoint"]["Address"].startswith("replica.shim-redis.")
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


def _distribution_config(origin_id: str, **behavior: str) -> dict:
    return {
        "CallerReference": f"shim-{origin_id}",
        "Comment": "shim",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": origin_id,
                    "DomainName": "origin.example.org",
                    "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
                    "OriginShield": {"Enabled": True, "OriginShieldRegion": "eu-west-1"},
                }
            ],
        },
        "DefaultCacheBehavior": {"TargetOriginId": origin_id, "ViewerProtocolPolicy": "redirect-to-https", **behavior},
        "Logging": {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
        "HttpVersion": "http2and3",
    }


def test_cloudfront_policies_exist_with_etags_and_cannot_be_deleted_in_use(emulator):
    cloudfront = client(emulator, session_in(emulator, "100000000003", "us-east-1"), "cloudfront")
    created = cloudfront.create_cache_policy(
        CachePolicyConfig={
            "Name": "shim-pages",
            "MinTTL": 0,
            "DefaultTTL": 60,
            "MaxTTL": 3600,
            "ParametersInCacheKeyAndForwardedToOrigin": {
                "EnableAcceptEncodingGzip": True,
                "HeadersConfig": {"HeaderBehavior": "none"},
                "CookiesConfig": {"CookieBehavior": "whitelist", "Cookies": {"Quantity": 1, "Items": ["wp_x"]}},
                "QueryStringsConfig": {"QueryStringBehavior": "all"},
            },
        }
    )
    policy_id, etag = created["CachePolicy"]["Id"], created["ETag"]
    read = cloudfront.get_cache_policy(Id=policy_id)
    assert read["ETag"] == etag
    cookies = read["CachePolicy"]["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]["CookiesConfig"]
    assert cookies["Cookies"]["Items"] == ["wp_x"]
    headers = cloudfront.create_response_headers_policy(
        ResponseHeadersPolicyConfig={
            "Name": "shim-headers",
            "SecurityHeadersConfig": {"ContentTypeOptions": {"Override": True}},
        }
    )
    assert cloudfront.get_response_headers_policy_config(Id=headers["ResponseHeadersPolicy"]["Id"])[
        "ResponseHeadersPolicyConfig"
    ]["SecurityHeadersConfig"]["ContentTypeOptions"] == {"Override": True}
    request = cloudfront.create_origin_request_policy(
        OriginRequestPolicyConfig={
            "Name": "shim-request",
            "HeadersConfig": {"HeaderBehavior": "none"},
            "CookiesConfig": {"CookieBehavior": "all"},
            "QueryStringsConfig": {"QueryStringBehavior": "all"},
        }
    )
    assert request["OriginRequestPolicy"]["OriginRequestPolicyConfig"]["CookiesConfig"]["CookieBehavior"] == "all"

    distribution = cloudfront.create_distribution(
        DistributionConfig=_distribution_config("alb", CachePolicyId=policy_id)
    )["Distribution"]
    with pytest.raises(cloudfront.exceptions.ClientError, match="CachePolicyInUse"):
        cloudfront.delete_cache_policy(Id=policy_id, IfMatch=etag)
    config = cloudfront.get_distribution_config(Id=distribution["Id"])
    cloudfront.update_distribution(
        Id=distribution["Id"],
        IfMatch=config["ETag"],
        DistributionConfig={
            **config["DistributionConfig"],
            "DefaultCacheBehavior": {**config["DistributionConfig"]["DefaultCacheBehavior"], "CachePolicyId": ""},
        },
    )
    with pytest.raises(cloudfront.exceptions.ClientError, match="InvalidIfMatchVersion"):
        cloudfront.delete_cache_policy(Id=policy_id, IfMatch="stale")
    cloudfront.delete_cache_policy(Id=policy_id, IfMatch=etag)
    with pytest.raises(cloudfront.exceptions.ClientError, match="NoSuchCachePolicy"):
        cloudfront.get_cache_policy(Id=policy_id)


def test_cloudfront_distribution_config_reads_back_as_written(emulator):
    cloudfront = client(emulator, session_in(emulator, "100000000003", "us-east-1"), "cloudfront")
    written = _distribution_config("written", ResponseHeadersPolicyId="rhp-1")
    created = cloudfront.create_distribution(DistributionConfig=written)["Distribution"]
    read = cloudfront.get_distribution(Id=created["Id"])["Distribution"]["DistributionConfig"]
    origin = read["Origins"]["Items"][0]
    assert origin["OriginShield"] == {"Enabled": True, "OriginShieldRegion": "eu-west-1"}
    assert read["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == "rhp-1"
    assert read["HttpVersion"] == "http2and3" and read["Logging"]["Enabled"] is False
    assert read["OriginGroups"] == {"Quantity": 0}, "AWS answers the collections a client left out"


def test_scalable_target_tags_are_kept_and_listed(emulator):
    session = session_in(emulator, "100000000003", "eu-west-1")
    ecs, scaling = client(emulator, session, "ecs"), client(emulator, session, "application-autoscaling")
    ecs.create_cluster(clusterName="shim-cluster")
    ecs.create_service(cluster="shim-cluster", serviceName="shim-service", desiredCount=1)
    arn = scaling.register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/shim-cluster/shim-service",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=4,
        Tags={"Team": "platform"},
    )["ScalableTargetARN"]
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Team": "platform"}
    scaling.tag_resource(ResourceARN=arn, Tags={"Env": "shim"})
    scaling.untag_resource(ResourceARN=arn, TagKeys=["Team"])
    assert scaling.list_tags_for_resource(ResourceARN=arn)["Tags"] == {"Env": "shim"}


def test_ecs_service_answers_with_its_strategy_and_grace_period(emulator):
    ecs = client(emulator, session_in(emulator, "100000000003", "eu-west-1"), "ecs")
    ecs.create_cluster(clusterName="shim-strategy")
    service = ecs.create_service(
        cluster="shim-strategy",
        serviceName="wordpress",
        desiredCount=1,
        healthCheckGracePeriodSeconds=60,
        enableECSManagedTags=True,
        capacityProviderStrategy=[
            {"capacityProvider": "FARGATE", "weight": 0, "base": 1},
            {"capacityProvider": "FARGATE_SPOT", "weight": 1},
        ],
    )["service"]
    described = ecs.describe_services(cluster="shim-strategy", services=["wordpress"])["services"][0]
    for answer in (service, described):
        assert answer["capacityProviderStrategy"][0] == {"capacityProvider": "FARGATE", "weight": 0, "base": 1}
        assert answer["healthCheckGracePeriodSeconds"] == 60 and answer["enableECSManagedTags"] is True
        assert "launchType" not in answer


def test_rules_from_groups_and_prefix_lists_keep_their_descriptions(emulator):
    ec2 = client(emulator, session_in(emulator, "100000000003", "eu-west-1"), "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.98.0.0/16")["Vpc"]["VpcId"]
    group, peer = (ec2.create_security_group(GroupName=n, Description=n, VpcId=vpc)["GroupId"] for n in ("a", "b"))
    prefix_list = ec2.describe_managed_prefix_lists()["PrefixLists"][0]["PrefixListId"]
    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "PrefixListIds": [{"PrefixListId": prefix_list, "Description": "from the edge"}],
            },
            {
                "IpProtocol": "tcp",
                "FromPort": 80,
                "ToPort": 80,
                "UserIdGroupPairs": [{"GroupId": peer, "Description": "from the peer"}],
            },
        ],
    )
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])["SecurityGroupRules"]
    assert {r["Description"] for r in rules if not r["IsEgress"]} == {"from the edge", "from the peer"}


def test_launch_template_tags_stay_off_its_data_and_asg_warmup_is_kept(emulator):
    session = session_in(emulator, "100000000003", "eu-west-1")
    ec2, autoscaling = client(emulator, session, "ec2"), client(emulator, session, "autoscaling")
    template = ec2.create_launch_template(
        LaunchTemplateName="shim-template",
        LaunchTemplateData={
            "ImageId": "ami-0b902854788f84e0e",
            "InstanceType": "t3.micro",
            "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "a", "Value": "1"}]}],
        },
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": [{"Key": "own", "Value": "tag"}]}],
    )["LaunchTemplate"]
    data = ec2.describe_launch_template_versions(LaunchTemplateId=template["LaunchTemplateId"])[
        "LaunchTemplateVersions"
    ][0]["LaunchTemplateData"]
    assert [s["ResourceType"] for s in data["TagSpecifications"]] == ["instance"]
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="shim-hosts",
        MinSize=0,
        MaxSize=2,
        DefaultInstanceWarmup=60,
        LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"]},
        VPCZoneIdentifier=subnet,
    )
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["shim-hosts"])["AutoScalingGroups"][0]
    assert group["DefaultInstanceWarmup"] == 60


def test_a_warm_pool_reads_back_as_the_provider_reads_it_and_is_refused_where_aws_refuses_it(emulator):
    # autoscaling_warm_pools shim: moto stores any PutWarmPool.
    import botocore.exceptions

    session = session_in(emulator, "100000000003", "eu-west-1")
    ec2, autoscaling = client(emulator, session, "ec2"), client(emulator, session, "autoscaling")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]

    def group(name: str, market: dict | None = None) -> None:
        data = {"ImageId": "ami-0b902854788f84e0e", "InstanceType": "c7i.large", **(market or {})}
        template = ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData=data)["LaunchTemplate"]
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName=name,
            MinSize=0,
            MaxSize=4,
            LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"]},
            VPCZoneIdentifier=subnet,
        )

    group("warm-hosts")
    autoscaling.put_warm_pool(AutoScalingGroupName="warm-hosts", MinSize=2, MaxGroupPreparedCapacity=2)
    (described,) = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["warm-hosts"])["AutoScalingGroups"]
    pool = described["WarmPoolConfiguration"]  # what the provider's read sets `warm_pool` from
    assert (pool["MinSize"], pool["MaxGroupPreparedCapacity"], pool["PoolState"]) == (2, 2, "Stopped")

    def refused(name: str, **pool: int) -> str:
        with pytest.raises(botocore.exceptions.ClientError) as error:
            autoscaling.put_warm_pool(AutoScalingGroupName=name, **pool)
        assert error.value.response["Error"]["Code"] == "ValidationError"
        return error.value.response["Error"]["Message"]

    group("warm-spot", {"InstanceMarketOptions": {"MarketType": "spot"}})
    assert refused("warm-spot", MinSize=1) == (
        "You can't add a warm pool to an Auto Scaling group that launches Spot Instances."
    )
    autoscaling.delete_warm_pool(AutoScalingGroupName="warm-hosts")
    (described,) = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["warm-hosts"])["AutoScalingGroups"]
    assert "WarmPoolConfiguration" not in described


def test_parallel_writes_and_listings_never_fail(emulator):
    from concurrent.futures import ThreadPoolExecutor

    ssm = client(emulator, session_in(emulator, "100000000003", "eu-west-1"), "ssm")

    def write(i: int) -> None:
        ssm.put_parameter(Name=f"/shim/parallel/{i}", Value="v", Type="String")

    def read(_: int) -> int:
        return len(ssm.describe_parameters(MaxResults=50)["Parameters"])

    with ThreadPoolExecutor(max_workers=12) as pool:
        futures = [pool.submit(write if i % 2 else read, i) for i in range(200)]
        for future in futures:
            future.result()  # a 500 from a race raises here
    assert len(ssm.get_parameters_by_path(Path="/shim/parallel", MaxResults=10)["Parameters"]) == 10


def test_public_parameters_are_readable_but_not_listed_as_the_accounts_own(emulator):
    ssm = client(emulator, session_in(emulator, "100000000002", "eu-west-1"), "ssm")
    ami = ssm.get_parameter(Name="/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id")
    assert ami["Parameter"]["Value"].startswith("ami-")
    ssm.put_parameter(Name="/shim/own", Value="v", Type="String")
    assert [p["Name"] for p in ssm.describe_parameters()["Parameters"]] == ["/shim/own"]


def test_global_clusters_can_be_tagged_modified_and_emptied(emulator):
    rds = client(emulator, session_in(emulator, "100000000004", "eu-west-1"), "rds")
    arn = rds.create_global_cluster(
        GlobalClusterIdentifier="shim-global", Engine="aurora-mysql", Tags=[{"Key": "Made", "Value": "with-tags"}]
    )["GlobalCluster"]["GlobalClusterArn"]
    assert rds.list_tags_for_resource(ResourceName=arn)["TagList"] == [{"Key": "Made", "Value": "with-tags"}]
    rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "Team", "Value": "platform"}])
    assert rds.list_tags_for_resource(ResourceName=arn)["TagList"] == [
        {"Key": "Made", "Value": "with-tags"},
        {"Key": "Team", "Value": "platform"},
    ]
    rds.modify_global_cluster(GlobalClusterIdentifier="shim-global", DeletionProtection=True)
    (described,) = rds.describe_global_clusters(GlobalClusterIdentifier="shim-global")["GlobalClusters"]
    assert described["DeletionProtection"] is True
    rds.modify_global_cluster(GlobalClusterIdentifier="shim-global", DeletionProtection=False)

    rds.create_db_cluster(
        DBClusterIdentifier="shim-member",
        Engine="aurora-mysql",
        MasterUsername="admin",
        MasterUserPassword="not-a-real-secret-1",
        GlobalClusterIdentifier="shim-global",
    )
    (described,) = rds.describe_global_clusters(GlobalClusterIdentifier="shim-global")["GlobalClusters"]
    assert len(described["GlobalClusterMembers"]) == 1
    rds.delete_db_cluster(DBClusterIdentifier="shim-member", SkipFinalSnapshot=True)
    rds.delete_global_cluster(GlobalClusterIdentifier="shim-global")  # a member left behind refuses this
    assert rds.describe_global_clusters()["GlobalClusters"] == []


def test_a_retried_call_is_answered_from_its_first_attempt_not_executed_again(emulator):
    import botocore

    iam = client(emulator, session_in(emulator, "100000000003", "eu-west-1"), "iam")
    attempts = []

    def same_invocation(request, **_):  # what an SDK sends when it retries a call
        request.headers["amz-sdk-invocation-id"] = "shim-retry-1"
        attempts.append(request)

    iam.meta.events.register("before-send.iam.CreateRole", same_invocation)
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    first = iam.create_role(RoleName="shim-retried", AssumeRolePolicyDocument=trust)["Role"]
    again = iam.create_role(RoleName="shim-retried", AssumeRolePolicyDocument=trust)["Role"]
    assert again["RoleId"] == first["RoleId"] and len(attempts) == 2
    iam.meta.events.unregister("before-send.iam.CreateRole", same_invocation)
    with pytest.raises(botocore.exceptions.ClientError, match="EntityAlreadyExists"):
        iam.create_role(RoleName="shim-retried", AssumeRolePolicyDocument=trust)


def test_the_ssm_testinfra_backend_sends_run_command_documents_and_reads_the_result(emulator):
    from surgepress.harness.ssm_host import ssm_host

    session = session_in(emulator, "100000000004", "eu-west-1")
    ec2, ssm = client(emulator, session, "ec2"), client(emulator, session, "ssm")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    (instance,) = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"]
    result = ssm_host(instance["InstanceId"], ssm).run("systemctl is-active %s", "ecs")
    assert result.rc == 0  # the emulator answers every command with success and no output
    (command,) = ssm.list_commands(InstanceId=instance["InstanceId"])["Commands"]
    assert command["DocumentName"] == "AWS-RunShellScript"
    assert command["Parameters"]["commands"] == ["systemctl is-active ecs"]


def test_security_hub_subscribes_to_a_standard_and_lists_it_until_disabled(emulator):
    # securityhub_standards shim: moto has no standards API and no configuration update.
    hub = client(emulator, session_in(emulator, "100000000002", "eu-west-1"), "securityhub")
    hub.enable_security_hub(EnableDefaultStandards=False)
    hub.update_security_hub_configuration(AutoEnableControls=True)
    standard = "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/1.0.0"
    enabled = hub.batch_enable_standards(StandardsSubscriptionRequests=[{"StandardsArn": standard}])
    arn = enabled["StandardsSubscriptions"][0]["StandardsSubscriptionArn"]
    assert arn == (
        "arn:aws:securityhub:eu-west-1:100000000002:subscription/aws-foundational-security-best-practices/v/1.0.0"
    )
    listed = hub.get_enabled_standards(StandardsSubscriptionArns=[arn])["StandardsSubscriptions"]
    assert [(s["StandardsArn"], s["StandardsStatus"]) for s in listed] == [(standard, "READY")]
    hub.batch_disable_standards(StandardsSubscriptionArns=[arn])
    assert hub.get_enabled_standards(StandardsSubscriptionArns=[arn])["StandardsSubscriptions"] == []
    # Only the standards Security Hub offers, in this region: anything else is refused, none enabled.
    for unknown in (
        "arn:aws:securityhub:eu-west-1::standards/aws-foundational-security-best-practices/v/9.9.9",
        "arn:aws:securityhub:eu-central-1::standards/aws-foundational-security-best-practices/v/1.0.0",
    ):
        with pytest.raises(hub.exceptions.InvalidInputException):
            hub.batch_enable_standards(
                StandardsSubscriptionRequests=[{"StandardsArn": standard}, {"StandardsArn": unknown}]
            )
    assert hub.get_enabled_standards()["StandardsSubscriptions"] == []
    hub.disable_security_hub()


def test_budget_notifications_have_their_subscribers_and_budgets_their_tags(emulator):
    # budgets_subscribers shim: the provider reads both for every budget.
    budgets = client(emulator, session_in(emulator, "100000000003", "us-east-1"), "budgets")
    subscriber = {"SubscriptionType": "SNS", "Address": "arn:aws:sns:eu-west-1:100000000003:budget"}
    notification = {
        "NotificationType": "ACTUAL",
        "ComparisonOperator": "GREATER_THAN",
        "Threshold": 80.0,
        "ThresholdType": "PERCENTAGE",
    }
    budgets.create_budget(
        AccountId="100000000003",
        Budget={
            "BudgetName": "shim-test",
            "BudgetLimit": {"Amount": "100", "Unit": "USD"},
            "TimeUnit": "MONTHLY",
            "BudgetType": "COST",
        },
        ResourceTags=[{"Key": "Workspace", "Value": "staging"}],
    )
    budgets.create_notification(
        AccountId="100000000003", BudgetName="shim-test", Notification=notification, Subscribers=[subscriber]
    )
    found = budgets.describe_subscribers_for_notification(
        AccountId="100000000003", BudgetName="shim-test", Notification={**notification, "Threshold": 80}
    )
    assert found["Subscribers"] == [subscriber]
    arn = "arn:aws:budgets::100000000003:budget/shim-test"
    assert budgets.list_tags_for_resource(ResourceARN=arn)["ResourceTags"] == [{"Key": "Workspace", "Value": "staging"}]
    with pytest.raises(budgets.exceptions.NotFoundException):
        budgets.describe_subscribers_for_notification(
            AccountId="100000000003", BudgetName="shim-test", Notification={**notification, "Threshold": 50}
        )


def test_backup_selections_belong_to_their_plan(emulator):
    # backup_selections shim: moto has plans but no selections.
    backup = client(emulator, session_in(emulator, "100000000003", "eu-west-1"), "backup")
    plan = backup.create_backup_plan(
        BackupPlan={
            "BackupPlanName": "shim-test",
            "Rules": [
                {"RuleName": "daily", "TargetBackupVaultName": "Default", "ScheduleExpression": "cron(0 3 ? * * *)"}
            ],
        }
    )
    selection = {
        "SelectionName": "by-tag",
        "IamRoleArn": "arn:aws:iam::100000000003:role/backup",
        "Resources": ["arn:aws:s3:::shim-*"],
        "Conditions": {"StringEquals": [{"ConditionKey": "aws:ResourceTag/Workspace", "ConditionValue": "staging"}]},
    }
    created = backup.create_backup_selection(BackupPlanId=plan["BackupPlanId"], BackupSelection=selection)
    got = backup.get_backup_selection(BackupPlanId=plan["BackupPlanId"], SelectionId=created["SelectionId"])
    assert got["BackupSelection"] == selection
    listed = backup.list_backup_selections(BackupPlanId=plan["BackupPlanId"])["BackupSelectionsList"]
    assert [s["SelectionName"] for s in listed] == ["by-tag"]
    backup.delete_backup_selection(BackupPlanId=plan["BackupPlanId"], SelectionId=created["SelectionId"])
    with pytest.raises(backup.exceptions.ResourceNotFoundException):
        backup.get_backup_selection(BackupPlanId=plan["BackupPlanId"], SelectionId=created["SelectionId"])


def test_codebuild_projects_fed_by_codepipeline_keep_their_own_key_and_go_when_deleted_by_arn(emulator):
    # codebuild_projects shim: no location for CODEPIPELINE sources/artifacts; the named key is
    # kept; DeleteProject takes the project's ARN.
    session = session_in(emulator, "100000000001", "eu-west-1")
    role = client(emulator, session, "iam").create_role(RoleName="shim-build", AssumeRolePolicyDocument="{}")
    codebuild = client(emulator, session, "codebuild")
    key = "arn:aws:kms:eu-west-1:100000000001:key/0b6d3f7e-0000-4000-8000-000000000000"

    def create(kind: str, **extra) -> None:
        codebuild.create_project(
            name="shim-test",
            source={"type": kind, "buildspec": "version: 0.2"},
            artifacts={"type": "CODEPIPELINE" if kind == "CODEPIPELINE" else "NO_ARTIFACTS"},
            serviceRole=role["Role"]["Arn"],
            environment={
                "type": "LINUX_CONTAINER",
                "image": "aws/codebuild/standard:7.0",
                "computeType": "BUILD_GENERAL1_SMALL",
            },
            **extra,
        )

    create("CODEPIPELINE", encryptionKey=key)
    (project,) = codebuild.batch_get_projects(names=["shim-test"])["projects"]
    assert project["encryptionKey"] == key
    # Deleted by its ARN, as the provider deletes it: gone, and its name free for a new project.
    codebuild.delete_project(name=project["arn"])
    assert codebuild.batch_get_projects(names=["shim-test", project["arn"]])["projects"] == []
    create("NO_SOURCE")
    assert [p["name"] for p in codebuild.batch_get_projects(names=["shim-test"])["projects"]] == ["shim-test"]


def test_codepipeline_sends_timestamps_as_epoch_numbers(emulator):
    # codepipeline_timestamps shim: the Go SDK refuses moto's ISO strings.

    session = session_in(emulator, "100000000001", "eu-west-1")
    role = client(emulator, session, "iam").create_role(
        RoleName="shim-pipeline",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "codepipeline.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    pipelines = client(emulator, session, "codepipeline")
    pipelines.create_pipeline(
        pipeline={
            "name": "shim-test",
            "roleArn": role["Role"]["Arn"],
            "artifactStore": {"type": "S3", "location": "shim-artifacts"},
            "stages": [
                {
                    "name": "Source",
                    "actions": [
                        {
                            "name": "s",
                            "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
                            "outputArtifacts": [{"name": "src"}],
                            "configuration": {"S3Bucket": "b", "S3ObjectKey": "k"},
                        }
                    ],
                },
                {
                    "name": "Build",
                    "actions": [
                        {
                            "name": "b",
                            "actionTypeId": {
                                "category": "Build",
                                "owner": "AWS",
                                "provider": "CodeBuild",
                                "version": "1",
                            },
                            "inputArtifacts": [{"name": "src"}],
                            "configuration": {"ProjectName": "p"},
                        }
                    ],
                },
            ],
        }
    )
    raw = signed_request(
        emulator,
        session,
        "codepipeline",
        "POST",
        "/",
        json.dumps({"name": "shim-test"}),
        {"X-Amz-Target": "CodePipeline_20150709.GetPipeline", "Content-Type": "application/x-amz-json-1.1"},
    )
    metadata = json.loads(raw)["metadata"]
    assert isinstance(metadata["created"], float) and isinstance(metadata["updated"], float)
    assert abs(metadata["created"] - time.time()) < 300


def signed_request(
    emulator, session, service: str, method: str, path: str, body: str = "", headers: dict | None = None
) -> bytes:
    """One SigV4-signed request as another SDK (the provider's Go SDK) would shape it."""
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method=method, url=emulator.endpoint + path, data=body or None, headers=headers or {})
    SigV4Auth(session.get_credentials().get_frozen_credentials(), service, session.region_name).add_auth(request)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return opener.open(
        urllib.request.Request(request.url, data=request.body, headers=dict(request.headers), method=method)
    ).read()


def test_backup_tags_are_read_without_a_trailing_slash_too(emulator):
    # backup_api shim: the provider asks /tags/<arn>; moto read the tags of "tags".
    session = session_in(emulator, "100000000003", "eu-west-1")
    backup = client(emulator, session, "backup")
    arn = backup.create_backup_vault(BackupVaultName="shim-tags", BackupVaultTags={"Workspace": "staging"})[
        "BackupVaultArn"
    ]
    assert backup.list_tags(ResourceArn=arn)["Tags"] == {"Workspace": "staging"}  # boto3: /tags/<arn>/
    assert json.loads(signed_request(emulator, session, "backup", "GET", f"/tags/{arn}"))["Tags"] == {
        "Workspace": "staging"
    }


def test_an_object_lock_buckets_versioning_cannot_be_suspended(emulator):
    # s3_object_lock_versioning shim: AWS refuses; moto suspended it.
    s3 = client(emulator, session_in(emulator, "100000000002", "eu-west-1"), "s3")
    s3.create_bucket(
        Bucket="shim-object-lock",
        ObjectLockEnabledForBucket=True,
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    assert s3.get_bucket_versioning(Bucket="shim-object-lock")["Status"] == "Enabled"
    with pytest.raises(s3.exceptions.ClientError) as refused:
        s3.put_bucket_versioning(Bucket="shim-object-lock", VersioningConfiguration={"Status": "Suspended"})
    assert refused.value.response["Error"]["Code"] == "InvalidBucketState"
    assert s3.get_bucket_versioning(Bucket="shim-object-lock")["Status"] == "Enabled"


def _global_database(rds_primary, rds_secondary, name: str) -> tuple[str, str]:
    rds_primary.create_global_cluster(GlobalClusterIdentifier=name, Engine="aurora-mysql")
    writer = rds_primary.create_db_cluster(
        DBClusterIdentifier=f"{name}-a",
        Engine="aurora-mysql",
        MasterUsername="admin",
        MasterUserPassword="not-a-real-secret-1",
        GlobalClusterIdentifier=name,
    )["DBCluster"]["DBClusterArn"]
    reader = rds_secondary.create_db_cluster(
        DBClusterIdentifier=f"{name}-b", Engine="aurora-mysql", GlobalClusterIdentifier=name
    )["DBCluster"]["DBClusterArn"]
    return writer, reader


def _writers(rds, name: str) -> list[str]:
    (described,) = rds.describe_global_clusters(GlobalClusterIdentifier=name)["GlobalClusters"]
    return [m["DBClusterArn"] for m in described["GlobalClusterMembers"] if m["IsWriter"]]


def _wait_available(rds, name: str, timeout_s: float = 10) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        (described,) = rds.describe_global_clusters(GlobalClusterIdentifier=name)["GlobalClusters"]
        if described["Status"] == "available" or time.monotonic() > deadline:
            return described
        time.sleep(0.2)


def test_a_global_switchover_moves_the_writer_region_after_a_while_and_back(emulator):
    primary = client(emulator, session_in(emulator, "100000000004", "eu-west-1"), "rds")
    secondary = client(emulator, session_in(emulator, "100000000004", "eu-central-1"), "rds")
    writer, reader = _global_database(primary, secondary, "shim-switch")
    assert _writers(primary, "shim-switch") == [writer]

    moving = secondary.switchover_global_cluster(
        GlobalClusterIdentifier="shim-switch", TargetDbClusterIdentifier=reader
    )["GlobalCluster"]
    assert moving["Status"] == "switching-over"
    assert moving["FailoverState"] == {
        "Status": "pending",
        "FromDbClusterArn": writer,
        "ToDbClusterArn": reader,
        "IsDataLossAllowed": False,
    }
    assert _writers(primary, "shim-switch") == [writer]  # roles hold until the move completes
    with pytest.raises(primary.exceptions.ClientError, match="InvalidGlobalClusterStateFault"):
        primary.switchover_global_cluster(GlobalClusterIdentifier="shim-switch", TargetDbClusterIdentifier=reader)
    done = _wait_available(primary, "shim-switch")
    assert "FailoverState" not in done
    assert _writers(primary, "shim-switch") == [reader]  # the old writer is now a secondary

    with pytest.raises(primary.exceptions.ClientError, match="already the writer"):
        primary.switchover_global_cluster(GlobalClusterIdentifier="shim-switch", TargetDbClusterIdentifier=reader)
    primary.switchover_global_cluster(GlobalClusterIdentifier="shim-switch", TargetDbClusterIdentifier=writer)
    _wait_available(primary, "shim-switch")
    assert _writers(primary, "shim-switch") == [writer]


def test_a_global_failover_needs_allow_data_loss_and_refuses_strangers(emulator):
    primary = client(emulator, session_in(emulator, "100000000004", "eu-west-1"), "rds")
    secondary = client(emulator, session_in(emulator, "100000000004", "eu-central-1"), "rds")
    writer, reader = _global_database(primary, secondary, "shim-failover")
    with pytest.raises(primary.exceptions.ClientError, match="InvalidParameterCombination"):
        secondary.failover_global_cluster(GlobalClusterIdentifier="shim-failover", TargetDbClusterIdentifier=reader)
    with pytest.raises(primary.exceptions.ClientError, match="not a member"):
        secondary.failover_global_cluster(
            GlobalClusterIdentifier="shim-failover",
            AllowDataLoss=True,
            TargetDbClusterIdentifier="arn:aws:rds:eu-central-1:100000000004:cluster:someone-else",
        )
    with pytest.raises(primary.exceptions.ClientError, match="GlobalClusterNotFoundFault"):
        secondary.failover_global_cluster(
            GlobalClusterIdentifier="no-such-global", AllowDataLoss=True, TargetDbClusterIdentifier=reader
        )
    moving = secondary.failover_global_cluster(
        GlobalClusterIdentifier="shim-failover", AllowDataLoss=True, TargetDbClusterIdentifier=reader
    )["GlobalCluster"]
    assert (moving["Status"], moving["FailoverState"]["IsDataLossAllowed"]) == ("failing-over", True)
    _wait_available(primary, "shim-failover")
    assert _writers(primary, "shim-failover") == [reader]


def _trust(principal: dict) -> str:
    """A role trust policy admitting one principal."""
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _replication_role(iam, name: str, actions: list[str]) -> str:
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust({"Service": "s3.amazonaws.com"}))["Role"][
        "Arn"
    ]
    if actions:
        statement = {"Effect": "Allow", "Action": actions, "Resource": "*"}
        iam.put_role_policy(
            RoleName=name,
            PolicyName="replicate",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [statement]}),
        )
    return arn


REPLICATION_ACTIONS = ["s3:GetObjectVersionForReplication", "s3:ReplicateObject", "s3:ReplicateDelete", "kms:*"]


def _replicated_pair(
    s3_source, s3_replica, name: str, kms_key: str, *, role: str, rule: dict | None = None
) -> tuple[str, str]:
    source, replica = f"{name}-source", f"{name}-replica"
    s3_source.create_bucket(Bucket=source, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3_replica.create_bucket(Bucket=replica, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    for s3, bucket in ((s3_source, source), (s3_replica, replica)):
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3_source.put_bucket_replication(
        Bucket=source,
        ReplicationConfiguration={
            "Role": role,
            "Rules": [
                {
                    "ID": "to-dr",
                    "Status": "Enabled",
                    "Priority": 1,
                    "Filter": {"Prefix": ""},
                    "DeleteMarkerReplication": {"Status": "Enabled"},
                    "Destination": {
                        "Bucket": f"arn:aws:s3:::{replica}",
                        "EncryptionConfiguration": {"ReplicaKmsKeyID": kms_key},
                    },
                    **(rule or {}),
                }
            ],
        },
    )
    return source, replica


def _replication_control(emulator, body: dict | None = None) -> dict:
    import urllib.request

    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{emulator.endpoint}/_surgepress/s3-replication", data=data, method="POST" if data else "GET"
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=5) as response:
        return json.loads(response.read())


def _eventually(check, timeout_s: float = 10.0):
    deadline = time.monotonic() + timeout_s
    while not (result := check()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return result


def test_s3_replication_copies_versions_and_delete_markers_and_can_be_halted(emulator):
    session = session_in(emulator, "100000000004", "eu-west-1")
    s3_source = client(emulator, session, "s3")
    s3_replica = client(emulator, session_in(emulator, "100000000004", "eu-central-1"), "s3")
    key = client(emulator, session_in(emulator, "100000000004", "eu-central-1"), "kms").create_key()["KeyMetadata"]
    role = _replication_role(client(emulator, session, "iam"), "shim-crr", REPLICATION_ACTIONS)
    source, replica = _replicated_pair(s3_source, s3_replica, "shim-crr", key["Arn"], role=role)

    def present(name: str) -> bool:
        try:
            s3_replica.head_object(Bucket=replica, Key=name)
            return True
        except s3_replica.exceptions.ClientError:
            return False

    s3_source.put_object(Bucket=source, Key="marker-1", Body=b"one")
    assert not present("marker-1")  # asynchronous, as on AWS
    assert _eventually(lambda: present("marker-1"))
    copied = s3_replica.get_object(Bucket=replica, Key="marker-1")
    assert copied["Body"].read() == b"one" and copied["SSEKMSKeyId"] == key["Arn"]
    assert copied["ReplicationStatus"] == "REPLICA"
    assert s3_source.head_object(Bucket=source, Key="marker-1")["ReplicationStatus"] == "COMPLETED"

    assert _replication_control(emulator, {"halted": True})["halted"] is True
    s3_source.put_object(Bucket=source, Key="marker-2", Body=b"two")
    time.sleep(1.5)
    status = _replication_control(emulator)
    assert not present("marker-2") and status["pending"] >= 1
    _replication_control(emulator, {"halted": False})
    assert _eventually(lambda: present("marker-2"))

    s3_source.delete_object(Bucket=source, Key="marker-1")
    assert _eventually(lambda: not present("marker-1"))
    versions = s3_replica.list_object_versions(Bucket=replica, Prefix="marker-1")
    assert len(versions.get("DeleteMarkers", [])) == 1 and len(versions["Versions"]) == 1


def test_replication_fails_without_the_roles_permissions_and_copies_only_what_the_rule_selects(emulator):
    session = session_in(emulator, "100000000004", "eu-west-1")
    s3_source = client(emulator, session, "s3")
    s3_replica = client(emulator, session_in(emulator, "100000000004", "eu-central-1"), "s3")
    kms_replica = client(emulator, session_in(emulator, "100000000004", "eu-central-1"), "kms")
    replica_key = kms_replica.create_key()["KeyMetadata"]["Arn"]
    iam = client(emulator, session, "iam")

    def replicated(s3, bucket: str, name: str) -> bool:
        try:
            s3.head_object(Bucket=bucket, Key=name)
            return True
        except s3.exceptions.ClientError:
            return False

    # A role that may read versions but not write replicas (nor use the replica key): S3 marks FAILED.
    weak = _replication_role(iam, "shim-crr-weak", ["s3:GetObjectVersionForReplication"])
    source, replica = _replicated_pair(s3_source, s3_replica, "shim-crr-weak", replica_key, role=weak)
    s3_source.put_object(Bucket=source, Key="denied", Body=b"x")
    assert s3_source.head_object(Bucket=source, Key="denied")["ReplicationStatus"] == "PENDING"
    assert _eventually(lambda: s3_source.head_object(Bucket=source, Key="denied").get("ReplicationStatus") == "FAILED")
    assert not replicated(s3_replica, replica, "denied")

    # A tag filter: only the tagged object is replicated; an SSE-KMS object only if the rule opts in.
    able = _replication_role(iam, "shim-crr-tags", REPLICATION_ACTIONS)
    tagged_rule = {
        "Filter": {"And": {"Prefix": "news/", "Tags": [{"Key": "replicate", "Value": "yes"}]}},
        "DeleteMarkerReplication": {"Status": "Disabled"},  # S3 refuses it beside a tag filter
    }
    source, replica = _replicated_pair(s3_source, s3_replica, "shim-crr-tags", replica_key, role=able, rule=tagged_rule)
    source_key = client(emulator, session, "kms").create_key()["KeyMetadata"]["Arn"]
    s3_source.put_object(Bucket=source, Key="news/a", Body=b"a", Tagging="replicate=yes")
    s3_source.put_object(Bucket=source, Key="news/b", Body=b"b", Tagging="replicate=no")
    s3_source.put_object(Bucket=source, Key="sport/c", Body=b"c", Tagging="replicate=yes")
    s3_source.put_object(
        Bucket=source,
        Key="news/kms",
        Body=b"k",
        Tagging="replicate=yes",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=source_key,
    )
    assert _eventually(lambda: replicated(s3_replica, replica, "news/a"))
    time.sleep(1.5)
    assert [n for n in ("news/b", "sport/c", "news/kms") if replicated(s3_replica, replica, n)] == []
    assert "ReplicationStatus" not in s3_source.head_object(Bucket=source, Key="news/b")


def test_replication_rules_read_back_as_put(emulator):
    s3 = client(emulator, session_in(emulator, "100000000004", "eu-west-1"), "s3")
    s3.create_bucket(Bucket="shim-rules", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_versioning(Bucket="shim-rules", VersioningConfiguration={"Status": "Enabled"})
    rule = {
        "ID": "to-dr",
        "Status": "Enabled",
        "Priority": 1,
        "Filter": {"Prefix": ""},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": {
            "Bucket": "arn:aws:s3:::elsewhere",
            "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
        },
    }
    s3.put_bucket_replication(
        Bucket="shim-rules",
        ReplicationConfiguration={"Role": "arn:aws:iam::100000000004:role/replication", "Rules": [rule]},
    )
    (got,) = s3.get_bucket_replication(Bucket="shim-rules")["ReplicationConfiguration"]["Rules"]
    assert got["DeleteMarkerReplication"] == {"Status": "Enabled"}  # moto said Disabled
    assert got["SourceSelectionCriteria"] == rule["SourceSelectionCriteria"]  # moto dropped it
    assert got["Destination"]["ReplicationTime"] == rule["Destination"]["ReplicationTime"]


def test_alarm_health_checks_keep_their_alarm_and_have_no_endpoint_fields(emulator):
    route53 = client(emulator, session_in(emulator, "100000000004", "eu-west-1"), "route53")
    created = route53.create_health_check(
        CallerReference="shim-alarm",
        HealthCheckConfig={
            "Type": "CLOUDWATCH_METRIC",
            "AlarmIdentifier": {"Region": "eu-west-1", "Name": "origin-down"},
            "InsufficientDataHealthStatus": "LastKnownStatus",
        },
    )["HealthCheck"]
    config = route53.get_health_check(HealthCheckId=created["Id"])["HealthCheck"]["HealthCheckConfig"]
    assert config["AlarmIdentifier"] == {"Region": "eu-west-1", "Name": "origin-down"}
    assert config["InsufficientDataHealthStatus"] == "LastKnownStatus"
    assert {"Port", "RequestInterval", "FailureThreshold"} & set(config) == set()  # moto said 80, 30, 3


def _function_zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


def test_active_tracing_is_refused_without_x_ray_permissions_and_allowed_with_them(emulator):
    # lambda_tracing_role shim: AWS checks the execution role before it creates a traced function.
    session = session_in(emulator, "100000000003", "eu-west-1")
    iam, lam = client(emulator, session, "iam"), client(emulator, session, "lambda")
    trust = _trust({"Service": "lambda.amazonaws.com"})
    role = iam.create_role(RoleName="traced-probe", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    function = {
        "FunctionName": "traced-probe",
        "Runtime": "python3.12",
        "Role": role,
        "Handler": "handler.handler",
        "Code": {"ZipFile": _function_zip()},
        "TracingConfig": {"Mode": "Active"},
    }
    with pytest.raises(lam.exceptions.InvalidParameterValueException, match="PutTraceSegments on XRAY"):
        lam.create_function(**function)
    logs_only = {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}
    traces = {"Effect": "Allow", "Action": "xray:PutTrace*", "Resource": "*"}
    iam.put_role_policy(
        RoleName="traced-probe",
        PolicyName="half",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [logs_only, traces]}),
    )
    with pytest.raises(lam.exceptions.InvalidParameterValueException, match="PutTelemetryRecords on XRAY"):
        lam.create_function(**function)
    iam.attach_role_policy(RoleName="traced-probe", PolicyArn="arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess")
    assert lam.create_function(**function)["TracingConfig"] == {"Mode": "Active"}
    # Moving the traced function to a role without the grant is refused too.
    bare = iam.create_role(RoleName="traced-bare", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    with pytest.raises(lam.exceptions.InvalidParameterValueException, match="PutTraceSegments on XRAY"):
        lam.update_function_configuration(FunctionName="traced-probe", Role=bare)
    untraced = {**function, "FunctionName": "untraced-probe", "TracingConfig": {"Mode": "PassThrough"}}
    iam.detach_role_policy(RoleName="traced-probe", PolicyArn="arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess")
    lam.create_function(**untraced)  # no tracing: nothing to check
    with pytest.raises(lam.exceptions.InvalidParameterValueException, match="PutTelemetryRecords on XRAY"):
        lam.update_function_configuration(FunctionName="untraced-probe", TracingConfig={"Mode": "Active"})


def test_ecs_places_awsvpc_tasks_by_the_hosts_cpu_memory_and_enis(emulator):
    # ecs_placement shim: moto registers 4,096 CPU / 7,482 MiB on any host and counts no ENIs.
    session = session_in(emulator, "100000000003", "eu-west-1")
    ec2, ecs = client(emulator, session, "ec2"), client(emulator, session, "ecs")
    ecs.create_cluster(clusterName="shim-placement")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]

    def host(instance_type: str) -> str:
        instance = ec2.run_instances(ImageId=image, InstanceType=instance_type, MinCount=1, MaxCount=1)
        document = json.dumps({"instanceId": instance["Instances"][0]["InstanceId"]})
        return ecs.register_container_instance(cluster="shim-placement", instanceIdentityDocument=document)[
            "containerInstance"
        ]

    # c7i.xlarge: 4 vCPUs, 8,192 MiB less the agent's 256, 4 ENIs (one is the host's).
    registered = {r["name"]: r.get("integerValue") for r in host("c7i.xlarge")["registeredResources"]}
    assert (registered["CPU"], registered["MEMORY"]) == (4096, 7936)
    # Sized at the task level with an unsized container, as the platform's task definition is.
    container = {"name": "app", "image": "wordpress", "essential": True, "portMappings": [{"containerPort": 80}]}
    for family, mode in (("shim-awsvpc", "awsvpc"), ("shim-bridge", "bridge")):
        ecs.register_task_definition(
            family=family, networkMode=mode, cpu="512", memory="512", containerDefinitions=[container]
        )
    vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # as the platform's VPCs have it
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.99.1.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="shim-placement", Description="tasks", VpcId=vpc)["GroupId"]
    network = {"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group], "assignPublicIp": "DISABLED"}}
    awsvpc = ecs.run_task(
        cluster="shim-placement", taskDefinition="shim-awsvpc", count=5, launchType="EC2", networkConfiguration=network
    )
    # CPU and memory would fit 7 such tasks; the ENIs stop them at 3.
    assert len(awsvpc["tasks"]) == 3
    bridge = ecs.run_task(cluster="shim-placement", taskDefinition="shim-bridge", count=6, launchType="EC2")
    # Bridge tasks take no ENI: the CPU left (4,096 - 3 x 512) binds at 5 of the 6 asked for.
    assert len(bridge["tasks"]) == 5


def test_a_bucket_sending_events_to_eventbridge_says_so(emulator):
    # s3_eventbridge_notifications shim: moto keeps the setting but leaves it out of its answer.
    s3 = client(emulator, session_in(emulator, "100000000001", "eu-west-1"), "s3")
    s3.create_bucket(Bucket="shim-eventbridge", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert "EventBridgeConfiguration" not in s3.get_bucket_notification_configuration(Bucket="shim-eventbridge")
    s3.put_bucket_notification_configuration(
        Bucket="shim-eventbridge", NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    answer = s3.get_bucket_notification_configuration(Bucket="shim-eventbridge")
    assert answer["EventBridgeConfiguration"] == {}


def test_a_deny_that_exempts_one_role_lets_that_role_write_and_no_one_else(emulator):
    # policy_conditions shim: aws:PrincipalArn is the signing session's role, as IAM sets it.
    session = session_in(emulator, "100000000002", "eu-west-1")
    iam, s3 = client(emulator, session, "iam"), client(emulator, session, "s3")
    trust = _trust({"AWS": "arn:aws:iam::100000000002:root"})
    writer = iam.create_role(RoleName="shim-exempt-writer", AssumeRolePolicyDocument=trust)["Role"]
    s3.create_bucket(Bucket="shim-exempt", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::shim-exempt/*",
        "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [writer["Arn"]]}},
    }
    s3.put_bucket_policy(Bucket="shim-exempt", Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]}))
    exempt = client(emulator, session_in(emulator, "100000000002", "eu-west-1", role_name="shim-exempt-writer"), "s3")
    exempt.put_object(Bucket="shim-exempt", Key="AWSLogs/a.json", Body=b"{}")
    with pytest.raises(s3.exceptions.ClientError, match="403|AccessDenied"):
        s3.put_object(Bucket="shim-exempt", Key="AWSLogs/b.json", Body=b"{}")  # the deployer role: denied


def test_ecr_replication_copies_a_pushed_image_under_its_digest_into_each_destination(emulator):
    # ecr_replication shim: moto stores the configuration and replicates nothing.
    account = "100000000002"
    primary, replica = (
        client(emulator, session_in(emulator, account, r), "ecr") for r in ("eu-west-1", "eu-central-1")
    )
    for ecr in (primary, replica):
        ecr.create_repository(repositoryName="replicated/wordpress")
    primary.create_repository(repositoryName="kept-here/wordpress")
    primary.put_replication_configuration(
        replicationConfiguration={
            "rules": [
                {
                    "destinations": [{"region": "eu-central-1", "registryId": account}],
                    "repositoryFilters": [{"filter": "replicated", "filterType": "PREFIX_MATCH"}],
                }
            ]
        }
    )
    manifest = _manifest("a")
    pushed = {}
    for repository in ("replicated/wordpress", "kept-here/wordpress"):
        pushed[repository] = primary.put_image(repositoryName=repository, imageManifest=manifest, imageTag="v1")[
            "image"
        ]
    copy = replica.describe_images(repositoryName="replicated/wordpress")["imageDetails"]
    assert [(i["imageDigest"], i["imageTags"]) for i in copy] == [
        (pushed["replicated/wordpress"]["imageId"]["imageDigest"], ["v1"])
    ]
    # Outside the filter: no copy, and no repository made for it.
    assert "kept-here/wordpress" not in [r["repositoryName"] for r in replica.describe_repositories()["repositories"]]
    # A destination without the repository gets one, as AWS makes it.
    primary.put_replication_configuration(
        replicationConfiguration={"rules": [{"destinations": [{"region": "us-east-1", "registryId": account}]}]}
    )
    primary.put_image(
        repositoryName="kept-here/wordpress", imageManifest=manifest.replace("a" * 64, "b" * 64), imageTag="v2"
    )
    far = client(emulator, session_in(emulator, account, "us-east-1"), "ecr")
    assert [i["imageTags"] for i in far.describe_images(repositoryName="kept-here/wordpress")["imageDetails"]] == [
        ["v2"]
    ]


def _manifest(fill: str) -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 2,
                "digest": "sha256:" + fill * 64,
            },
            "layers": [],
        }
    )


def _pushed(ecr, repository: str, tag: str, *, scan_on_push: bool = True) -> None:
    ecr.create_repository(repositoryName=repository, imageScanningConfiguration={"scanOnPush": scan_on_push})
    ecr.put_image(repositoryName=repository, imageManifest=_manifest("c"), imageTag=tag)


def _execution_role(emulator, account: str, name: str) -> str:
    """An execution role as modules/compute makes it: ECS's managed task execution policy."""
    iam = client(emulator, session_in(emulator, account, "eu-west-1"), "iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.attach_role_policy(
        RoleName=name, PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    )
    return arn


def test_a_rollout_to_an_image_the_registry_lacks_fails_and_rolls_back_which_fails_the_deploy(emulator):
    # ecs_rollouts shim: moto keeps one IN_PROGRESS deployment forever, whatever is deployed.
    from modules.registry import repository_policy
    from surgepress.errors import GateFailed
    from surgepress.rollout import await_rollout

    registry, site = "100000000001", "100000000003"
    ecr = client(emulator, session_in(emulator, registry, "eu-west-1"), "ecr")
    _pushed(ecr, "rollouts/wordpress", "v1")
    role = _execution_role(emulator, site, "rollouts-execution")
    ecr.set_repository_policy(
        repositoryName="rollouts/wordpress",
        policyText=repository_policy((role,), (f"arn:aws:iam::{registry}:role/surgepress-deployer",)),
    )
    ecs = client(emulator, session_in(emulator, site, "eu-west-1"), "ecs")
    ecs.create_cluster(clusterName="rollouts")
    url = f"{registry}.dkr.ecr.eu-west-1.amazonaws.com/rollouts/wordpress"
    good, missing = (
        ecs.register_task_definition(
            family="rollouts",
            executionRoleArn=role,
            containerDefinitions=[{"name": "wordpress", "image": f"{url}:{tag}", "memory": 512}],
        )["taskDefinition"]["taskDefinitionArn"]
        for tag in ("v1", "never-pushed")
    )
    ecs.create_service(cluster="rollouts", serviceName="wordpress", taskDefinition=good, desiredCount=1)
    ended = await_rollout(ecs, "rollouts", "wordpress", good, timeout_s=5, pause_s=0.1)
    assert (ended.state, ended.running) == ("COMPLETED", good)

    ecs.update_service(cluster="rollouts", service="wordpress", taskDefinition=missing)
    (service,) = ecs.describe_services(cluster="rollouts", services=["wordpress"])["services"]
    assert service["taskDefinition"] == good, "the circuit breaker rolled the service back"
    states = {d["taskDefinition"]: (d["status"], d["rolloutState"]) for d in service["deployments"]}
    assert states == {good: ("PRIMARY", "COMPLETED"), missing: ("ACTIVE", "FAILED")}
    with pytest.raises(GateFailed) as failed:
        await_rollout(ecs, "rollouts", "wordpress", missing, timeout_s=5, pause_s=0.1)
    assert str(failed.value) == (
        f"wordpress: the rollout of {missing} FAILED: ECS deployment circuit breaker: tasks failed to start.; "
        f"the service runs {good}"
    )


@pytest.mark.parametrize(
    "case",
    ["role the repository policy does not name", "no execution role", "repository without a policy"],
)
def test_a_rollout_whose_execution_role_may_not_pull_the_image_fails(emulator, case):
    # ecs_rollouts shim: an image that is there is still refused to a role IAM does not let pull it
    # (across accounts the repository's policy and the role's own must both allow).
    from modules.registry import repository_policy

    registry, site = "100000000001", "100000000003"
    repo = f"refused-{case.split()[0]}-{case.split()[1]}/wordpress"
    ecr = client(emulator, session_in(emulator, registry, "eu-west-1"), "ecr")
    _pushed(ecr, repo, "v1")
    admitted = _execution_role(emulator, site, f"admitted-{len(case)}")
    other = _execution_role(emulator, site, f"other-{len(case)}")
    if case != "repository without a policy":
        ecr.set_repository_policy(repositoryName=repo, policyText=repository_policy((admitted,), ()))
    role = {"role the repository policy does not name": other, "no execution role": None}.get(case, admitted)
    ecs = client(emulator, session_in(emulator, site, "eu-west-1"), "ecs")
    ecs.create_cluster(clusterName="refused")
    definition = ecs.register_task_definition(
        family=f"refused-{len(case)}",
        **({"executionRoleArn": role} if role else {}),
        containerDefinitions=[
            {"name": "wordpress", "image": f"{registry}.dkr.ecr.eu-west-1.amazonaws.com/{repo}:v1", "memory": 512}
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    # Fargate: without an execution role there is no other role to pull with.
    ecs.create_service(
        cluster="refused", serviceName=f"wordpress-{len(case)}", taskDefinition=definition, launchType="FARGATE"
    )
    (service,) = ecs.describe_services(cluster="refused", services=[f"wordpress-{len(case)}"])["services"]
    assert [(d["rolloutState"], d["rolloutStateReason"]) for d in service["deployments"]] == [
        ("FAILED", "ECS deployment circuit breaker: tasks failed to start.")
    ]


def test_iam_joins_a_role_s_policies_with_a_resource_s_as_aws_does():
    # _iam.refusal, which the ecs_rollouts shim judges pulls by: within one account either may
    # allow (but a policy naming the account's root delegates to the role's own); across
    # accounts both must. Judged on moto in this process (boto3 under mock_aws).
    import boto3
    from moto import mock_aws

    from surgepress.emulator.shims._iam import refusal

    here, there = "123456789012", "222222222222"  # moto's default account, and another
    with mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        trust = json.dumps({"Version": "2012-10-17", "Statement": []})
        bare, pulling = (
            iam.create_role(RoleName=n, AssumeRolePolicyDocument=trust)["Role"]["Arn"] for n in ("bare", "pulling")
        )
        grant = {"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*"}
        iam.put_role_policy(
            RoleName="pulling",
            PolicyName="pull",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [grant]}),
        )
        repo_here, repo_there = (f"arn:aws:ecr:eu-west-1:{a}:repository/wordpress" for a in (here, there))

        def policy(principal, effect="Allow"):
            return json.dumps(
                {"Statement": [{"Effect": effect, "Principal": {"AWS": principal}, "Action": "ecr:BatchGetImage"}]}
            )

        act = "ecr:BatchGetImage"
        assert refusal(pulling, act, repo_here, None) is None, "one account: the role's own Allow suffices"
        assert refusal(bare, act, repo_here, policy(bare)) is None, "one account: a policy naming the role suffices"
        assert refusal(bare, act, repo_here, policy(f"arn:aws:iam::{here}:root")) == (
            f"neither {bare}'s policies nor {repo_here}'s policy allow it {act}"
        ), "naming the account delegates to the role's own policies, which allow nothing"
        assert refusal(pulling, act, repo_here, policy(pulling, "Deny")) == (
            f"an explicit Deny refuses {pulling} {act} on {repo_here}"
        )
        assert refusal(pulling, act, repo_there, None) == (
            f"{repo_there}'s policy does not allow {pulling} (another account) {act}"
        )
        assert (
            refusal(bare, act, repo_there, policy(here)) == f"{bare}'s policies do not allow it {act} on {repo_there}"
        )
        assert refusal(pulling, act, repo_there, policy(f"arn:aws:iam::{here}:root")) is None
        nobody = f"arn:aws:iam::{here}:role/nobody"
        assert refusal(nobody, act, repo_here, policy("*")) == f"there is no role {nobody}"


def test_scan_on_push_scans_and_the_gate_blocks_on_findings_at_or_above_its_severity(emulator):
    # ecr_scan_on_push shim: moto never scans a pushed image, so the scan is never found.
    import urllib.request

    from surgepress import image
    from surgepress.errors import GateFailed

    account = "100000000002"
    ecr = client(emulator, session_in(emulator, account, "eu-west-1"), "ecr")
    _pushed(ecr, "scanned/wordpress", "clean")
    assert image.scan_findings(ecr, "scanned/wordpress", "clean", timeout_s=5, pause_s=0.1) == {}

    found = {"findingSeverityCounts": {"HIGH": 2, "CRITICAL": 1}, "findings": []}
    result = {
        "repositoryName": "scanned/wordpress",
        "imageId": {"imageTag": "vulnerable"},
        "imageScanStatus": {"status": "COMPLETE", "description": "The scan was completed successfully."},
        "imageScanFindings": found,
    }
    body = json.dumps({"results": [result], "region": "eu-west-1", "account_id": account}).encode()
    request = urllib.request.Request(f"{emulator.endpoint}/moto-api/static/ecr/scan-finding-results", data=body)
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 201
    ecr.put_image(repositoryName="scanned/wordpress", imageManifest=_manifest("d"), imageTag="vulnerable")
    counts = image.scan_findings(ecr, "scanned/wordpress", "vulnerable", timeout_s=5, pause_s=0.1)
    assert counts == {"CRITICAL": 1, "HIGH": 2}
    assert image.blocking(counts, "CRITICAL") == {"CRITICAL": 1}
    assert image.blocking(counts, "HIGH") == {"CRITICAL": 1, "HIGH": 2}
    assert image.blocking({"MEDIUM": 4}, "HIGH") == {}

    # Without scan on push no scan ever starts: the gate gives up, naming how long it waited.
    _pushed(ecr, "unscanned/wordpress", "v1", scan_on_push=False)
    with pytest.raises(GateFailed, match=r"^unscanned/wordpress:v1: ECR's scan did not finish within 1s$"):
        image.scan_findings(ecr, "unscanned/wordpress", "v1", timeout_s=1, pause_s=0.2)

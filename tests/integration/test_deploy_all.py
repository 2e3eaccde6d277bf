"""Every workspace to the embedded AWS with real terraform: deploy, a clean second plan, and
outputs that match what AWS holds. (The deployment is shared with the data plane and load
tests; `test_teardown.py` destroys it last.)
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import client, session_in

pytestmark = pytest.mark.integration


def test_deploy_prints_every_workspaces_outputs(deployed, settings):
    for name in settings.names:
        assert f"\n{name} outputs (local):" in deployed.stdout
    assert f"deployed {len(settings.names)} workspace(s)" in deployed.stdout


def test_workspaces_deploy_in_dependency_order(deployed, settings):
    headers = [line.split()[3] for line in deployed.stdout.splitlines() if line.startswith("==> [")]
    assert headers == list(settings.names)


def test_second_plan_shows_no_changes_in_any_workspace(cli, deployed, settings):
    result = cli("plan", *settings.names)  # one synth for all five plans
    assert result.returncode == 0, f"drift:\n{result.stdout[-4000:]}"
    for name in settings.names:
        assert f"plan {name}: no changes" in result.stdout


def test_vpcs_exist_in_each_workspaces_own_account_and_region(emulator_info, outputs, settings):
    for name in ("staging", "production", "dr"):
        ws = settings.get(name)
        ec2 = client(emulator_info, session_in(emulator_info, ws.account_id, ws.region), "ec2")
        vpc = ec2.describe_vpcs(VpcIds=[outputs[name]["vpc_id"]])["Vpcs"][0]
        assert vpc["CidrBlock"] == ws.network.cidr
        assert vpc["OwnerId"] == ws.account_id
        subnets = ec2.describe_subnets(SubnetIds=outputs[name]["app_subnet_ids"])["Subnets"]
        assert sorted(s["AvailabilityZone"] for s in subnets) == list(ws.network.availability_zones)
        flow_logs = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [vpc["VpcId"]]}])["FlowLogs"]
        assert [f["TrafficType"] for f in flow_logs] == ["ALL"]


def test_nat_gateways_match_each_environments_setting(emulator_info, outputs, settings):
    for name in ("staging", "production"):
        ws = settings.get(name)
        expected = ws.network.az_count if ws.network.nat_gateways == "per_az" else 1
        assert len(outputs[name]["nat_gateway_public_ips"]) == expected
        ec2 = client(emulator_info, session_in(emulator_info, ws.account_id, ws.region), "ec2")
        gateways = ec2.describe_nat_gateways(
            Filters=[{"Name": "vpc-id", "Values": [outputs[name]["vpc_id"]]}])["NatGateways"]
        assert len([g for g in gateways if g["State"] == "available"]) == expected


def test_flow_log_group_is_encrypted_with_retention(emulator_info, outputs, settings):
    ws = settings.get("production")
    logs = client(emulator_info, session_in(emulator_info, ws.account_id, ws.region), "logs")
    group = logs.describe_log_groups(logGroupNamePrefix=outputs["production"]["flow_log_group_name"])["logGroups"][0]
    assert group["retentionInDays"] == ws.network.flow_log_retention_days
    assert ":kms:eu-west-1:100000000004:key/" in group["kmsKeyId"]


@pytest.mark.parametrize("workspace", ["staging", "production"])
def test_secrets_are_generated_into_ssm_and_nowhere_else(build, emulator_info, outputs, settings, workspace):
    ws = settings.get(workspace)
    ssm = client(emulator_info, session_in(emulator_info, ws.account_id, ws.region), "ssm")
    names = outputs[workspace]["secret_parameter_names"]
    values = {}
    for key, name in names.items():
        param = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        assert param["Type"] == "SecureString"
        assert len(param["Value"]) >= 40 and param["Value"].isalnum(), key
        values[key] = param["Value"]
    assert len(set(values.values())) == len(values), "every secret is generated independently"
    synthesized = (build / "synth" / "local" / "stacks" / workspace / "cdk.tf.json").read_text()
    assert not [key for key, value in values.items() if value in synthesized], "a secret leaked into cdk.tf.json"
    # The Redis token and the origin secret have no write-only argument to go to: they are
    # read into the (encrypted, access-controlled) state. No other secret may be there.
    state = (build / "state" / "local" / f"{workspace}.tfstate").read_text()
    assert sorted(key for key, value in values.items() if value in state) == ["origin_secret", "redis_auth_token"]


@pytest.mark.parametrize("workspace", ["staging", "production"])
def test_buckets_are_private_versioned_encrypted_and_tls_only(emulator_info, outputs, settings, workspace):
    ws = settings.get(workspace)
    s3 = client(emulator_info, session_in(emulator_info, ws.account_id, ws.region), "s3")
    for purpose, algorithm in (("media", "aws:kms"), ("misc", "aws:kms"), ("logs", "AES256")):
        name = outputs[workspace][f"{purpose}_bucket_name"]
        assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
        block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        assert all(block.values()) and len(block) == 4
        rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == algorithm, name
        policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
        deny = next(st for st in policy["Statement"] if st["Effect"] == "Deny")
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        if purpose != "logs":
            logging = s3.get_bucket_logging(Bucket=name)["LoggingEnabled"]
            assert logging["TargetBucket"] == outputs[workspace]["logs_bucket_name"]


@pytest.mark.parametrize("workspace", ["staging", "production"])
def test_aurora_cluster_is_encrypted_spread_and_protected_as_configured(emulator_info, outputs, settings, workspace):
    ws = settings.get(workspace)
    rds = client(emulator_info, session_in(emulator_info, ws.account_id, ws.region), "rds")
    cluster = rds.describe_db_clusters(DBClusterIdentifier=outputs[workspace]["cluster_identifier"])["DBClusters"][0]
    assert cluster["Endpoint"] == outputs[workspace]["cluster_endpoint"]
    assert cluster["StorageEncrypted"] is True and ":kms:" in cluster["KmsKeyId"]
    assert cluster["DeletionProtection"] is ws.database.enable_deletion_protection
    assert cluster["BackupRetentionPeriod"] == ws.database.backup_retention_days
    assert sorted(cluster["EnabledCloudwatchLogsExports"]) == ["audit", "error", "slowquery"]
    instances = rds.describe_db_instances(
        Filters=[{"Name": "db-cluster-id", "Values": [cluster["DBClusterIdentifier"]]}])["DBInstances"]
    assert len(instances) == 1 + ws.database.reader_count
    assert len({i["AvailabilityZone"] for i in instances}) == len(instances), "one instance per AZ"
    assert all(i["PubliclyAccessible"] is False and i["PerformanceInsightsEnabled"] for i in instances)


@pytest.mark.parametrize("workspace", ["staging", "production"])
def test_redis_fails_over_across_azs_encrypted_both_ways(emulator_info, outputs, settings, workspace):
    ws = settings.get(workspace)
    cache = client(emulator_info, session_in(emulator_info, ws.account_id, ws.region), "elasticache")
    (group,) = cache.describe_replication_groups(ReplicationGroupId=f"surgepress-{workspace}")["ReplicationGroups"]
    assert group["NodeGroups"][0]["PrimaryEndpoint"]["Address"] == outputs[workspace]["cache_primary_endpoint_address"]
    assert group["AutomaticFailover"] == "enabled" and group["MultiAZ"] == "enabled"
    assert group["AtRestEncryptionEnabled"] and group["TransitEncryptionEnabled"] and group["AuthTokenEnabled"]
    assert len(group["MemberClusters"]) == ws.cache.node_count
    zones = {cache.describe_cache_clusters(CacheClusterId=m)["CacheClusters"][0]["PreferredAvailabilityZone"]
             for m in group["MemberClusters"]}
    assert len(zones) == min(ws.cache.node_count, ws.network.az_count)


@pytest.mark.parametrize("workspace", ["staging", "production"])
def test_wordpress_runs_behind_an_https_alb_that_only_cloudfront_can_use(emulator_info, outputs, settings, workspace):
    ws = settings.get(workspace)
    session = session_in(emulator_info, ws.account_id, ws.region)
    elb, ecs = client(emulator_info, session, "elbv2"), client(emulator_info, session, "ecs")
    (alb,) = [lb for lb in elb.describe_load_balancers()["LoadBalancers"] if lb["DNSName"] == outputs[workspace][
        "alb_dns_name"]]
    attributes = {a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(
        LoadBalancerArn=alb["LoadBalancerArn"])["Attributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["deletion_protection.enabled"] == str(ws.compute.enable_deletion_protection).lower()
    listeners = {l["Port"]: l for l in elb.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]}
    assert listeners[443]["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert listeners[443]["DefaultActions"][0]["FixedResponseConfig"]["StatusCode"] == "403"
    assert listeners[80]["DefaultActions"][0]["RedirectConfig"]["Protocol"] == "HTTPS"
    (service,) = ecs.describe_services(cluster=outputs[workspace]["cluster_name"],
                                       services=[outputs[workspace]["service_name"]])["services"]
    assert service["deploymentConfiguration"]["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"
    scaling = client(emulator_info, session, "application-autoscaling")
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (ws.compute.min_tasks, ws.compute.max_tasks)


@pytest.mark.parametrize("workspace", ["staging", "production"])
def test_cloudfront_serves_the_site_with_modern_tls(emulator_info, outputs, settings, workspace):
    ws = settings.get(workspace)
    cloudfront = client(emulator_info, session_in(emulator_info, ws.account_id, "us-east-1"), "cloudfront")
    distribution = cloudfront.get_distribution(Id=outputs[workspace]["distribution_id"])["Distribution"]
    config = distribution["DistributionConfig"]
    assert distribution["Status"] == "Deployed"
    assert config["Aliases"]["Items"] == [outputs[workspace]["site_url"].removeprefix("https://")]
    assert config["ViewerCertificate"]["MinimumProtocolVersion"] == "TLSv1.2_2021"
    assert bool(config["WebACLId"]) is ws.cdn.enable_waf
    patterns = [b["PathPattern"] for b in config["CacheBehaviors"]["Items"]]
    assert patterns[:2] == ["wp-admin/*", "wp-login.php"]

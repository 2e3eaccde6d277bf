"""What `verify` checks through AWS APIs, per deployed site workspace.

Every check reads names from the workspace's Terraform outputs and facts from the APIs (the
emulator's on the local target, AWS's on aws), compares them with the workspace's settings,
and returns one line of what it saw, or raises CheckFailed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from surgepress.aws import WorkspaceClients
from surgepress.config import Workspace
from surgepress.dataplane.discover import CLOUDFRONT_REGION, parameter_name
from surgepress.harness.http_checks import CheckFailed

ORIGIN_HEADER = "X-Origin-Verify"
LB_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
VIEWER_TLS_POLICY = "TLSv1.2_2021"
HEALTHY_THRESHOLD, UNHEALTHY_THRESHOLD = 2, 2

Outputs = Mapping[str, Any]
Check = Callable[[WorkspaceClients, Outputs, Workspace], str]


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def _load_balancer(clients: WorkspaceClients, outputs: Outputs) -> dict:
    elb = clients.get("elbv2")
    matches = [lb for lb in elb.describe_load_balancers()["LoadBalancers"] if lb["DNSName"] == outputs["alb_dns_name"]]
    expect(len(matches) == 1, f"no load balancer named {outputs['alb_dns_name']}")
    return matches[0]


def alb_listeners(clients: WorkspaceClients, outputs: Outputs, ws: Workspace) -> str:
    elb = clients.get("elbv2")
    alb = _load_balancer(clients, outputs)
    listeners = {
        listener["Port"]: listener
        for listener in elb.describe_listeners(LoadBalancerArn=alb["LoadBalancerArn"])["Listeners"]
    }
    expect(set(listeners) == {80, 443}, f"listeners on ports {sorted(listeners)}, expected 80 and 443")
    https, http = listeners[443], listeners[80]
    expect(https["SslPolicy"] == LB_TLS_POLICY, f"443 uses {https['SslPolicy']}, expected {LB_TLS_POLICY}")
    expect(bool(https.get("Certificates")), "443 has no certificate")
    redirect = http["DefaultActions"][0]
    expect(
        redirect["Type"] == "redirect"
        and redirect["RedirectConfig"]["Protocol"] == "HTTPS"
        and redirect["RedirectConfig"]["StatusCode"] == "HTTP_301",
        f"80 does {redirect}, expected a 301 to HTTPS",
    )
    default = https["DefaultActions"][0]
    expect(
        default["Type"] == "fixed-response" and default["FixedResponseConfig"]["StatusCode"] == "403",
        f"443's default action is {default['Type']}, expected a fixed 403",
    )
    rules = [r for r in elb.describe_rules(ListenerArn=https["ListenerArn"])["Rules"] if not r["IsDefault"]]
    guarded = [
        r
        for r in rules
        if any(
            c["Field"] == "http-header" and c["HttpHeaderConfig"]["HttpHeaderName"] == ORIGIN_HEADER
            for c in r["Conditions"]
        )
    ]
    expect(
        len(guarded) == len(rules) == 1,
        f"expected one forward rule on {ORIGIN_HEADER}, found {len(rules)} rule(s), {len(guarded)} on the header",
    )
    certificate = https["Certificates"][0]["CertificateArn"].rsplit("/", 1)[-1]
    return f"443 {LB_TLS_POLICY} (certificate {certificate}), 80 -> 301 HTTPS, 403 unless {ORIGIN_HEADER}"


def target_group_health(clients: WorkspaceClients, outputs: Outputs, ws: Workspace) -> str:
    elb = clients.get("elbv2")
    alb = _load_balancer(clients, outputs)
    (group,) = elb.describe_target_groups(LoadBalancerArn=alb["LoadBalancerArn"])["TargetGroups"]
    expect(
        group["HealthCheckPath"] == ws.compute.health_check_path,
        f"health check path {group['HealthCheckPath']}, config says {ws.compute.health_check_path}",
    )
    thresholds = (group["HealthyThresholdCount"], group["UnhealthyThresholdCount"])
    expect(
        thresholds == (HEALTHY_THRESHOLD, UNHEALTHY_THRESHOLD),
        f"thresholds healthy/unhealthy {thresholds}, expected {(HEALTHY_THRESHOLD, UNHEALTHY_THRESHOLD)}",
    )
    expect(group["Matcher"]["HttpCode"] == "200", f"matcher {group['Matcher']}")
    return (
        f"{group['HealthCheckPath']} every {group['HealthCheckIntervalSeconds']}s, "
        f"healthy {thresholds[0]}, unhealthy {thresholds[1]}, matcher 200"
    )


def ecs_service(clients: WorkspaceClients, outputs: Outputs, ws: Workspace) -> str:
    ecs = clients.get("ecs")
    (service,) = ecs.describe_services(cluster=outputs["cluster_name"], services=[outputs["service_name"]])["services"]
    expect(service["status"] == "ACTIVE", f"service is {service['status']}")
    breaker = service["deploymentConfiguration"].get("deploymentCircuitBreaker")
    expect(breaker == {"enable": True, "rollback": True}, f"circuit breaker {breaker}")
    providers = sorted(s["capacityProvider"] for s in service.get("capacityProviderStrategy", []))
    expected = {
        "ec2": lambda p: len(p) == 1 and p[0].endswith("-ec2"),
        "fargate": lambda p: p == ["FARGATE"],
        "fargate_spot": lambda p: p == ["FARGATE", "FARGATE_SPOT"],
    }[ws.compute.capacity]
    expect(expected(providers), f"capacity providers {providers} for capacity {ws.compute.capacity}")
    scaling = clients.get("application-autoscaling")
    resource = f"service/{outputs['cluster_name']}/{outputs['service_name']}"
    (target,) = scaling.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource])["ScalableTargets"]
    expect(
        (target["MinCapacity"], target["MaxCapacity"]) == (ws.compute.min_tasks, ws.compute.max_tasks),
        f"scalable target {target['MinCapacity']}..{target['MaxCapacity']}",
    )
    policies = scaling.describe_scaling_policies(ServiceNamespace="ecs", ResourceId=resource)["ScalingPolicies"]
    kinds = sorted(p["PolicyType"] for p in policies)
    expect(
        kinds == ["StepScaling", "TargetTrackingScaling", "TargetTrackingScaling"],
        f"scaling policies {kinds}, expected two target-tracking and one step (surge)",
    )
    return (
        f"ACTIVE on {', '.join(providers)}, circuit breaker with rollback, {ws.compute.min_tasks}.."
        f"{ws.compute.max_tasks} tasks, {len(policies)} scaling policies"
    )


def task_secrets_resolve(clients: WorkspaceClients, outputs: Outputs, ws: Workspace) -> str:
    ecs, ssm = clients.get("ecs"), clients.get("ssm")
    (service,) = ecs.describe_services(cluster=outputs["cluster_name"], services=[outputs["service_name"]])["services"]
    definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    references = [s["valueFrom"] for c in definition["containerDefinitions"] for s in c.get("secrets", [])]
    expect(bool(references), "the task definition has no secrets")
    names = sorted({parameter_name(r) for r in references})
    found = set()
    for start in range(0, len(names), 10):
        found |= {p["Name"] for p in ssm.get_parameters(Names=names[start : start + 10])["Parameters"]}
    missing = [n for n in names if n not in found]
    expect(not missing, f"secrets without a parameter: {', '.join(missing)}")
    return f"{len(references)} secrets, each an existing SSM parameter"


def aurora(clients: WorkspaceClients, outputs: Outputs, ws: Workspace) -> str:
    rds = clients.get("rds")
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier=outputs["cluster_identifier"])["DBClusters"]
    expect(cluster["Endpoint"] == outputs["cluster_endpoint"], f"writer endpoint {cluster['Endpoint']}")
    expect(cluster["ReaderEndpoint"] == outputs["cluster_reader_endpoint"], f"reader {cluster['ReaderEndpoint']}")
    expect(cluster["StorageEncrypted"] and ":kms:" in cluster.get("KmsKeyId", ""), "storage not encrypted with KMS")
    expect(
        cluster["DeletionProtection"] is ws.database.enable_deletion_protection,
        f"deletion protection {cluster['DeletionProtection']}, config {ws.database.enable_deletion_protection}",
    )
    instances = rds.describe_db_instances(
        Filters=[{"Name": "db-cluster-id", "Values": [cluster["DBClusterIdentifier"]]}]
    )["DBInstances"]
    zones = {i["AvailabilityZone"] for i in instances}
    expect(len(instances) == 1 + ws.database.reader_count, f"{len(instances)} instances")
    expect(len(zones) == len(instances), f"{len(instances)} instances in {len(zones)} AZs")
    return (
        f"writer + {ws.database.reader_count} reader(s) over {len(zones)} AZs, KMS-encrypted, "
        f"deletion protection {'on' if cluster['DeletionProtection'] else 'off'}"
    )


def redis(clients: WorkspaceClients, outputs: Outputs, ws: Workspace) -> str:
    cache = clients.get("elasticache")
    groups = [
        g
        for g in cache.describe_replication_groups()["ReplicationGroups"]
        if g["NodeGroups"][0]["PrimaryEndpoint"]["Address"] == outputs["cache_primary_endpoint_address"]
    ]
    expect(len(groups) == 1, f"no replication group at {outputs['cache_primary_endpoint_address']}")
    group = groups[0]
    expect(
        group["TransitEncryptionEnabled"] and group["AtRestEncryptionEnabled"], "not encrypted in transit and at rest"
    )
    expect(group["AuthTokenEnabled"], "no AUTH token")
    expect(
        group["AutomaticFailover"] == "enabled" and group["MultiAZ"] == "enabled",
        f"failover {group['AutomaticFailover']}, multi-AZ {group['MultiAZ']}",
    )
    return f"{group['ReplicationGroupId']}: TLS, AUTH, automatic failover, {len(group['MemberClusters'])} nodes"


def s3_buckets(clients: WorkspaceClients, outputs: Outputs, ws: Workspace) -> str:
    s3 = clients.get("s3")
    seen = []
    for purpose in ("media", "misc", "logs"):
        name = outputs[f"{purpose}_bucket_name"]
        rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
        algorithm = rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
        expect(algorithm in ("aws:kms", "AES256"), f"{name}: encryption {algorithm}")
        expect(s3.get_bucket_versioning(Bucket=name).get("Status") == "Enabled", f"{name}: versioning off")
        block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        expect(len(block) == 4 and all(block.values()), f"{name}: public access block {block}")
        policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
        tls_only = [
            st
            for st in policy["Statement"]
            if st["Effect"] == "Deny" and st.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        expect(bool(tls_only), f"{name}: no TLS-only statement")
        seen.append(f"{purpose} {algorithm}")
    return f"{', '.join(seen)}; versioned, public access blocked, TLS only"


def _items(block: dict | None, key: str) -> list:
    return ((block or {}).get(key) or {}).get("Items") or []


def cloudfront(clients: WorkspaceClients, outputs: Outputs, ws: Workspace) -> str:
    client = clients.get("cloudfront", CLOUDFRONT_REGION)
    config = client.get_distribution(Id=outputs["distribution_id"])["Distribution"]["DistributionConfig"]
    origins = config["Origins"]["Items"]
    custom = [o for o in origins if o.get("CustomOriginConfig")]
    s3 = [o for o in origins if o.get("S3OriginConfig") is not None or o.get("OriginAccessControlId")]
    expect(
        len(custom) == 1 and custom[0]["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only",
        "expected one HTTPS-only load balancer origin",
    )
    expect(
        any(h["HeaderName"] == ORIGIN_HEADER for h in custom[0]["CustomHeaders"].get("Items", [])),
        f"the load balancer origin does not send {ORIGIN_HEADER}",
    )
    groups = {g["Id"]: {m["OriginId"] for m in g["Members"]["Items"]} for g in _items(config, "OriginGroups")}
    expect(
        bool(s3) and all(o.get("OriginAccessControlId") for o in s3), "every S3 origin through origin access control"
    )
    # One media bucket, plus its DR replica behind an origin group on a site in two regions.
    expect(
        len(s3) == 1 + len(groups) and all(members == {o["Id"] for o in s3} for members in groups.values()),
        f"expected one S3 origin (and its replica in an origin group); found {len(s3)} and {len(groups)} group(s)",
    )
    patterns = [b["PathPattern"] for b in config["CacheBehaviors"].get("Items", [])]
    expect(patterns[:2] == ["wp-admin/*", "wp-login.php"], f"first behaviours {patterns[:2]}")
    policies = {
        b["ViewerProtocolPolicy"] for b in [*config["CacheBehaviors"].get("Items", []), config["DefaultCacheBehavior"]]
    }
    expect(policies == {"redirect-to-https"}, f"viewer protocol policies {sorted(policies)}")
    expect(
        config["ViewerCertificate"]["MinimumProtocolVersion"] == VIEWER_TLS_POLICY,
        f"viewer TLS {config['ViewerCertificate']['MinimumProtocolVersion']}",
    )
    failover = f", uploads fail over to the replica ({len(groups)} origin group)" if groups else ""
    return (
        f"{len(origins)} origins (ALB https-only, S3 via OAC{failover}), {len(patterns)} behaviours + default, "
        f"{VIEWER_TLS_POLICY}"
    )


def route53_records(clients: WorkspaceClients, outputs: Outputs, ws: Workspace) -> str:
    route53 = clients.get("route53")
    records = route53.list_resource_record_sets(HostedZoneId=outputs["zone_id"])["ResourceRecordSets"]
    # A site in two regions has a failover record per region: this region's is the one to check.
    mine = [
        r
        for r in records
        if r["Type"] == "A" and r.get("AliasTarget") and r.get("SetIdentifier", ws.region) == ws.region
    ]
    aliases = {r["Name"].rstrip("."): r["AliasTarget"]["DNSName"].rstrip(".").lower() for r in mine}
    roles = {r["Name"].rstrip("."): r["Failover"] for r in mine if r.get("Failover")}
    site = f"{ws.dns.site_host}.{ws.dns.zone_name}"
    origin = f"{ws.dns.origin_host}.{ws.dns.zone_name}"
    expect(aliases.get(site) == outputs["distribution_domain_name"].lower(), f"{site} -> {aliases.get(site)}")
    expect(aliases.get(origin, "").endswith(outputs["alb_dns_name"].lower()), f"{origin} -> {aliases.get(origin)}")
    kind = f"failover {roles[origin]} for {ws.region}" if origin in roles else "alias A records"
    return f"{site} -> CloudFront, {origin} -> ALB ({kind})"


def alarms_to_topic(clients: WorkspaceClients, outputs: Outputs, ws: Workspace) -> str:
    cloudwatch, sns = clients.get("cloudwatch"), clients.get("sns")
    topic = outputs["alarm_topic_arn"]
    sns.get_topic_attributes(TopicArn=topic)  # raises if the topic does not exist
    alarms = [a for page in cloudwatch.get_paginator("describe_alarms").paginate() for a in page["MetricAlarms"]]
    mine = [a for a in alarms if topic in a.get("AlarmActions", [])]
    expect(len(mine) >= 5, f"{len(mine)} alarms notify {topic}")
    return f"{len(mine)} alarms notify {topic.rsplit(':', 1)[-1]}"


SITE_CHECKS: dict[str, Check] = {
    "alb_listeners": alb_listeners,
    "target_group_health": target_group_health,
    "ecs_service": ecs_service,
    "task_secrets_resolve": task_secrets_resolve,
    "aurora": aurora,
    "redis": redis,
    "s3_buckets": s3_buckets,
    "cloudfront": cloudfront,
    "route53_records": route53_records,
    "alarms_to_topic": alarms_to_topic,
}

"""What the data plane runs, read from what was deployed: Terraform outputs name the
resources, AWS APIs (the emulator's, on the local target) describe them.

Nothing here is a constant of the platform: the database name and user come from the
cluster, its TLS requirement from its parameter group, the application's settings from the
ECS task definition (its secrets resolved from SSM), the load balancer from its listeners,
rules and target group, the edge from the distribution and its policies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from surgepress.aws import WorkspaceClients

CLOUDFRONT_REGION = "us-east-1"
# What the official WordPress image needs before it can start (its entrypoint's contract).
WORDPRESS_REQUIRED_ENV = ("WORDPRESS_DB_HOST", "WORDPRESS_DB_USER", "WORDPRESS_DB_PASSWORD", "WORDPRESS_DB_NAME")
WORDPRESS_KEYS = tuple(
    f"WORDPRESS_{k}_{s}" for k in ("AUTH", "SECURE_AUTH", "LOGGED_IN", "NONCE") for s in ("KEY", "SALT")
)


class DiscoveryError(Exception):
    """The deployment lacks something the data plane needs; the message says what."""


@dataclass(frozen=True)
class Database:
    identifier: str
    name: str
    user: str
    password: str = field(repr=False)
    endpoint: str
    reader_endpoint: str
    port: int
    require_tls: bool
    charset: str


@dataclass(frozen=True)
class Cache:
    group_id: str
    primary_endpoint: str
    reader_endpoint: str
    port: int
    auth_token: str = field(repr=False)
    tls: bool


@dataclass(frozen=True)
class Task:
    family: str
    container: str
    container_port: int
    environment: Mapping[str, str]
    secrets: Mapping[str, str] = field(repr=False)  # env name -> resolved value
    read_only_root: bool
    cpu_units: int


@dataclass(frozen=True)
class Route:
    """An HTTPS listener rule: forward when every header condition matches."""

    priority: int
    headers: Mapping[str, tuple[str, ...]] = field(repr=False)  # lower-case name -> accepted values
    target_port: int


@dataclass(frozen=True)
class LoadBalancer:
    dns_name: str
    redirect_status: int  # the HTTP listener's redirect to HTTPS
    https_port: int
    ssl_policy: str
    routes: tuple[Route, ...]
    default_status: int
    default_body: str
    health_path: str
    health_matcher: str
    health_interval_s: int
    certificate_names: tuple[str, ...] = ()  # the HTTPS listener certificate's names


@dataclass(frozen=True)
class Behaviour:
    pattern: str | None  # None: the default behaviour
    origin: str  # "lb" or "s3"
    viewer_protocol_policy: str
    allowed_methods: tuple[str, ...]
    compress: bool
    min_ttl: int
    default_ttl: int
    max_ttl: int
    key_query_strings: str  # none | all | whitelist | allExcept
    key_cookies: str
    key_cookie_names: tuple[str, ...]
    forward_cookies: str  # what reaches the origin: none | all | whitelist
    forward_query_strings: str
    forward_headers: tuple[str, ...]


@dataclass(frozen=True)
class Edge:
    distribution_id: str
    domain_name: str
    aliases: tuple[str, ...]
    minimum_protocol_version: str
    origin_domain: str
    origin_headers: Mapping[str, str] = field(repr=False)
    media_bucket: str
    behaviours: tuple[Behaviour, ...]
    error_caching: Mapping[int, int]
    response_headers: Mapping[str, str]


@dataclass(frozen=True)
class Deployment:
    workspace: str
    region: str
    database: Database
    cache: Cache
    task: Task
    load_balancer: LoadBalancer
    edge: Edge | None  # a replica has none: its source's distribution serves it
    site_domain: str


def _output(outputs: Mapping[str, Any], workspace: str, name: str) -> Any:
    try:
        return outputs[name]["value"]
    except KeyError:
        raise DiscoveryError(f"{workspace}: output {name!r} is missing; is the workspace deployed?") from None


def parameter_name(reference: str) -> str:
    """An SSM parameter's name from a `valueFrom` (a name or `arn:…:parameter/<name>`)."""
    if reference.startswith("arn:"):
        return "/" + reference.split(":parameter/", 1)[1]
    return reference


def ssm_values(clients: WorkspaceClients, names: list[str]) -> dict[str, str]:
    ssm = clients.get("ssm")
    values = {}
    for start in range(0, len(names), 10):  # GetParameters takes ten at a time
        answer = ssm.get_parameters(Names=names[start : start + 10], WithDecryption=True)
        values.update({p["Name"]: p["Value"] for p in answer["Parameters"]})
    missing = [n for n in names if n not in values]
    if missing:
        raise DiscoveryError(f"{clients.workspace.name}: SSM parameter(s) not found: {', '.join(missing)}")
    return values


def discover(clients: WorkspaceClients, outputs: Mapping[str, Any]) -> Deployment:
    ws = clients.workspace.name
    out = lambda name: _output(outputs, ws, name)  # noqa: E731
    secret_names = out("secret_parameter_names")
    task = _task(clients, out("cluster_name"), out("service_name"))
    edge = _edge(clients, out("distribution_id"), out("media_bucket_name")) if "distribution_id" in outputs else None
    home = task.environment.get("WP_HOME", "")
    site_domain = edge.aliases[0] if edge else home.split("://", 1)[-1].split("/", 1)[0]
    if not site_domain:
        raise DiscoveryError(f"{ws}: neither a distribution nor WP_HOME in task {task.family} names the site")
    return Deployment(
        workspace=ws,
        region=clients.workspace.region,
        database=_database(clients, out("cluster_identifier"), secret_names["db_master_password"], task),
        cache=_cache(clients, out("cache_primary_endpoint_address"), secret_names["redis_auth_token"]),
        task=task,
        load_balancer=_load_balancer(clients, out("alb_dns_name")),
        edge=edge,
        site_domain=site_domain,
    )


@dataclass(frozen=True)
class FailoverRecord:
    set_identifier: str
    role: str  # PRIMARY | SECONDARY
    target: str  # the aliased load balancer's DNS name
    health_check_id: str | None


def failover_records(clients: WorkspaceClients, name: str) -> list[FailoverRecord]:
    """The failover alias records of `name` in the account's public zone for it, PRIMARY first."""
    route53 = clients.get("route53")
    fqdn = name.rstrip(".") + "."
    zones = [
        z
        for z in route53.list_hosted_zones()["HostedZones"]
        if not z.get("Config", {}).get("PrivateZone") and fqdn.endswith("." + z["Name"])
    ]
    if not zones:
        return []
    zone = max(zones, key=lambda z: len(z["Name"]))
    answer = route53.list_resource_record_sets(HostedZoneId=zone["Id"], StartRecordName=fqdn, StartRecordType="A")
    records = [
        FailoverRecord(
            set_identifier=r.get("SetIdentifier", ""),
            role=r["Failover"],
            target=r["AliasTarget"]["DNSName"],
            health_check_id=r.get("HealthCheckId"),
        )
        for r in answer["ResourceRecordSets"]
        if r["Name"] == fqdn and r["Type"] == "A" and r.get("Failover") and r.get("AliasTarget")
    ]
    return sorted(records, key=lambda r: r.role != "PRIMARY")


def _database(clients: WorkspaceClients, identifier: str, password_parameter: str, task: Task) -> Database:
    rds = clients.get("rds")
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier=identifier)["DBClusters"]
    parameters = {}
    paginator = rds.get_paginator("describe_db_cluster_parameters")
    for page in paginator.paginate(DBClusterParameterGroupName=cluster["DBClusterParameterGroup"]):
        parameters.update({p["ParameterName"]: p.get("ParameterValue") for p in page["Parameters"]})
    password = ssm_values(clients, [password_parameter])[password_parameter]
    return Database(
        # A global database's secondary inherits schema and user: the task says which it uses.
        identifier=identifier,
        name=cluster.get("DatabaseName") or task.environment["WORDPRESS_DB_NAME"],
        user=cluster.get("MasterUsername") or task.environment["WORDPRESS_DB_USER"],
        password=password,
        endpoint=cluster["Endpoint"],
        reader_endpoint=cluster["ReaderEndpoint"],
        port=int(cluster["Port"]),
        require_tls=str(parameters.get("require_secure_transport", "")).upper() in ("ON", "1", "TRUE"),
        charset=parameters.get("character_set_server") or "utf8mb4",
    )


def _cache(clients: WorkspaceClients, primary_address: str, token_parameter: str) -> Cache:
    elasticache = clients.get("elasticache")
    for group in elasticache.describe_replication_groups()["ReplicationGroups"]:
        node_group = group["NodeGroups"][0]
        if node_group["PrimaryEndpoint"]["Address"] == primary_address:
            token = ssm_values(clients, [token_parameter])[token_parameter] if group.get("AuthTokenEnabled") else ""
            return Cache(
                group_id=group["ReplicationGroupId"],
                primary_endpoint=primary_address,
                reader_endpoint=node_group["ReaderEndpoint"]["Address"],
                port=int(node_group["PrimaryEndpoint"]["Port"]),
                auth_token=token,
                tls=bool(group.get("TransitEncryptionEnabled")),
            )
    raise DiscoveryError(f"{clients.workspace.name}: no replication group has primary endpoint {primary_address}")


def _task(clients: WorkspaceClients, cluster: str, service: str) -> Task:
    ecs = clients.get("ecs")
    services = ecs.describe_services(cluster=cluster, services=[service])["services"]
    if not services or services[0].get("status") != "ACTIVE":
        raise DiscoveryError(f"{clients.workspace.name}: ECS service {service} in {cluster} is not ACTIVE")
    definition = ecs.describe_task_definition(taskDefinition=services[0]["taskDefinition"])["taskDefinition"]
    lb = (services[0].get("loadBalancers") or [{}])[0]
    name = lb.get("containerName") or definition["containerDefinitions"][0]["name"]
    (container,) = [c for c in definition["containerDefinitions"] if c["name"] == name]
    references = {s["name"]: parameter_name(s["valueFrom"]) for s in container.get("secrets", [])}
    values = ssm_values(clients, sorted(set(references.values()))) if references else {}
    port = lb.get("containerPort") or container["portMappings"][0]["containerPort"]
    return Task(
        family=definition["family"],
        container=name,
        container_port=int(port),
        environment={e["name"]: e["value"] for e in container.get("environment", [])},
        secrets={env: values[param] for env, param in references.items()},
        read_only_root=bool(container.get("readonlyRootFilesystem")),
        cpu_units=int(definition.get("cpu") or container.get("cpu") or 1024),
    )


def _load_balancer(clients: WorkspaceClients, dns_name: str) -> LoadBalancer:
    elb = clients.get("elbv2")
    matches = [lb for lb in elb.describe_load_balancers()["LoadBalancers"] if lb["DNSName"] == dns_name]
    if not matches:
        raise DiscoveryError(f"{clients.workspace.name}: no load balancer has DNS name {dns_name}")
    listeners = elb.describe_listeners(LoadBalancerArn=matches[0]["LoadBalancerArn"])["Listeners"]
    by_protocol = {listener["Protocol"]: listener for listener in listeners}
    if set(by_protocol) != {"HTTP", "HTTPS"}:
        raise DiscoveryError(
            f"{clients.workspace.name}: the local load balancer needs one HTTP and one HTTPS "
            f"listener, found {sorted(by_protocol)}"
        )
    redirect = by_protocol["HTTP"]["DefaultActions"][0]
    if redirect["Type"] != "redirect" or redirect["RedirectConfig"]["Protocol"] != "HTTPS":
        raise DiscoveryError(f"{clients.workspace.name}: the HTTP listener does not redirect to HTTPS")
    https = by_protocol["HTTPS"]
    default = https["DefaultActions"][0]
    if default["Type"] != "fixed-response":
        raise DiscoveryError(
            f"{clients.workspace.name}: the HTTPS listener's default action is {default['Type']}; "
            "the local load balancer supports fixed-response defaults"
        )
    target_groups = {}
    routes = []
    for rule in elb.describe_rules(ListenerArn=https["ListenerArn"])["Rules"]:
        if rule.get("IsDefault"):
            continue
        headers = {}
        for condition in rule["Conditions"]:
            if condition["Field"] != "http-header":
                raise DiscoveryError(
                    f"{clients.workspace.name}: listener rule {rule['Priority']} has a "
                    f"{condition['Field']} condition; the local load balancer matches headers only"
                )
            config = condition["HttpHeaderConfig"]
            headers[config["HttpHeaderName"].lower()] = tuple(config["Values"])
        (action,) = [a for a in rule["Actions"] if a["Type"] == "forward"]
        arn = action["TargetGroupArn"]
        if arn not in target_groups:
            target_groups[arn] = elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
        routes.append(Route(priority=int(rule["Priority"]), headers=headers, target_port=target_groups[arn]["Port"]))
    if len(target_groups) != 1:
        raise DiscoveryError(
            f"{clients.workspace.name}: expected rules forwarding to one target group, found {len(target_groups)}"
        )
    (group,) = target_groups.values()
    return LoadBalancer(
        dns_name=dns_name,
        redirect_status=int(redirect["RedirectConfig"]["StatusCode"].removeprefix("HTTP_")),
        https_port=int(https["Port"]),
        ssl_policy=https.get("SslPolicy", ""),
        routes=tuple(sorted(routes, key=lambda r: r.priority)),
        default_status=int(default["FixedResponseConfig"]["StatusCode"]),
        default_body=default["FixedResponseConfig"].get("MessageBody", ""),
        health_path=group["HealthCheckPath"],
        health_matcher=group["Matcher"]["HttpCode"],
        health_interval_s=int(group["HealthCheckIntervalSeconds"]),
        certificate_names=_certificate_names(clients, https),
    )


def _certificate_names(clients: WorkspaceClients, listener: Mapping[str, Any]) -> tuple[str, ...]:
    names: list[str] = []
    for certificate in listener.get("Certificates") or []:
        described = clients.get("acm").describe_certificate(CertificateArn=certificate["CertificateArn"])
        names += [described["Certificate"]["DomainName"], *described["Certificate"].get("SubjectAlternativeNames", [])]
    return tuple(dict.fromkeys(names))


def _items(block: Mapping[str, Any] | None, key: str) -> tuple[Any, ...]:
    return tuple(((block or {}).get(key) or {}).get("Items") or ())


def _edge(clients: WorkspaceClients, distribution_id: str, media_bucket: str) -> Edge:
    cloudfront = clients.get("cloudfront", CLOUDFRONT_REGION)
    distribution = cloudfront.get_distribution(Id=distribution_id)["Distribution"]
    config = distribution["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]["Items"]}
    alb_origins = [o for o in origins.values() if o.get("CustomOriginConfig")]
    if len(alb_origins) != 1:
        raise DiscoveryError(
            f"{clients.workspace.name}: the local edge needs one custom (load balancer) origin, "
            f"found {len(alb_origins)}"
        )
    policies: dict[str, dict] = {}

    def policy(kind: str, policy_id: str | None) -> dict:
        if not policy_id:
            return {}
        if policy_id not in policies:
            if kind == "cache":
                policies[policy_id] = cloudfront.get_cache_policy(Id=policy_id)["CachePolicy"]["CachePolicyConfig"]
            elif kind == "request":
                policies[policy_id] = cloudfront.get_origin_request_policy(Id=policy_id)["OriginRequestPolicy"][
                    "OriginRequestPolicyConfig"
                ]
            else:
                policies[policy_id] = cloudfront.get_response_headers_policy(Id=policy_id)["ResponseHeadersPolicy"][
                    "ResponseHeadersPolicyConfig"
                ]
        return policies[policy_id]

    # An origin group (uploads failing over to the DR replica bucket) is served locally by its
    # first member: the local edge has one media origin, the primary region's bucket.
    groups = {g["Id"]: g["Members"]["Items"][0]["OriginId"] for g in _items(config, "OriginGroups")}

    def target(item: dict) -> dict:
        return origins[groups.get(item["TargetOriginId"], item["TargetOriginId"])]

    def behaviour(item: dict, pattern: str | None) -> Behaviour:
        cache = policy("cache", item.get("CachePolicyId"))
        if not cache:
            raise DiscoveryError(
                f"{clients.workspace.name}: behaviour {pattern or 'default'} has no cache policy; "
                "the local edge supports cache policies only (no legacy forwarded values)"
            )
        key = cache.get("ParametersInCacheKeyAndForwardedToOrigin", {})
        request = policy("request", item.get("OriginRequestPolicyId"))
        key_cookies = key.get("CookiesConfig", {}).get("CookieBehavior", "none")
        key_qs = key.get("QueryStringsConfig", {}).get("QueryStringBehavior", "none")
        forward_cookies = request.get("CookiesConfig", {}).get("CookieBehavior", "none")
        forward_qs = request.get("QueryStringsConfig", {}).get("QueryStringBehavior", "none")
        return Behaviour(
            pattern=pattern,
            origin="lb" if target(item).get("CustomOriginConfig") else "s3",
            viewer_protocol_policy=item["ViewerProtocolPolicy"],
            allowed_methods=tuple(item["AllowedMethods"]["Items"]),
            compress=bool(item.get("Compress")),
            min_ttl=int(cache.get("MinTTL", 0)),
            default_ttl=int(cache.get("DefaultTTL", 0)),
            max_ttl=int(cache.get("MaxTTL", 0)),
            key_query_strings=key_qs,
            key_cookies=key_cookies,
            key_cookie_names=_items(key.get("CookiesConfig"), "Cookies"),
            forward_cookies="all"
            if "all" in (key_cookies, forward_cookies)
            else ("whitelist" if "whitelist" in (key_cookies, forward_cookies) else "none"),
            forward_query_strings="none" if key_qs == forward_qs == "none" else "all",
            forward_headers=_items(request.get("HeadersConfig"), "Headers"),
        )

    ordered = [behaviour(b, b["PathPattern"]) for b in (config.get("CacheBehaviors") or {}).get("Items", [])]
    default = behaviour(config["DefaultCacheBehavior"], None)
    headers_policy = policy("headers", config["DefaultCacheBehavior"].get("ResponseHeadersPolicyId"))
    (alb,) = alb_origins
    return Edge(
        distribution_id=distribution_id,
        domain_name=distribution["DomainName"],
        aliases=tuple(config["Aliases"]["Items"]),
        minimum_protocol_version=config["ViewerCertificate"].get("MinimumProtocolVersion", "TLSv1.2_2021"),
        origin_domain=alb["DomainName"],
        origin_headers={h["HeaderName"]: h["HeaderValue"] for h in _items(alb, "CustomHeaders")},
        media_bucket=media_bucket,
        behaviours=(*ordered, default),
        error_caching={
            int(e["ErrorCode"]): int(e.get("ErrorCachingMinTTL", 0))
            for e in (config.get("CustomErrorResponses") or {}).get("Items", [])
        },
        response_headers=security_headers(headers_policy),
    )


def security_headers(config: Mapping[str, Any]) -> dict[str, str]:
    """A response headers policy's security headers as header -> value."""
    security = config.get("SecurityHeadersConfig") or {}
    headers = {}
    if hsts := security.get("StrictTransportSecurity"):
        value = f"max-age={hsts['AccessControlMaxAgeSec']}"
        value += "; includeSubDomains" if hsts.get("IncludeSubdomains") else ""
        value += "; preload" if hsts.get("Preload") else ""
        headers["Strict-Transport-Security"] = value
    if security.get("ContentTypeOptions"):
        headers["X-Content-Type-Options"] = "nosniff"
    if frame := security.get("FrameOptions"):
        headers["X-Frame-Options"] = frame["FrameOption"]
    if referrer := security.get("ReferrerPolicy"):
        headers["Referrer-Policy"] = referrer["ReferrerPolicy"]
    if xss := security.get("XSSProtection"):
        headers["X-XSS-Protection"] = ("1" if xss.get("Protection") else "0") + (
            "; mode=block" if xss.get("ModeBlock") else ""
        )
    if csp := security.get("ContentSecurityPolicy"):
        headers["Content-Security-Policy"] = csp["ContentSecurityPolicy"]
    return headers

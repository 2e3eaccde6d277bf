"""CDN: CloudFront in front of the ALB and the media bucket, WordPress-aware, optional WAF.

What it creates (all global resources through the us-east-1 provider the caller passes)
    - A distribution with two origins: the ALB (HTTPS only, TLS 1.2, the origin-secret
      header the ALB demands, optional Origin Shield) and the media bucket through origin
      access control (SigV4, always signed).
    - WordPress behaviours, first match wins:
        `wp-admin/*`, `wp-login.php`      never cached; every cookie, query and method passed
        `wp-content/uploads/*`            media bucket, cached long
        `wp-content/*`, `wp-includes/*`   theme and core assets, cached long (the `ver`
                                          query string is in the key, so a release busts it)
        everything else (pages)           cached `page_default_ttl_s`; the key holds the
                                          query string and WordPress's logged-in, password-
                                          post and comment-author cookies
      Readers without those cookies share one cached page; a request that carries them has a
      key of its own, and WordPress answers it with `Cache-Control: no-cache, private`, which
      the zero minimum TTL obeys — so such pages are never served from or stored in the cache.
    - TLS `TLSv1.2_2021` on SNI with the ACM certificate, HTTP/2 and HTTP/3, IPv6, a
      security-headers response policy (HSTS with preload, nosniff, SAMEORIGIN, referrer
      policy), 5xx answers cached for `error_caching_s` so a struggling origin is not stampeded.
    - Standard logging (v2) through CloudWatch Logs delivery into the logs bucket — the
      delivery that needs no bucket ACLs.
    - With `enable_waf`: a web ACL of AWS managed rules (IP reputation, common, known bad
      inputs, WordPress, PHP) and a rate limit on `wp-login.php`/`xmlrpc.php`, logging into a
      KMS-encrypted group.

Defaults and why
    - `PriceClass_100` (Europe and North America edges): the readership is European.
    - Pages for 60 s: a breaking story is fresh within a minute, yet a surge of a million
      readers becomes one origin request per edge per minute.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.cloudfront_cache_policy import (
    CloudfrontCachePolicy,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOrigin,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfig,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigCookies,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfig,
    CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfig,
)
from cdktf_cdktf_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionCustomErrorResponse,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionOrderedCacheBehavior,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionOriginCustomHeader,
    CloudfrontDistributionOriginCustomOriginConfig,
    CloudfrontDistributionOriginGroup,
    CloudfrontDistributionOriginGroupFailoverCriteria,
    CloudfrontDistributionOriginGroupMember,
    CloudfrontDistributionOriginOriginShield,
    CloudfrontDistributionRestrictions,
    CloudfrontDistributionRestrictionsGeoRestriction,
    CloudfrontDistributionViewerCertificate,
)
from cdktf_cdktf_provider_aws.cloudfront_origin_access_control import CloudfrontOriginAccessControl
from cdktf_cdktf_provider_aws.cloudfront_origin_request_policy import (
    CloudfrontOriginRequestPolicy,
    CloudfrontOriginRequestPolicyCookiesConfig,
    CloudfrontOriginRequestPolicyHeadersConfig,
    CloudfrontOriginRequestPolicyHeadersConfigHeaders,
    CloudfrontOriginRequestPolicyQueryStringsConfig,
)
from cdktf_cdktf_provider_aws.cloudfront_response_headers_policy import (
    CloudfrontResponseHeadersPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfig,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigXssProtection,
)
from cdktf_cdktf_provider_aws.cloudwatch_log_delivery import CloudwatchLogDelivery
from cdktf_cdktf_provider_aws.cloudwatch_log_delivery_destination import (
    CloudwatchLogDeliveryDestination,
    CloudwatchLogDeliveryDestinationDeliveryDestinationConfiguration,
)
from cdktf_cdktf_provider_aws.cloudwatch_log_delivery_source import CloudwatchLogDeliverySource
from cdktf_cdktf_provider_aws.wafv2_web_acl import Wafv2WebAcl, Wafv2WebAclDefaultAction, Wafv2WebAclVisibilityConfig
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import Wafv2WebAclLoggingConfiguration
from constructs import Construct

from modules.compute import ORIGIN_HEADER
from modules.logs import encrypted_log_group
from modules.outputs import export
from modules.policy import skip_check
from modules.roles import PlatformRole

CLOUDFRONT_REGION = "us-east-1"
ALB_ORIGIN, MEDIA_ORIGIN = "alb", "media"
MEDIA_REPLICA_ORIGIN, MEDIA_GROUP = "media-replica", "media-failover"
# What makes CloudFront retry a request on the media replica: the primary region failing.
ORIGIN_FAILOVER_STATUS_CODES = [500, 502, 503, 504]
ALL_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
READ_METHODS = ["GET", "HEAD", "OPTIONS"]
CACHED_METHODS = ["GET", "HEAD"]
ASSET_MAX_TTL_S = 31_536_000
PAGE_MAX_TTL_S = 86_400
# Rules of the web ACL: (name, AWS managed rule group, rules of it only counted, not blocked).
MANAGED_RULE_GROUPS = (
    ("ip-reputation", "AWSManagedRulesAmazonIpReputationList", ()),
    # Editors post long articles from wp-admin: the 8 KB body limit would block them.
    ("common", "AWSManagedRulesCommonRuleSet", ("SizeRestrictions_BODY",)),
    ("known-bad-inputs", "AWSManagedRulesKnownBadInputsRuleSet", ()),
    # Counted, not blocked: readers behind VPNs are readers, and feed readers run in clouds.
    # The metrics show the share before the newsroom decides to block.
    ("anonymous-ip", "AWSManagedRulesAnonymousIpList", ("AnonymousIPList", "HostingProviderIPList")),
    ("wordpress", "AWSManagedRulesWordPressRuleSet", ()),
    ("php", "AWSManagedRulesPHPRuleSet", ()),
)


def wordpress_cookie_hash(site_url: str) -> str:
    """WordPress's COOKIEHASH: md5 of the site URL, the suffix of its cookie names."""
    return hashlib.md5(site_url.encode()).hexdigest()  # noqa: S324 - WordPress's own naming, not security


@dataclass(frozen=True)
class CdnProps:
    name: str
    """Resource name prefix, e.g. `surgepress-staging`."""
    account_id: str
    """Account that administers the WAF log key."""
    site_domain: str
    """Public host name of the site (the distribution's alias)."""
    certificate_arn: str
    """Issued ACM certificate for `site_domain`, in us-east-1."""
    origin_domain: str
    """Host name of the ALB origin (covered by the ALB's certificate)."""
    origin_secret: str
    """Value of the origin-secret header; a reference read at apply, never a literal."""
    media_bucket_domain: str
    """Regional domain name of the media bucket."""
    log_bucket_arn: str
    """Bucket receiving the access logs (its policy admits CloudWatch Logs delivery)."""
    provider: TerraformProvider
    """The us-east-1 provider: CloudFront's certificates, WAF and log delivery live there."""
    media_replica_domain: str | None = None
    """Regional domain name of the media bucket's cross-region replica (the DR region's). With
    it, uploads are served through an origin group that fails over to the replica."""
    price_class: str = "PriceClass_100"
    """Edge locations served."""
    page_default_ttl_s: int = 60
    """How long a page is cached when WordPress does not say."""
    asset_default_ttl_s: int = 86_400
    """How long uploads and theme/core assets are cached when the origin does not say."""
    error_caching_s: int = 5
    """How long a 502/503/504 is cached (shields a struggling origin)."""
    enable_waf: bool = True
    """Attach a web ACL of AWS managed rules."""
    enable_origin_shield: bool = True
    """Funnel edge misses through one regional cache in front of the ALB."""
    origin_shield_region: str = "eu-west-1"
    """Region of Origin Shield (the ALB's region)."""
    log_retention_days: int = 365
    """WAF log retention."""
    role: PlatformRole = PlatformRole.PRIMARY
    """Primary or secondary (DR) copy; recorded as the `PlatformRole` tag."""


class Cdn(Construct):
    def __init__(self, scope: Construct, id: str, *, props: CdnProps) -> None:
        super().__init__(scope, id)
        if props.page_default_ttl_s < 0 or props.asset_default_ttl_s < props.page_default_ttl_s:
            raise ValueError(
                f"CdnProps: expected 0 ≤ page_default_ttl_s ≤ asset_default_ttl_s, got "
                f"{props.page_default_ttl_s!r} and {props.asset_default_ttl_s!r}"
            )
        self._props = props
        self._tags = {"Name": props.name, "PlatformRole": props.role.value}
        cookie_hash = wordpress_cookie_hash(f"https://{props.site_domain}")
        self.session_cookies = [
            f"wordpress_logged_in_{cookie_hash}",
            f"wp-postpass_{cookie_hash}",
            f"comment_author_{cookie_hash}",
        ]
        pages = self._cache_policy(
            "pages", props.page_default_ttl_s, PAGE_MAX_TTL_S, cookies=self.session_cookies, query_strings=True
        )
        assets = self._cache_policy(
            "assets", props.asset_default_ttl_s, ASSET_MAX_TTL_S, cookies=None, query_strings=True
        )
        uncached = self._cache_policy("uncached", 0, 0, cookies=None, query_strings=False)
        to_wordpress = CloudfrontOriginRequestPolicy(
            self,
            "to-wordpress",
            name=f"{props.name}-wordpress",
            provider=props.provider,
            comment="everything WordPress reads: all cookies and query strings, viewer headers",
            cookies_config=CloudfrontOriginRequestPolicyCookiesConfig(cookie_behavior="all"),
            query_strings_config=CloudfrontOriginRequestPolicyQueryStringsConfig(query_string_behavior="all"),
            headers_config=CloudfrontOriginRequestPolicyHeadersConfig(
                header_behavior="whitelist",
                headers=CloudfrontOriginRequestPolicyHeadersConfigHeaders(
                    items=["CloudFront-Forwarded-Proto", "Origin", "Referer", "User-Agent", "Accept-Language"]
                ),
            ),
        )
        headers = self._security_headers()
        oac = CloudfrontOriginAccessControl(
            self,
            "media-access",
            name=f"{props.name}-media",
            description="media bucket, signed requests only",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            provider=props.provider,
        )
        self.web_acl = self._web_acl() if props.enable_waf else None

        def behavior(
            kind: type,
            pattern: str | None,
            origin: str,
            policy: CloudfrontCachePolicy,
            request: CloudfrontOriginRequestPolicy | None,
            methods: list[str],
        ):
            return kind(
                **({"path_pattern": pattern} if pattern else {}),
                target_origin_id=origin,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=methods,
                cached_methods=CACHED_METHODS,
                compress=True,
                cache_policy_id=policy.id,
                origin_request_policy_id=request.id if request else None,
                response_headers_policy_id=headers.id,
            )

        ordered = CloudfrontDistributionOrderedCacheBehavior
        self.distribution = CloudfrontDistribution(
            self,
            "distribution",
            provider=props.provider,
            enabled=True,
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=props.price_class,
            aliases=[props.site_domain],
            comment=f"{props.name} WordPress",
            web_acl_id=self.web_acl.arn if self.web_acl else None,
            origin=[
                CloudfrontDistributionOrigin(
                    origin_id=ALB_ORIGIN,
                    domain_name=props.origin_domain,
                    custom_origin_config=CloudfrontDistributionOriginCustomOriginConfig(
                        http_port=80,
                        https_port=443,
                        origin_protocol_policy="https-only",
                        origin_ssl_protocols=["TLSv1.2"],
                        origin_read_timeout=30,
                        origin_keepalive_timeout=5,
                    ),
                    custom_header=[
                        CloudfrontDistributionOriginCustomHeader(name=ORIGIN_HEADER, value=props.origin_secret)
                    ],
                    # Only when on: AWS answers a disabled shield as absent, so a written-out
                    # `enabled = false` would be a difference on every plan.
                    origin_shield=CloudfrontDistributionOriginOriginShield(
                        enabled=True, origin_shield_region=props.origin_shield_region
                    )
                    if props.enable_origin_shield
                    else None,
                ),
                CloudfrontDistributionOrigin(
                    origin_id=MEDIA_ORIGIN, domain_name=props.media_bucket_domain, origin_access_control_id=oac.id
                ),
                *(
                    [
                        CloudfrontDistributionOrigin(
                            origin_id=MEDIA_REPLICA_ORIGIN,
                            domain_name=props.media_replica_domain,
                            origin_access_control_id=oac.id,
                        )
                    ]
                    if props.media_replica_domain
                    else []
                ),
            ],
            origin_group=[
                CloudfrontDistributionOriginGroup(
                    origin_id=MEDIA_GROUP,
                    failover_criteria=CloudfrontDistributionOriginGroupFailoverCriteria(
                        status_codes=ORIGIN_FAILOVER_STATUS_CODES
                    ),
                    member=[
                        CloudfrontDistributionOriginGroupMember(origin_id=MEDIA_ORIGIN),
                        CloudfrontDistributionOriginGroupMember(origin_id=MEDIA_REPLICA_ORIGIN),
                    ],
                )
            ]
            if props.media_replica_domain
            else None,
            ordered_cache_behavior=[
                behavior(ordered, "wp-admin/*", ALB_ORIGIN, uncached, to_wordpress, ALL_METHODS),
                behavior(ordered, "wp-login.php", ALB_ORIGIN, uncached, to_wordpress, ALL_METHODS),
                # Read-only, so an origin group fits (CloudFront fails over GET/HEAD/OPTIONS only); the
                # pages and wp-admin take writes and follow the origin name's DNS failover instead.
                behavior(
                    ordered,
                    "wp-content/uploads/*",
                    MEDIA_GROUP if props.media_replica_domain else MEDIA_ORIGIN,
                    assets,
                    None,
                    READ_METHODS,
                ),
                behavior(ordered, "wp-content/*", ALB_ORIGIN, assets, None, READ_METHODS),
                behavior(ordered, "wp-includes/*", ALB_ORIGIN, assets, None, READ_METHODS),
            ],
            default_cache_behavior=behavior(
                CloudfrontDistributionDefaultCacheBehavior, None, ALB_ORIGIN, pages, to_wordpress, ALL_METHODS
            ),
            custom_error_response=[
                CloudfrontDistributionCustomErrorResponse(error_code=code, error_caching_min_ttl=props.error_caching_s)
                for code in (502, 503, 504)
            ],
            restrictions=CloudfrontDistributionRestrictions(
                geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(restriction_type="none")
            ),
            viewer_certificate=CloudfrontDistributionViewerCertificate(
                acm_certificate_arn=props.certificate_arn,
                ssl_support_method="sni-only",
                minimum_protocol_version="TLSv1.2_2021",
            ),
            tags=self._tags,
        )
        skip_check(
            self.distribution,
            {
                "CKV_AWS_86": "access logs use standard logging v2 (CloudWatch Logs delivery into the logs bucket, "
                "below), which needs no bucket ACLs; the check reads only the legacy logging block",
                "CKV_AWS_374": "a news site is read worldwide; geo blocking would be a business decision, "
                "not a default",
                "CKV_AWS_305": "WordPress answers / itself; a default root object of index.php would loop with "
                "WordPress's canonical redirect",
            },
        )
        if not props.media_replica_domain:
            skip_check(
                self.distribution,
                {
                    "CKV_AWS_310": "this site runs in one region (no replica to fail over to); a site with a DR "
                    "replica serves uploads through an origin group",
                },
            )
        if not props.enable_waf:
            skip_check(
                self.distribution,
                {
                    "CKV_AWS_68": "this environment runs without a web ACL by its `cdn.enable_waf` setting",
                    "CKV2_AWS_47": "this environment runs without a web ACL by its `cdn.enable_waf` setting",
                },
            )
        self._access_logs()
        outputs = {
            "distribution_id": self.distribution.id,
            "distribution_arn": self.distribution.arn,
            "distribution_domain_name": self.distribution.domain_name,
            "site_url": f"https://{props.site_domain}",
        }
        export(self, outputs)

    def _cache_policy(
        self, purpose: str, default_ttl: int, max_ttl: int, *, cookies: list[str] | None, query_strings: bool
    ) -> CloudfrontCachePolicy:
        params = CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOrigin
        caching = max_ttl > 0  # AWS refuses compression and key parameters on a no-cache policy
        return CloudfrontCachePolicy(
            self,
            f"cache-{purpose}",
            name=f"{self._props.name}-{purpose}",
            provider=self._props.provider,
            comment=f"WordPress {purpose}",
            min_ttl=0,
            default_ttl=default_ttl,
            max_ttl=max_ttl,
            parameters_in_cache_key_and_forwarded_to_origin=params(
                enable_accept_encoding_gzip=caching,
                enable_accept_encoding_brotli=caching,
                cookies_config=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfig(
                    cookie_behavior="whitelist" if cookies else "none",
                    cookies=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigCookies(
                        items=cookies
                    )
                    if cookies
                    else None,
                ),
                headers_config=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfig(
                    header_behavior="none"
                ),
                query_strings_config=CloudfrontCachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfig(
                    query_string_behavior="all" if query_strings else "none"
                ),
            ),
        )

    def _security_headers(self) -> CloudfrontResponseHeadersPolicy:
        config = CloudfrontResponseHeadersPolicySecurityHeadersConfig
        return CloudfrontResponseHeadersPolicy(
            self,
            "security-headers",
            name=f"{self._props.name}-security-headers",
            provider=self._props.provider,
            comment="HSTS, nosniff, same-origin framing, referrer policy",
            security_headers_config=config(
                strict_transport_security=CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity(
                    access_control_max_age_sec=31_536_000, include_subdomains=True, preload=True, override=True
                ),
                content_type_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions(
                    override=True
                ),
                frame_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions(
                    frame_option="SAMEORIGIN", override=True
                ),
                referrer_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy(
                    referrer_policy="strict-origin-when-cross-origin", override=True
                ),
                xss_protection=CloudfrontResponseHeadersPolicySecurityHeadersConfigXssProtection(
                    protection=True, mode_block=True, override=True
                ),
            ),
        )

    def _web_acl(self) -> Wafv2WebAcl:
        props = self._props

        def visibility(metric: str) -> dict:
            return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}

        rules = [
            {
                "name": name,
                "priority": priority,
                "override_action": {"none": {}},
                "statement": {
                    "managed_rule_group_statement": {
                        "vendor_name": "AWS",
                        "name": group,
                        **(
                            {"rule_action_override": [{"name": r, "action_to_use": {"count": {}}} for r in counted]}
                            if counted
                            else {}
                        ),
                    }
                },
                "visibility_config": visibility(f"{props.name}-{name}"),
            }
            for priority, (name, group, counted) in enumerate(MANAGED_RULE_GROUPS)
        ]
        rules.append(
            {
                "name": "login-rate-limit",
                "priority": len(rules),
                "action": {"block": {}},
                "statement": {
                    "rate_based_statement": {
                        "limit": 300,
                        "aggregate_key_type": "IP",
                        "scope_down_statement": {
                            "regex_match_statement": {
                                "regex_string": "^/(wp-login\\.php|xmlrpc\\.php)",
                                "field_to_match": {"uri_path": {}},
                                "text_transformation": [{"priority": 0, "type": "NONE"}],
                            }
                        },
                    }
                },
                "visibility_config": visibility(f"{props.name}-login-rate-limit"),
            }
        )
        acl = Wafv2WebAcl(
            self,
            "web-acl",
            name=props.name,
            scope="CLOUDFRONT",
            provider=props.provider,
            description="AWS managed rules and a login rate limit",
            default_action=Wafv2WebAclDefaultAction(allow={}),
            visibility_config=Wafv2WebAclVisibilityConfig(**visibility(props.name)),
            tags=self._tags,
        )
        acl.add_override("rule", rules)
        # WAF accepts only log groups named aws-waf-logs-*.
        group, _ = encrypted_log_group(
            self,
            key_id="waf-log-key",
            group_id="waf-logs",
            name=f"aws-waf-logs-{props.name}",
            region=CLOUDFRONT_REGION,
            account_id=props.account_id,
            retention_days=props.log_retention_days,
            description=f"{props.name} WAF logs",
            tags=self._tags,
            provider=props.provider,
        )
        Wafv2WebAclLoggingConfiguration(
            self, "web-acl-logging", resource_arn=acl.arn, log_destination_configs=[group.arn], provider=props.provider
        )
        return acl

    def _access_logs(self) -> None:
        props = self._props
        source = CloudwatchLogDeliverySource(
            self,
            "access-log-source",
            name=f"{props.name}-cdn",
            log_type="ACCESS_LOGS",
            resource_arn=self.distribution.arn,
            provider=props.provider,
            tags=self._tags,
        )
        destination = CloudwatchLogDeliveryDestination(
            self,
            "access-log-destination",
            name=f"{props.name}-cdn-logs",
            provider=props.provider,
            output_format="parquet",
            delivery_destination_configuration=[
                CloudwatchLogDeliveryDestinationDeliveryDestinationConfiguration(
                    destination_resource_arn=props.log_bucket_arn
                )
            ],
            tags=self._tags,
        )
        CloudwatchLogDelivery(
            self,
            "access-logs",
            delivery_source_name=source.name,
            delivery_destination_arn=destination.arn,
            provider=props.provider,
            tags=self._tags,
        )

"""The CDN and DNS modules: WordPress-aware CloudFront, TLS everywhere, certificates in the right region."""

from __future__ import annotations

import json

import pytest

from modules.cdn import wordpress_cookie_hash
from tests.conftest import resources

pytestmark = pytest.mark.unit


def _distribution(stack: dict) -> dict:
    (distribution,) = resources(stack, "aws_cloudfront_distribution").values()
    return distribution


def _policies(stack: dict) -> dict[str, dict]:
    return {p["name"].rsplit("-", 1)[-1]: p for p in resources(stack, "aws_cloudfront_cache_policy").values()}


def _policy_ref(stack: dict, purpose: str) -> str:
    key = next(
        k for k, p in resources(stack, "aws_cloudfront_cache_policy").items() if p["name"].endswith(f"-{purpose}")
    )
    return f"${{aws_cloudfront_cache_policy.{key}.id}}"


def test_admin_and_login_are_never_cached_and_receive_everything(local_stacks):
    stack = local_stacks["production"]
    behaviours = {b["path_pattern"]: b for b in _distribution(stack)["ordered_cache_behavior"]}
    for pattern in ("wp-admin/*", "wp-login.php"):
        assert behaviours[pattern]["cache_policy_id"] == _policy_ref(stack, "uncached")
        assert "POST" in behaviours[pattern]["allowed_methods"]
        assert behaviours[pattern]["origin_request_policy_id"].startswith("${aws_cloudfront_origin_request_policy.")
    uncached = _policies(stack)["uncached"]
    assert uncached["default_ttl"] == uncached["max_ttl"] == uncached["min_ttl"] == 0


def test_pages_key_on_session_cookies_so_logged_in_pages_never_reach_readers(local_stacks):
    stack = local_stacks["production"]
    pages = _policies(stack)["pages"]
    cookies = pages["parameters_in_cache_key_and_forwarded_to_origin"]["cookies_config"]
    suffix = wordpress_cookie_hash("https://www.live.surgepress.example")
    assert cookies["cookie_behavior"] == "whitelist"
    assert cookies["cookies"]["items"] == [
        f"wordpress_logged_in_{suffix}",
        f"wp-postpass_{suffix}",
        f"comment_author_{suffix}",
    ]
    assert pages["min_ttl"] == 0, "WordPress's no-cache answer to a logged-in reader must be obeyed"
    assert _distribution(stack)["default_cache_behavior"]["cache_policy_id"] == _policy_ref(stack, "pages")


def test_wordpress_cookie_hash_is_md5_of_the_site_url():
    # WordPress: COOKIEHASH = md5(siteurl), the URL exactly as stored (no trailing slash).
    assert wordpress_cookie_hash("http://example.org") == "dab521de65f9250b4cca7383feef67dc"
    assert wordpress_cookie_hash("http://example.org/") != wordpress_cookie_hash("http://example.org")


@pytest.mark.parametrize("name, target", [("staging", "media"), ("production", "media-failover")])
def test_uploads_come_from_the_media_bucket_through_origin_access_control(local_stacks, name, target):
    stack = local_stacks[name]  # production's uploads fail over to dr's replica (an origin group)
    distribution = _distribution(stack)
    uploads = next(b for b in distribution["ordered_cache_behavior"] if b["path_pattern"] == "wp-content/uploads/*")
    assert uploads["target_origin_id"] == target and uploads["cache_policy_id"] == _policy_ref(stack, "assets")
    for media in (o for o in distribution["origin"] if o["origin_id"].startswith("media")):
        assert media["origin_access_control_id"].startswith("${aws_cloudfront_origin_access_control.")
    policy = next(p for p in resources(stack, "aws_s3_bucket_policy").values() if "storage_media" in p["bucket"])
    assert '"AWS:SourceArn": "${aws_cloudfront_distribution.' in policy["policy"]


def test_viewer_and_origin_tls_are_modern_and_the_origin_secret_is_a_reference(local_stacks):
    for name in ("staging", "production"):
        distribution = _distribution(local_stacks[name])
        assert distribution["viewer_certificate"]["minimum_protocol_version"] == "TLSv1.2_2021"
        assert distribution["http_version"] == "http2and3"
        alb = next(o for o in distribution["origin"] if o["origin_id"] == "alb")
        assert alb["custom_origin_config"]["origin_protocol_policy"] == "https-only"
        assert alb["custom_header"] == [
            {"name": "X-Origin-Verify", "value": "${data.aws_ssm_parameter.origin-secret.value}"}
        ]
        assert distribution["default_cache_behavior"]["viewer_protocol_policy"] == "redirect-to-https"
        assert distribution["default_cache_behavior"]["response_headers_policy_id"].startswith(
            "${aws_cloudfront_response_headers_policy."
        )


def test_global_resources_use_the_us_east_1_provider(local_stacks):
    stack = local_stacks["production"]
    providers = {p.get("alias"): p["region"] for p in stack["provider"]["aws"]}
    assert providers["us_east_1"] == "us-east-1"
    for rtype in ("aws_cloudfront_distribution", "aws_wafv2_web_acl", "aws_cloudwatch_log_delivery_source"):
        assert all(r["provider"] == "aws.us_east_1" for r in resources(stack, rtype).values()), rtype
    certificates = resources(stack, "aws_acm_certificate")
    assert sorted((c["domain_name"], c.get("provider", "aws")) for c in certificates.values()) == [
        ("origin.live.surgepress.example", "aws"),
        ("www.live.surgepress.example", "aws.us_east_1"),
    ]
    assert all(c["validation_method"] == "DNS" for c in certificates.values())


def test_waf_in_production_only_with_managed_rules_and_logging(local_stacks):
    (acl,) = resources(local_stacks["production"], "aws_wafv2_web_acl").values()
    groups = [
        r["statement"]["managed_rule_group_statement"]["name"]
        for r in acl["rule"]
        if "managed_rule_group_statement" in r["statement"]
    ]
    # The web ACL's managed groups, restated: reputation, the common set, known-bad inputs,
    # anonymous IPs (counted), and WordPress's and PHP's own.
    assert groups == [
        "AWSManagedRulesAmazonIpReputationList",
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAnonymousIpList",
        "AWSManagedRulesWordPressRuleSet",
        "AWSManagedRulesPHPRuleSet",
    ]
    assert _distribution(local_stacks["production"])["web_acl_id"].startswith("${aws_wafv2_web_acl.")
    assert resources(local_stacks["production"], "aws_wafv2_web_acl_logging_configuration")
    assert resources(local_stacks["staging"], "aws_wafv2_web_acl") == {}
    assert "web_acl_id" not in _distribution(local_stacks["staging"])


def test_site_and_origin_names_are_aliases_in_the_environment_zone(local_stacks):
    stack = local_stacks["staging"]
    aliases = {r["name"]: r["alias"]["name"] for r in resources(stack, "aws_route53_record").values() if "alias" in r}
    assert aliases["www.staging.surgepress.example"].startswith("${aws_cloudfront_distribution.")
    assert aliases["origin.staging.surgepress.example"].startswith("${aws_lb.")
    (zone,) = resources(stack, "aws_route53_zone").values()
    assert zone["name"] == "staging.surgepress.example"


@pytest.mark.parametrize("name", ["staging", "production"])
def test_the_media_key_does_not_wait_for_the_distribution(local_stacks, name):
    # The bucket policy names this distribution (above); the key admits the account's
    # distributions, so the key, and a replica reading its alias, need not wait for it.
    stack = local_stacks[name]
    account = {"staging": "100000000003", "production": "100000000004"}[name]
    key = next(k for key_id, k in resources(stack, "aws_kms_key").items() if key_id.startswith("storage_key"))
    assert "aws_cloudfront_distribution" not in json.dumps(key)
    statement = next(
        s
        for s in json.loads(key["policy"])["Statement"]
        if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    )
    assert statement["Condition"] == {"ArnLike": {"AWS:SourceArn": f"arn:aws:cloudfront::{account}:distribution/*"}}
    assert statement["Action"] == ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"]

"""The data plane's pure parts: what it renders from a deployment, how it maps endpoints,
what it refuses, and the load summary; plus process handling with a real child process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from surgepress.dataplane import DataPlane, DataPlaneError, dataplane_workspaces, render
from surgepress.dataplane.discover import (
    Behaviour,
    Cache,
    Database,
    Deployment,
    Edge,
    LoadBalancer,
    Route,
    Task,
    parameter_name,
    security_headers,
)
from surgepress.dataplane.packages import MissingPackage, all_packages, find_toolchain
from surgepress.dataplane.s3_origin import object_url
from surgepress.iam_conditions import condition_holds
from surgepress.load import percentile, summarise
from surgepress.processes import free_port, is_running, spawn, stop
from surgepress.targets import Paths

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
SECRET = "originsecret0123456789abcdefghijklmnopqrstuv"
TOKEN = "redistoken0123456789abcdefghijklmnopqrstuvwx"
PASSWORD = "dbpassword0123456789abcdefghijklmnopqrstuvw"
COOKIES = ("wordpress_logged_in_abc", "wp-postpass_abc")


def behaviour(
    pattern,
    origin="lb",
    *,
    ttl=(0, 60, 600),
    cookies=(),
    forward_cookies="none",
    qs="all",
    methods=("GET", "HEAD"),
    headers=(),
) -> Behaviour:
    return Behaviour(
        pattern=pattern,
        origin=origin,
        viewer_protocol_policy="redirect-to-https",
        allowed_methods=methods,
        compress=True,
        min_ttl=ttl[0],
        default_ttl=ttl[1],
        max_ttl=ttl[2],
        key_query_strings=qs,
        key_cookies="whitelist" if cookies else "none",
        key_cookie_names=cookies,
        forward_cookies=forward_cookies,
        forward_query_strings="none" if qs == "none" else "all",
        forward_headers=headers,
    )


ALL = ("GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE")
DEPLOYMENT = Deployment(
    workspace="staging",
    region="eu-west-1",
    database=Database(
        identifier="surgepress-staging",
        name="wordpress",
        user="wpadmin",
        password=PASSWORD,
        endpoint="db.cluster-x.eu-west-1.rds.amazonaws.com",
        reader_endpoint="db.cluster-ro-x.eu-west-1.rds.amazonaws.com",
        port=3306,
        require_tls=True,
        charset="utf8mb4",
    ),
    cache=Cache(
        group_id="surgepress-staging",
        primary_endpoint="master.cache.euw1.cache.amazonaws.com",
        reader_endpoint="replica.cache.euw1.cache.amazonaws.com",
        port=6379,
        auth_token=TOKEN,
        tls=True,
    ),
    task=Task(
        family="surgepress-staging-wordpress",
        container="wordpress",
        container_port=80,
        environment={
            "WORDPRESS_DB_HOST": "db.cluster-x.eu-west-1.rds.amazonaws.com",
            "WORDPRESS_DB_NAME": "wordpress",
            "WORDPRESS_DB_USER": "wpadmin",
            "WP_REDIS_HOST": "master.cache.euw1.cache.amazonaws.com",
            "WP_REDIS_PORT": "6379",
            "WP_HOME": "https://www.staging.example",
        },
        secrets={
            "WORDPRESS_DB_PASSWORD": PASSWORD,
            **{
                k: "k" * 64
                for k in (
                    f"WORDPRESS_{a}_{b}" for a in ("AUTH", "SECURE_AUTH", "LOGGED_IN", "NONCE") for b in ("KEY", "SALT")
                )
            },
        },
        read_only_root=True,
        cpu_units=1024,
    ),
    load_balancer=LoadBalancer(
        dns_name="alb-1.eu-west-1.elb.amazonaws.com",
        redirect_status=301,
        https_port=443,
        ssl_policy="ELBSecurityPolicy-TLS13-1-2-2021-06",
        routes=(Route(priority=1, headers={"x-origin-verify": (SECRET,)}, target_port=80),),
        default_status=403,
        default_body="Forbidden",
        health_path="/health.gif",
        health_matcher="200",
        health_interval_s=10,
    ),
    edge=Edge(
        distribution_id="E123",
        domain_name="d123.cloudfront.net",
        aliases=("www.staging.example",),
        minimum_protocol_version="TLSv1.2_2021",
        origin_domain="origin.staging.example",
        origin_headers={"X-Origin-Verify": SECRET},
        media_bucket="media-bucket",
        behaviours=(
            behaviour(
                "wp-admin/*",
                ttl=(0, 0, 0),
                forward_cookies="all",
                methods=ALL,
                qs="none",
                headers=("CloudFront-Forwarded-Proto", "User-Agent"),
            ),
            behaviour("wp-content/uploads/*", origin="s3", ttl=(0, 86400, 31536000)),
            behaviour("wp-content/*", ttl=(0, 86400, 31536000)),
            behaviour(None, cookies=COOKIES, forward_cookies="all", methods=ALL),
        ),
        error_caching={502: 5, 503: 5},
        response_headers={"X-Content-Type-Options": "nosniff"},
    ),
    site_domain="www.staging.example",
)
PORTS = render.Ports(
    database=1001,
    cache=1002,
    app=1003,
    web=1004,
    lb_http=1005,
    lb_https=1006,
    edge_http=1007,
    edge_https=1008,
    s3_origin=1009,
)
LAYOUT = render.Layout(Path("/build/dataplane/staging"))


def test_cloudfront_path_patterns_become_anchored_regexes():
    assert render.path_pattern_regex("wp-admin/*") == r"^/wp\-admin/.*$"
    assert render.path_pattern_regex("wp-login.php") == r"^/wp\-login\.php$"
    assert re.match(render.path_pattern_regex("/img/?.png"), "/img/a.png")
    assert not re.match(render.path_pattern_regex("wp-login.php"), "/wp-login.php/extra")


def test_edge_keeps_the_distributions_behaviour_order_ttls_and_cache_keys():
    rendered = render.edge(DEPLOYMENT, PORTS, LAYOUT)
    text = rendered.text
    assert "location / { return 301 https://$host:1008$request_uri; }" in text
    order = [m for m in re.findall(r"# behaviour \d+: (\S+)", text)]
    assert order == ["wp-admin/*", "wp-content/uploads/*", "wp-content/*", "default"]
    admin, uploads, content, default = re.split(r"# behaviour \d+: ", text)[1:]
    assert "proxy_cache off;" in admin and "proxy_cache_key" not in admin
    assert "rewrite ^(.*)$ $1? break;" in admin  # no query strings in key or request policy
    assert "proxy_set_header Cookie $http_cookie;" in admin
    assert "proxy_set_header CloudFront-Forwarded-Proto https;" in admin
    assert "proxy_set_header User-Agent $http_user_agent;" in admin
    assert "limit_except" not in admin
    assert "proxy_pass http://origin_s3;" in uploads and "origin-headers.conf" not in uploads
    assert "proxy_cache_valid 200 203 300 301 410 86400s;" in content
    assert "limit_except GET OPTIONS { deny all; }" not in content and "limit_except GET { deny all; }" in content
    assert "proxy_hide_header Set-Cookie;" in content  # cookies neither in the key nor forwarded
    assert 'proxy_cache_key "$uri$is_args$args|$edge_cookie_0|$edge_cookie_1";' in default
    assert "proxy_cache_valid 502 5s;" in default and "proxy_cache_lock on;" in default
    assert "location / {" in default
    assert 'add_header X-Content-Type-Options "nosniff" always;' in text
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in text


def test_edge_reads_whitelisted_cookies_even_with_dashes_in_their_names():
    text = render.edge(DEPLOYMENT, PORTS, LAYOUT).text
    assert '"~(?:^|;\\s*)wp\\-postpass_abc=(?<value>[^;]*)" $value;' in text
    assert "map $http_cookie $edge_cookie_1 {" in text


def test_secrets_are_rendered_only_into_the_secret_part():
    for name, rendered in (
        ("edge", render.edge(DEPLOYMENT, PORTS, LAYOUT)),
        ("lb", render.load_balancer(DEPLOYMENT, PORTS, LAYOUT)),
        ("cache", render.redis(DEPLOYMENT, PORTS, LAYOUT)),
        ("database", render.mariadb(DEPLOYMENT, PORTS, LAYOUT)),
        ("app", render.php_fpm(DEPLOYMENT, PORTS, LAYOUT, 1.0, "0" * 64)),
    ):
        for secret in (SECRET, TOKEN, PASSWORD):
            assert secret not in rendered.text, name
    assert f'proxy_set_header X-Origin-Verify "{SECRET}";' in render.edge(DEPLOYMENT, PORTS, LAYOUT).secret
    assert f'"{SECRET}" 1;' in render.load_balancer(DEPLOYMENT, PORTS, LAYOUT).secret
    assert render.redis(DEPLOYMENT, PORTS, LAYOUT).secret == f"requirepass {TOKEN}\n"


def test_load_balancer_redirects_http_and_answers_403_unless_a_rule_matches():
    text = render.load_balancer(DEPLOYMENT, PORTS, LAYOUT).text
    assert "return 301 https://$host:1006$request_uri;" in text
    assert 'if ($lb_target = "") { return 403 "Forbidden"; }' in text
    assert "if ($lb_rule_1) { set $lb_target target; }" in text
    assert "upstream target { server 127.0.0.1:1004; keepalive 32; }" in text
    assert "proxy_set_header X-Forwarded-Proto https;" in text


def test_database_and_cache_require_tls_as_deployed():
    assert "require-secure-transport = ON" in render.mariadb(DEPLOYMENT, PORTS, LAYOUT).text
    plain = replace(
        DEPLOYMENT, database=replace(DEPLOYMENT.database, require_tls=False), cache=replace(DEPLOYMENT.cache, tls=False)
    )
    assert "require-secure-transport = OFF" in render.mariadb(plain, PORTS, LAYOUT).text
    assert "tls-port 1002" in render.redis(DEPLOYMENT, PORTS, LAYOUT).text
    assert "port 1002" in render.redis(plain, PORTS, LAYOUT).text
    assert "tls-port" not in render.redis(plain, PORTS, LAYOUT).text


def test_php_workers_follow_the_tasks_cpu():
    assert "pm.max_children = 8" in render.php_fpm(DEPLOYMENT, PORTS, LAYOUT, 1.0, "0" * 64).text
    assert "pm.max_children = 16" in render.php_fpm(DEPLOYMENT, PORTS, LAYOUT, 2.0, "0" * 64).text
    assert "clear_env = no" in render.php_fpm(DEPLOYMENT, PORTS, LAYOUT, 1.0, "0" * 64).text


def test_deployed_endpoints_are_pointed_at_loopback_ports(settings, tmp_path):
    plane = DataPlane(Paths(tmp_path), settings.get("staging"), {})
    env = plane._application_environment(DEPLOYMENT)
    local = plane._localised(env, plane._endpoint_map(DEPLOYMENT, PORTS), DEPLOYMENT)
    assert local["WORDPRESS_DB_HOST"] == "127.0.0.1:1001"  # host:port, as WordPress reads it
    assert (local["WP_REDIS_HOST"], local["WP_REDIS_PORT"]) == ("127.0.0.1", "1002")  # sibling port rewritten
    assert local["WP_HOME"] == "https://www.staging.example"
    assert local["WORDPRESS_DB_PASSWORD"] == PASSWORD


def test_a_task_definition_without_what_wordpress_needs_is_refused_by_name(settings, tmp_path):
    plane = DataPlane(Paths(tmp_path), settings.get("staging"), {})
    broken = replace(
        DEPLOYMENT,
        task=replace(
            DEPLOYMENT.task,
            secrets={
                k: v
                for k, v in DEPLOYMENT.task.secrets.items()
                if k not in ("WORDPRESS_DB_PASSWORD", "WORDPRESS_NONCE_SALT")
            },
        ),
    )
    with pytest.raises(DataPlaneError, match="does not give WordPress WORDPRESS_DB_PASSWORD, WORDPRESS_NONCE_SALT"):
        plane._application_environment(broken)


def test_only_workspaces_with_a_site_get_a_data_plane(settings):
    # dr runs production's site without a distribution of its own (a replica).
    assert [ws.name for ws in dataplane_workspaces(settings.workspaces.values())] == ["production", "staging", "dr"]


def test_a_missing_debian_package_is_one_line_saying_how_to_install_it(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr("surgepress.dataplane.packages.PROGRAMS", {"nginx": ("nginx", ("/nonexistent/nginx",))})
    with pytest.raises(MissingPackage) as caught:
        find_toolchain()
    message = str(caught.value)
    assert "\n" not in message
    assert "missing Debian package(s) nginx" in message and "apt-get install -y nginx" in message


def test_setup_reads_the_package_list_the_data_plane_looks_for():
    # setup.sh runs packages.py as a script (with the system python, before any venv exists).
    printed = subprocess.run(
        ["python3", str(REPO / "surgepress" / "dataplane" / "packages.py")],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": os.environ["PATH"]},
    ).stdout
    assert printed.split() == all_packages()
    assert "python3 surgepress/dataplane/packages.py" in (REPO / "scripts" / "setup.sh").read_text()


def test_secret_references_and_object_urls():
    assert parameter_name("arn:aws:ssm:eu-west-1:1:parameter/surgepress/staging/x") == "/surgepress/staging/x"
    assert parameter_name("/surgepress/staging/x") == "/surgepress/staging/x"
    assert (
        object_url("http://127.0.0.1:5", "b", "eu-west-1", "/wp-content/uploads/a%20b.jpg?ver=1")
        == "http://127.0.0.1:5/b/wp-content/uploads/a%20b.jpg"
    )
    assert object_url(None, "b", "eu-west-1", "/k") == "https://b.s3.eu-west-1.amazonaws.com/k"


def test_security_headers_from_a_response_headers_policy():
    headers = security_headers(
        {
            "SecurityHeadersConfig": {
                "StrictTransportSecurity": {
                    "AccessControlMaxAgeSec": 63072000,
                    "IncludeSubdomains": True,
                    "Preload": True,
                },
                "ContentTypeOptions": {"Override": True},
                "FrameOptions": {"FrameOption": "SAMEORIGIN"},
                "ReferrerPolicy": {"ReferrerPolicy": "strict-origin-when-cross-origin"},
            }
        }
    )
    assert headers == {
        "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "SAMEORIGIN",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }


def test_policy_conditions_are_judged_like_iam():
    tls_only = {"Bool": {"aws:SecureTransport": "false"}}
    assert condition_holds(tls_only, {"aws:SecureTransport": "true"}) is False
    assert condition_holds(tls_only, {"aws:SecureTransport": "false"}) is True
    assert condition_holds({"StringEquals": {"aws:SourceArn": "arn:x"}}, {}) is False  # missing key: no match
    assert condition_holds({"StringEqualsIfExists": {"aws:SourceArn": "arn:x"}}, {}) is True
    assert (
        condition_holds(
            {"ArnLike": {"aws:SourceArn": "arn:aws:cloudfront::1:distribution/*"}},
            {"aws:SourceArn": "arn:aws:cloudfront::1:distribution/E1"},
        )
        is True
    )
    assert condition_holds({"NumericLessThan": {"s3:max-keys": "10"}}, {}) is None  # not judged here


@pytest.mark.parametrize("operator", ["StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"])
def test_a_negated_operator_holds_when_its_key_is_absent(operator):
    # IAM: a key missing from the request context matches no value, so "not equal/like" holds.
    condition = {operator: {"aws:PrincipalServiceName": "config.amazonaws.com"}}
    assert condition_holds(condition, {}) is True
    assert condition_holds(condition, {"aws:PrincipalServiceName": "config.amazonaws.com"}) is False
    assert condition_holds(condition, {"aws:PrincipalServiceName": "cloudtrail.amazonaws.com"}) is True


def test_condition_keys_match_whatever_their_case_and_values_keep_theirs():
    assert condition_holds({"Bool": {"AWS:SecureTransport": "false"}}, {"aws:SecureTransport": "false"}) is True
    assert condition_holds({"StringEquals": {"aws:sourceaccount": "1"}}, {"aws:SourceAccount": "1"}) is True
    assert condition_holds({"StringEquals": {"aws:SourceArn": "ARN:X"}}, {"aws:SourceArn": "arn:x"}) is False


def test_load_summary_per_phase():
    samples = [
        {
            "t": i / 10,
            "phase": "steady",
            "name": "/",
            "ms": float(i),
            "ok": i != 3,
            "cache": "Hit from cloudfront" if i % 2 else "Miss from cloudfront",
        }
        for i in range(1, 11)
    ]
    samples += [{"t": 5.0, "phase": "surge", "name": "/feed/", "ms": 1.0, "ok": True, "cache": ""}]
    (steady,) = summarise(samples, ("steady",))
    assert steady.requests == 10 and steady.seconds == 0.9 and steady.rps == round(10 / 0.9, 1)
    assert (steady.p50_ms, steady.p95_ms, steady.p99_ms) == (5.0, 10.0, 10.0)
    assert steady.error_rate == 0.1 and steady.edge_hit_ratio == 0.5
    assert (steady.origin_p50_ms, steady.origin_p95_ms) == (6.0, 10.0)  # the misses: 2, 4, 6, 8, 10 ms
    assert percentile([], 0.5) == 0.0


def living_in_group(group: int) -> list[int]:
    """Processes of a process group that are not zombies (this sandbox's init may not reap them)."""
    pids = subprocess.run(["pgrep", "-g", str(group)], capture_output=True, text=True).stdout.split()
    return [
        int(p)
        for p in pids
        if Path(f"/proc/{p}/stat").exists() and Path(f"/proc/{p}/stat").read_text().split(") ", 1)[-1][:1] != "Z"
    ]


def test_processes_are_found_by_pid_and_marker_and_stopped_with_their_children(tmp_path):
    marker = f"surgepress-test-{free_port()}"
    proc = spawn(
        [sys.executable, "-c", "import subprocess, time; subprocess.Popen(['sleep', '60']); time.sleep(60)", marker],
        log=tmp_path / "log",
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )
    time.sleep(0.3)
    assert len(living_in_group(proc.pid)) == 2
    assert is_running(proc.pid, marker) and not is_running(proc.pid, "some-other-marker")
    assert stop(proc.pid, marker, timeout=5)
    proc.wait(timeout=5)
    assert not is_running(proc.pid, marker)
    assert living_in_group(proc.pid) == []
    assert not stop(proc.pid, marker)  # gone: nothing to stop


def test_every_database_logs_its_writes_with_gtids_under_its_own_server_id():
    text = render.mariadb(DEPLOYMENT, PORTS, LAYOUT).text
    assert f"server-id = {render.server_id('staging')}" in text and "log-slave-updates = ON" in text
    assert "gtid-strict-mode = ON" in text and "skip-slave-start = ON" in text
    assert render.server_id("production") != render.server_id("dr")
    assert f"ssl-ca = {LAYOUT.ca}" in text and LAYOUT.ca == Path("/build/dataplane/ca/ca.pem")  # one CA for all


def test_the_edge_sends_to_the_primary_answer_and_keeps_the_secondary_as_backup():
    origins = (
        render.OriginServer(2001, "dr eu-central-1 PRIMARY", 120),
        render.OriginServer(1006, "staging eu-west-1 SECONDARY", 120),
    )
    text = render.edge(DEPLOYMENT, PORTS, LAYOUT, origins).text
    upstream = text.split("upstream origin_lb {", 1)[1].split("}", 1)[0]
    assert upstream.index("127.0.0.1:2001 max_fails=1 fail_timeout=120s;") < upstream.index("127.0.0.1:1006 backup;")
    assert "proxy_next_upstream error timeout http_502 http_503 http_504;" in text
    assert "http_500" not in text  # an app whose database died keeps the traffic, as behind Route 53
    alone = render.edge(DEPLOYMENT, PORTS, LAYOUT).text.split("upstream origin_lb {", 1)[1].split("}", 1)[0]
    assert "127.0.0.1:1006" in alone and "backup" not in alone

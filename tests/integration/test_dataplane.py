"""The data plane the deploy started: its services checked with pytest-testinfra, and the
site checked over HTTP(S) through the edge the way a reader (and CloudFront) reaches it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import uuid

import pytest
import requests
import testinfra

from tests.conftest import client, session_in

pytestmark = pytest.mark.integration

SITES = ("staging", "production")
SERVICES = ("database", "cache", "app", "web", "lb", "s3-origin", "edge")
HTTP_TIMEOUT_S = 15


@pytest.fixture(scope="session")
def host():
    return testinfra.get_host("local://")


class Site:
    """One environment's running data plane, read from its recorded state."""

    def __init__(self, build, name: str):
        self.name = name
        self.root = build / "dataplane" / name
        self.state = json.loads((self.root / "state.json").read_text())
        self.ports = self.state["ports"]
        self.ca = str(self.root / "tls" / "ca.pem")
        self.domain = self.state["site_domain"]

    def edge(self, path: str, *, session=None, **kwargs) -> requests.Response:
        http = session or requests
        headers = {"Host": self.domain, **kwargs.pop("headers", {})}
        return http.request(kwargs.pop("method", "GET"), f"https://127.0.0.1:{self.ports['edge_https']}{path}",
                            headers=headers, verify=self.ca, allow_redirects=False, timeout=HTTP_TIMEOUT_S, **kwargs)

    def redis_stats(self) -> dict[str, int]:
        env = {**os.environ, "REDISCLI_AUTH": (self.root / "cache" / "secrets" / "auth.conf").read_text().split()[1]}
        out = subprocess.run(["redis-cli", "--tls", "--cacert", self.ca, "-h", "127.0.0.1", "-p",
                              str(self.ports["cache"]), "info", "stats"], env=env, capture_output=True, text=True,
                             check=True).stdout
        return {k: int(v) for k, v in re.findall(r"^(keyspace_\w+):(\d+)", out, re.M)}


@pytest.fixture(scope="session")
def sites(cli, deployed) -> dict[str, Site]:
    return {name: Site(cli.build, name) for name in SITES}


def test_deploy_started_each_sites_data_plane(deployed):
    for name in SITES:
        assert re.search(rf"dataplane {name}: 7 started, 0 kept running", deployed.stdout), name
        assert f"dataplane {name}: WordPress installed; admin surgepress-admin" in deployed.stdout


@pytest.mark.parametrize("name", SITES)
def test_services_run_listen_on_loopback_and_keep_secrets_private(host, sites, name):
    site = sites[name]
    for service, record in site.state["services"].items():
        assert host.process.get(pid=record["pid"]), service
        socket = host.socket(f"tcp://127.0.0.1:{record['port']}")
        assert socket.is_listening, service
        assert not host.socket(f"tcp://0.0.0.0:{record['port']}").is_listening, service
    for config in ("database/my.cnf", "cache/redis.conf", "app/php-fpm.conf", "web/nginx.conf", "lb/nginx.conf",
                   "edge/nginx.conf"):
        file = host.file(str(site.root / config))
        assert file.exists and file.mode & 0o022 == 0, config
    for secret in ("cache/secrets/auth.conf", "lb/secrets/rules.conf", "edge/secrets/origin-headers.conf",
                   "admin-password", "tls/edge.key", "tls/ca.key", "state.json"):
        assert host.file(str(site.root / secret)).mode == 0o600, secret
    assert host.file(str(site.root / "wordpress" / "wp-config.php")).contains("getenv_docker")
    assert not host.file(str(site.root / "wordpress" / "wp-config.php")).contains(site.state["cluster"])


def test_status_lists_every_service_with_its_port_and_health(cli, deployed):
    result = cli("dataplane", "status")
    assert result.returncode == 0, result.stdout + result.stderr
    for name in SITES:
        block = result.stdout.split(f"{name}:\n", 1)[1]
        for service in SERVICES:
            assert re.search(rf"^  {service}\s+running\s+pid \d+\s+127\.0\.0\.1:\d+", block, re.M), (name, service)
        assert re.search(r"edge\s+running.*site 200", block) and re.search(r"lb\s+running.*origin secret 403", block)


def test_the_database_is_the_clusters_with_tls_required(sites, emulator_info, outputs, settings, host):
    site = sites["staging"]
    ws = settings.get("staging")
    ssm = client(emulator_info, session_in(emulator_info, ws.account_id, ws.region), "ssm")
    password = ssm.get_parameter(Name=outputs["staging"]["secret_parameter_names"]["db_master_password"],
                                 WithDecryption=True)["Parameter"]["Value"]
    base = ["mariadb", "-h", "127.0.0.1", "-P", str(site.ports["database"]), "-u",
            outputs["staging"]["cluster_master_username"], outputs["staging"]["cluster_database_name"]]
    env = {**os.environ, "MYSQL_PWD": password}
    plain = subprocess.run([*base, "--skip-ssl", "-e", "select 1"], env=env, capture_output=True, text=True)
    assert plain.returncode != 0  # refused without TLS (require_secure_transport)
    tls = subprocess.run([*base, "--ssl-ca", site.ca, "-N", "-e", "select count(*) from wp_posts "
                          "where post_status='publish' and post_type='post'"], env=env, capture_output=True, text=True)
    assert tls.returncode == 0, tls.stderr
    assert int(tls.stdout.strip()) >= 30


@pytest.mark.parametrize("name", SITES)
def test_front_page_is_served_and_then_cached_at_the_edge(sites, name):
    site = sites[name]
    path = f"/?edge-probe={uuid.uuid4().hex}"  # query strings are in the pages' cache key
    first, second = site.edge(path), site.edge(path)
    assert first.status_code == 200 and "<html" in first.text
    assert first.headers["X-Cache"] == "Miss from cloudfront"
    assert second.headers["X-Cache"] == "Hit from cloudfront"
    assert second.headers["Strict-Transport-Security"].startswith("max-age=")
    assert second.headers["X-Content-Type-Options"] == "nosniff"


def test_login_and_admin_are_never_cached(sites):
    site = sites["staging"]
    for path in ("/wp-login.php", "/wp-admin/", "/wp-login.php", "/wp-admin/"):
        response = site.edge(path)
        assert response.status_code in (200, 302), path
        assert response.headers["X-Cache"] == "Miss from cloudfront", path


def test_logged_in_readers_bypass_the_shared_cache(sites):
    site = sites["staging"]
    assert site.edge("/").status_code == 200 and site.edge("/").headers["X-Cache"] == "Hit from cloudfront"
    reader = requests.Session()
    login = site.edge("/wp-login.php", session=reader, method="POST", data={
        "log": site.state["admin_user"], "pwd": (site.root / "admin-password").read_text().strip(),
        "testcookie": "1"}, cookies={"wordpress_test_cookie": "WP Cookie check"})
    assert login.status_code == 302, login.text[:500]
    assert any(c.name.startswith("wordpress_logged_in_") for c in reader.cookies)
    for _ in range(2):
        page = site.edge("/", session=reader)
        assert page.status_code == 200
        assert page.headers["X-Cache"] == "Miss from cloudfront"
        assert "logged-in" in page.text  # WordPress's body class for a signed-in reader


def test_http_redirects_to_https_at_the_edge_and_the_load_balancer(sites):
    site = sites["staging"]
    for port, https in ((site.ports["edge_http"], site.ports["edge_https"]),
                        (site.ports["lb_http"], site.ports["lb_https"])):
        response = requests.get(f"http://127.0.0.1:{port}/news?a=1", headers={"Host": site.domain},
                                allow_redirects=False, timeout=HTTP_TIMEOUT_S)
        assert response.status_code == 301
        assert response.headers["Location"] == f"https://{site.domain}:{https}/news?a=1"


def test_the_load_balancer_refuses_requests_without_the_origin_secret(sites, emulator_info, outputs, settings):
    site = sites["production"]
    ws = settings.get("production")
    ssm = client(emulator_info, session_in(emulator_info, ws.account_id, ws.region), "ssm")
    secret = ssm.get_parameter(Name=outputs["production"]["secret_parameter_names"]["origin_secret"],
                               WithDecryption=True)["Parameter"]["Value"]
    url = f"https://127.0.0.1:{site.ports['lb_https']}/"
    assert requests.get(url, verify=site.ca, timeout=HTTP_TIMEOUT_S).status_code == 403
    assert requests.get(url, verify=site.ca, headers={"X-Origin-Verify": "guess"},
                        timeout=HTTP_TIMEOUT_S).status_code == 403
    allowed = requests.get(url, verify=site.ca, headers={"X-Origin-Verify": secret}, allow_redirects=False,
                           timeout=HTTP_TIMEOUT_S)
    assert allowed.status_code == 200


def test_a_media_object_in_the_bucket_is_served_through_the_edge(sites, emulator_info, outputs, settings):
    site = sites["staging"]
    ws = settings.get("staging")
    s3 = client(emulator_info, session_in(emulator_info, ws.account_id, ws.region), "s3")
    key = f"wp-content/uploads/2026/11/{uuid.uuid4().hex}.txt"
    s3.put_object(Bucket=outputs["staging"]["media_bucket_name"], Key=key, Body=b"breaking", ContentType="text/plain")
    first, second = site.edge("/" + key), site.edge("/" + key)
    assert (first.status_code, first.content, first.headers["Content-Type"]) == (200, b"breaking", "text/plain")
    assert second.headers["X-Cache"] == "Hit from cloudfront"
    assert site.edge("/wp-content/uploads/missing.jpg").status_code in (403, 404)


def test_wordpress_uses_redis_as_its_object_cache(sites):
    site = sites["production"]
    before = site.redis_stats()
    for _ in range(3):
        assert site.edge("/wp-login.php").status_code == 200  # never cached at the edge: WordPress runs
    after = site.redis_stats()
    assert after["keyspace_hits"] > before["keyspace_hits"]


def test_up_again_keeps_everything_and_a_dead_service_is_reported_then_restarted(cli, sites):
    site = sites["staging"]
    again = cli("dataplane", "up", "staging")
    assert again.returncode == 0 and "dataplane staging: 0 started, 7 kept running" in again.stdout, again.stdout
    os.kill(site.state["services"]["cache"]["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = cli("dataplane", "status", "staging")
        if status.returncode == 3:
            break
        time.sleep(0.2)
    assert status.returncode == 3
    assert re.search(r"cache\s+dead\s+pid \d+.*process gone", status.stdout), status.stdout
    healed = cli("dataplane", "up", "staging")
    assert healed.returncode == 0 and "dataplane staging: 1 started, 6 kept running" in healed.stdout, healed.stdout
    assert cli("dataplane", "status", "staging").returncode == 0
    assert site.edge(f"/?after-restart={uuid.uuid4().hex}").status_code == 200

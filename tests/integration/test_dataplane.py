"""Stage verify, local target: the data plane the deploy started. Its services checked with
pytest-testinfra, the database and cache as deployed, logged-in readers, Redis as WordPress's
object cache, and `dataplane up|status` on a running and a broken data plane. (The site's
HTTP checks, common to both targets, are in test_verify_http.py.)"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import uuid

import pytest
import requests
import testinfra

from surgepress.harness import wait_for
from surgepress.harness.http_checks import SiteEndpoint

pytestmark = [pytest.mark.integration, pytest.mark.stage("verify")]

SITES = ("staging", "production")
SERVICES = ("database", "cache", "app", "web", "lb", "s3-origin", "edge")
STATUS_TIMEOUT_S = 10
STATUS_POLL_S = 0.2


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
        self.ca = str(self.root.parent / "ca" / "ca.pem")  # one CA for every environment
        self.endpoint = SiteEndpoint(
            https_url=f"https://127.0.0.1:{self.ports['edge_https']}",
            http_url=f"http://127.0.0.1:{self.ports['edge_http']}",
            host=self.state["site_domain"],
            ca_file=self.ca,
        )

    def edge(self, path: str, **kwargs) -> requests.Response:
        return self.endpoint.get(path, **kwargs)

    def redis_stats(self) -> dict[str, int]:
        env = {**os.environ, "REDISCLI_AUTH": (self.root / "cache" / "secrets" / "auth.conf").read_text().split()[1]}
        out = subprocess.run(
            [
                "redis-cli",
                "--tls",
                "--cacert",
                self.ca,
                "-h",
                "127.0.0.1",
                "-p",
                str(self.ports["cache"]),
                "info",
                "stats",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return {k: int(v) for k, v in re.findall(r"^(keyspace_\w+):(\d+)", out, re.M)}


@pytest.fixture(scope="session")
def sites(deployed, local_only) -> dict[str, Site]:
    return {name: Site(deployed.build, name) for name in SITES if name in deployed.state.workspaces}


@pytest.mark.parametrize("name", SITES)
def test_services_run_listen_on_loopback_and_keep_secrets_private(host, sites, name):
    site = sites[name]
    for service, record in site.state["services"].items():
        assert host.process.get(pid=record["pid"]), service
        socket = host.socket(f"tcp://127.0.0.1:{record['port']}")
        assert socket.is_listening, service
        assert not host.socket(f"tcp://0.0.0.0:{record['port']}").is_listening, service
    for config in (
        "database/my.cnf",
        "cache/redis.conf",
        "app/php-fpm.conf",
        "web/nginx.conf",
        "lb/nginx.conf",
        "edge/nginx.conf",
    ):
        file = host.file(str(site.root / config))
        assert file.exists and file.mode & 0o022 == 0, config
    for secret in (
        "cache/secrets/auth.conf",
        "lb/secrets/rules.conf",
        "edge/secrets/origin-headers.conf",
        "admin-password",
        "tls/edge.key",
        "state.json",
        "../ca/ca.key",
        "../ca/replication-password",
    ):
        assert host.file(str(site.root / secret)).mode == 0o600, secret
    assert host.file(str(site.root / "wordpress" / "wp-config.php")).contains("getenv_docker")
    assert not host.file(str(site.root / "wordpress" / "wp-config.php")).contains(site.state["cluster"])


def test_status_lists_every_service_with_its_port_and_health(deployed, sites):
    result = deployed.cli("dataplane", "status")
    assert result.returncode == 0, result.stdout + result.stderr
    for name in sites:
        block = result.stdout.split(f"{name}:\n", 1)[1]
        for service in SERVICES:
            assert re.search(rf"^  {service}\s+running\s+pid \d+\s+127\.0\.0\.1:\d+", block, re.M), (name, service)
        assert re.search(r"edge\s+running.*site 200", block) and re.search(r"lb\s+running.*origin secret 403", block)
        # What the image fetches at build time and the data plane does not have is said, not hidden.
        assert "  unlike the image: wp-content/plugins/s3-uploads: S3-Uploads, fetched and checked" in block


def test_the_database_is_the_clusters_with_tls_required(sites, clients, outputs):
    site = sites["staging"]
    ssm = clients("staging").get("ssm")
    password = ssm.get_parameter(
        Name=outputs["staging"]["secret_parameter_names"]["db_master_password"], WithDecryption=True
    )["Parameter"]["Value"]
    base = [
        "mariadb",
        "-h",
        "127.0.0.1",
        "-P",
        str(site.ports["database"]),
        "-u",
        outputs["staging"]["cluster_master_username"],
        outputs["staging"]["cluster_database_name"],
    ]
    env = {**os.environ, "MYSQL_PWD": password}
    plain = subprocess.run([*base, "--skip-ssl", "-e", "select 1"], env=env, capture_output=True, text=True)
    assert plain.returncode != 0  # refused without TLS (require_secure_transport)
    tls = subprocess.run(
        [
            *base,
            "--ssl-ca",
            site.ca,
            "-N",
            "-e",
            "select count(*) from wp_posts where post_status='publish' and post_type='post'",
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert tls.returncode == 0, tls.stderr
    assert int(tls.stdout.strip()) >= 30


def test_logged_in_readers_bypass_the_shared_cache(sites):
    site = sites["staging"]
    assert site.edge("/").status_code == 200 and site.edge("/").headers["X-Cache"] == "Hit from cloudfront"
    reader = requests.Session()
    login = site.edge(
        "/wp-login.php",
        session=reader,
        method="POST",
        data={
            "log": site.state["admin_user"],
            "pwd": (site.root / "admin-password").read_text().strip(),
            "testcookie": "1",
        },
        cookies={"wordpress_test_cookie": "WP Cookie check"},
    )
    assert login.status_code == 302, login.text[:500]
    assert any(c.name.startswith("wordpress_logged_in_") for c in reader.cookies)
    for _ in range(2):
        page = site.edge("/", session=reader)
        assert page.status_code == 200
        assert page.headers["X-Cache"] == "Miss from cloudfront"
        assert "logged-in" in page.text  # WordPress's body class for a signed-in reader


def test_wordpress_uses_redis_as_its_object_cache(sites):
    site = sites["production"]
    before = site.redis_stats()
    for _ in range(3):
        assert site.edge("/wp-login.php").status_code == 200  # never cached at the edge: WordPress runs
    after = site.redis_stats()
    assert after["keyspace_hits"] > before["keyspace_hits"]


def test_up_again_keeps_everything_and_a_dead_service_is_reported_then_restarted(deployed, sites):
    site = sites["staging"]
    cli = deployed.cli
    again = cli("dataplane", "up", "staging")
    assert again.returncode == 0 and "dataplane staging: 0 started, 7 kept running" in again.stdout, again.stdout
    os.kill(site.state["services"]["cache"]["pid"], signal.SIGKILL)
    status = wait_for(
        "`dataplane status` to report the killed cache",
        lambda: cli("dataplane", "status", "staging"),
        until=lambda result: result.returncode == 3,
        timeout_s=STATUS_TIMEOUT_S,
        pause_s=STATUS_POLL_S,
    )
    assert re.search(r"cache\s+dead\s+pid \d+.*process gone", status.stdout), status.stdout
    healed = cli("dataplane", "up", "staging")
    assert healed.returncode == 0 and "dataplane staging: 1 started, 6 kept running" in healed.stdout, healed.stdout
    assert cli("dataplane", "status", "staging").returncode == 0
    assert site.edge(f"/?after-restart={uuid.uuid4().hex}").status_code == 200

"""Stage verify, over HTTP(S) as a reader gets the site: on aws its public URL, on local the
data plane's edge (127.0.0.1, the site's Host header, the local CA)."""

from __future__ import annotations

import json
import uuid

import pytest

from surgepress.harness import http_checks as checks
from surgepress.harness.aws_checks import ORIGIN_HEADER
from surgepress.harness.http_checks import CheckFailed, NotApplicable, SiteEndpoint

pytestmark = [pytest.mark.integration, pytest.mark.stage("verify")]

SITES = ("staging", "production")


def endpoint(deployed, outputs, name: str) -> tuple[SiteEndpoint, str, str | None]:
    """(the site, its origin's HTTPS URL, the CA file to trust)."""
    if name not in deployed.state.workspaces:
        pytest.skip(f"{name} is not deployed in this run")
    if not deployed.local:
        site_url = outputs[name]["site_url"]
        ws = deployed.settings.get(name)
        return (
            SiteEndpoint(https_url=site_url, http_url=site_url.replace("https://", "http://", 1)),
            f"https://{ws.dns.origin_host}.{ws.dns.zone_name}/",
            None,
        )
    state = json.loads((deployed.build / "dataplane" / name / "state.json").read_text())
    ports, ca = state["ports"], str(deployed.build / "dataplane" / "ca" / "ca.pem")
    site = SiteEndpoint(
        https_url=f"https://127.0.0.1:{ports['edge_https']}",
        http_url=f"http://127.0.0.1:{ports['edge_http']}",
        host=state["site_domain"],
        ca_file=ca,
    )
    return site, f"https://127.0.0.1:{ports['lb_https']}/", ca


def run(record_property, check, *args) -> None:
    try:
        record_property("detail", check(*args))
    except CheckFailed as failed:
        pytest.fail(str(failed), pytrace=False)
    except NotApplicable as why:
        pytest.skip(str(why))


@pytest.mark.parametrize("name", SITES)
def test_front_page(deployed, outputs, name, record_property):
    run(record_property, checks.front_page, endpoint(deployed, outputs, name)[0])


@pytest.mark.parametrize("name", SITES)
def test_the_site_runs_the_image_its_task_definition_names(deployed, outputs, clients, name, record_property):
    site = endpoint(deployed, outputs, name)[0]
    ecs = clients(name).get("ecs")
    task = ecs.describe_task_definition(taskDefinition=outputs[name]["task_definition_family"])["taskDefinition"]
    (container,) = task["containerDefinitions"]
    tag = container["image"].rsplit(":", 1)[1]
    assert {e["name"]: e["value"] for e in container["environment"]}["SURGEPRESS_IMAGE_TAG"] == tag
    run(record_property, checks.runs_the_image, site, tag)


@pytest.mark.parametrize("name", SITES)
def test_pages_are_cached_at_the_edge(deployed, outputs, name, record_property):
    run(
        record_property,
        checks.cached_on_repeat,
        endpoint(deployed, outputs, name)[0],
        f"/?harness-probe={uuid.uuid4().hex}",
    )


@pytest.mark.parametrize("path", ["/wp-login.php", "/wp-admin/"])
@pytest.mark.parametrize("name", SITES)
def test_login_and_admin_are_never_cached(deployed, outputs, name, path, record_property):
    run(record_property, checks.never_cached, endpoint(deployed, outputs, name)[0], path)


@pytest.mark.parametrize("name", SITES)
def test_http_redirects_to_https(deployed, outputs, name, record_property):
    run(record_property, checks.redirects_to_https, endpoint(deployed, outputs, name)[0], "/news?a=1")


@pytest.mark.parametrize("name", SITES)
def test_tls_is_1_2_or_newer_with_a_valid_chain(deployed, outputs, name, record_property):
    site = endpoint(deployed, outputs, name)[0]
    run(record_property, checks.tls_version_and_chain, site)
    run(record_property, checks.old_tls_refused, site)


@pytest.mark.parametrize("name", SITES)
def test_security_headers(deployed, outputs, name, record_property):
    run(record_property, checks.security_headers, endpoint(deployed, outputs, name)[0])


@pytest.mark.parametrize("name", SITES)
def test_a_media_object_is_served_through_the_cdn(deployed, outputs, clients, name, record_property):
    site = endpoint(deployed, outputs, name)[0]
    key = f"wp-content/uploads/harness/{uuid.uuid4().hex}.txt"
    body = f"harness run {deployed.state.run_id}".encode()
    s3 = clients(name).get("s3")
    s3.put_object(Bucket=outputs[name]["media_bucket_name"], Key=key, Body=body, ContentType="text/plain")
    try:
        run(record_property, checks.serves_object, site, "/" + key, body)
    finally:
        s3.delete_object(Bucket=outputs[name]["media_bucket_name"], Key=key)


@pytest.mark.parametrize("name", SITES)
def test_the_origin_refuses_requests_without_the_origin_secret(deployed, outputs, name, record_property):
    _, origin, ca = endpoint(deployed, outputs, name)
    run(record_property, checks.refuses_without_header, origin, ca, ORIGIN_HEADER)

"""The harness's HTTP/TLS checks against a real local HTTPS server (real sockets, a certificate
from a throwaway CA, CDN-like cache headers): each check passes where it should and fails,
saying why, where it should not."""

from __future__ import annotations

import shutil
import ssl
import threading
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from surgepress.dataplane.tls import LocalCa
from surgepress.harness import http_checks as checks
from surgepress.harness.http_checks import CheckFailed, SiteEndpoint

pytestmark = pytest.mark.unit

SITE = "www.site.test"
GOOD_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


class Handler(BaseHTTPRequestHandler):
    """/ and /cached: a miss then hits; /login and /always-hit as named; /media; /weak-headers;
    /origin: 403 unless X-Origin-Verify is right. Plain HTTP redirects to HTTPS."""

    counts: dict[str, int] = {}
    https_port = 0

    def log_message(self, *args) -> None:
        pass

    def answer(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        if not isinstance(self.connection, ssl.SSLSocket):
            return self.answer(301, headers={"Location": f"https://{SITE}:{self.https_port}{self.path}"})
        seen = self.counts[self.path] = self.counts.get(self.path, 0) + 1
        page = b"<html><body>news</body></html>"
        if self.path in ("/", "/cached"):
            cache = "Miss from cloudfront" if seen == 1 else "Hit from cloudfront"
            return self.answer(200, page, {"X-Cache": cache, **GOOD_HEADERS})
        if self.path == "/login":
            return self.answer(200, page, {"X-Cache": "Miss from cloudfront", **GOOD_HEADERS})
        if self.path == "/always-hit":
            return self.answer(200, page, {"X-Cache": "Hit from cloudfront"})
        if self.path == "/no-cdn":
            return self.answer(200, page)
        if self.path == "/weak-headers":
            return self.answer(
                200,
                page,
                {
                    "X-Cache": "Miss from cloudfront",
                    "X-Content-Type-Options": "nosniff",
                    "Strict-Transport-Security": "max-age=300",
                    "Referrer-Policy": "no-referrer",
                },
            )
        if self.path == "/media/a.txt":
            return self.answer(200, b"breaking", {"X-Cache": "Miss from cloudfront"})
        if self.path == "/origin":
            ok = self.headers.get("X-Origin-Verify") == "right"
            return self.answer(200 if ok else 403)
        if self.path == "/origin-open":
            return self.answer(200)
        return self.answer(404, headers={"X-Cache": "Miss from cloudfront"})


def _serve(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


def _server_context(cert, key, *, allow_old: bool = False) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    if allow_old:
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
    else:
        context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    ca = LocalCa(directory / "ca", shutil.which("openssl")).ensure()
    cert, key = ca.issue(directory, "site", [SITE])
    other = LocalCa(directory / "other-ca", shutil.which("openssl")).ensure()
    return {"ca": str(ca.cert), "other_ca": str(other.cert), "cert": cert, "key": key}


def _site(pki, *, allow_old: bool = False):
    Handler.counts = {}
    https = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    https.socket = _server_context(pki["cert"], pki["key"], allow_old=allow_old).wrap_socket(
        https.socket, server_side=True
    )
    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Handler.https_port = https.server_address[1]
    for server in (https, http):
        _serve(server)
    endpoint = SiteEndpoint(
        https_url=f"https://127.0.0.1:{https.server_address[1]}",
        http_url=f"http://127.0.0.1:{http.server_address[1]}",
        host=SITE,
        ca_file=pki["ca"],
    )
    return endpoint, (https, http)


@pytest.fixture
def site(pki):
    endpoint, servers = _site(pki)
    yield endpoint
    for server in servers:
        server.shutdown()
        server.server_close()


def test_front_page_cache_and_never_cached_paths(site):
    assert checks.front_page(site).startswith("GET / 200")
    assert "'Miss from cloudfront' then 'Hit from cloudfront'" in checks.cached_on_repeat(site, "/cached")
    assert checks.never_cached(site, "/login") == "GET /login x2: Miss from cloudfront"


def test_cache_checks_fail_with_what_they_saw(site):
    with pytest.raises(CheckFailed, match=r"GET /always-hit was served from the cache \('Hit from cloudfront'\)"):
        checks.never_cached(site, "/always-hit")
    with pytest.raises(CheckFailed, match="'Miss from cloudfront' then 'Miss from cloudfront', expected a hit"):
        checks.cached_on_repeat(site, "/login")
    with pytest.raises(CheckFailed, match="no X-Cache header"):
        checks.never_cached(site, "/no-cdn")
    with pytest.raises(CheckFailed, match="GET / answered 404"):
        checks.front_page(SiteEndpoint(site.https_url + "/nowhere", site.http_url, site.host, site.ca_file))


def test_redirect_tls_and_headers(site):
    assert (
        checks.redirects_to_https(site, "/a?b=1")
        == f"http GET /a?b=1 -> 301 https://{SITE}:{site.https_url.rsplit(':', 1)[1]}/a?b=1"
    )
    assert checks.tls_version_and_chain(site).startswith(("TLSv1.3", "TLSv1.2"))
    assert checks.old_tls_refused(site).startswith("TLS 1.0/1.1-only client refused")
    assert checks.security_headers(site).startswith("HSTS 'max-age=31536000")


def test_tls_and_header_checks_fail_where_they_should(site, pki):
    untrusted = SiteEndpoint(site.https_url, site.http_url, site.host, pki["other_ca"])
    with pytest.raises(CheckFailed, match="certificate not valid"):
        checks.tls_version_and_chain(untrusted)
    wrong_name = SiteEndpoint(site.https_url, site.http_url, "www.elsewhere.test", site.ca_file)
    with pytest.raises(CheckFailed, match="certificate not valid: Hostname mismatch"):
        checks.tls_version_and_chain(wrong_name)
    with pytest.raises(CheckFailed, match="max-age 300 is under a year"):
        checks.security_headers(site, "/weak-headers")
    with pytest.raises(CheckFailed, match="missing Strict-Transport-Security, X-Content-Type-Options, Referrer"):
        checks.security_headers(site, "/no-cdn")
    with pytest.raises(CheckFailed, match=r"http GET / answered 200 .*expected 301/308"):
        checks.redirects_to_https(SiteEndpoint(site.https_url, site.https_url, site.host, site.ca_file))


def test_a_server_that_still_speaks_tls_1_1_is_caught(pki):
    site, servers = _site(pki, allow_old=True)
    try:
        with pytest.raises(CheckFailed, match="a TLS 1.1-only client was served with TLSv1.1"):
            checks.old_tls_refused(site)
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def test_objects_and_origin_refusal(site):
    assert checks.serves_object(site, "/media/a.txt", b"breaking").startswith("GET /media/a.txt 200, 8 bytes")
    with pytest.raises(CheckFailed, match="expected the 5-byte object"):
        checks.serves_object(site, "/media/a.txt", b"other")
    assert "403" in checks.refuses_without_header(site.https_url + "/origin", site.ca_file, "X-Origin-Verify")
    with pytest.raises(CheckFailed, match="answered 200, expected 403"):
        checks.refuses_without_header(site.https_url + "/origin-open", site.ca_file, "X-Origin-Verify")


def test_a_client_that_cannot_speak_tls_1_1_is_not_counted_as_a_refusal(site):
    # The client proves it can speak TLS 1.0/1.1 first: this machine's can (a loopback handshake).
    assert checks.old_tls_speakable(checks._old_tls_context(server=False)) is None
    # A client that can only offer TLS 1.2 fails that proof: the check is then not applicable.
    modern = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    modern.check_hostname, modern.verify_mode = False, ssl.CERT_NONE
    modern.minimum_version = ssl.TLSVersion.TLSv1_2
    assert "handshake with a TLS 1.0/1.1-only loopback server failed" in checks.old_tls_speakable(modern)
    with pytest.raises(checks.NotApplicable, match="this client cannot speak TLS 1.0/1.1"):
        checks.old_tls_refused(site, client=modern)

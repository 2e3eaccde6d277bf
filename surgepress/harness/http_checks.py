"""HTTP and TLS checks of a deployed site, the same against the local edge and a real URL.

Each check returns a one-line description of what it saw, or raises CheckFailed saying what
was wrong. A `SiteEndpoint` says where to connect and how: on AWS the public URL and the
system's CA store; on the local target 127.0.0.1 with the site's Host header and the data
plane's CA.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import tempfile
import threading
import warnings
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

HTTP_TIMEOUT_S = 15
EDGE_HITS = ("Hit", "RefreshHit")
MIN_HSTS_AGE_S = 31536000  # one year
SECURITY_HEADERS = ("Strict-Transport-Security", "X-Content-Type-Options", "Referrer-Policy")
TLS_OK = ("TLSv1.2", "TLSv1.3")


class CheckFailed(AssertionError):
    """What a check saw that it should not have."""


class NotApplicable(Exception):
    """A check that cannot be made from here, and the true reason why."""


@dataclass(frozen=True)
class SiteEndpoint:
    https_url: str  # where to connect, e.g. https://127.0.0.1:8443 or https://www.example.com
    http_url: str
    host: str = ""  # Host header and TLS server name when connecting by address
    ca_file: str | None = None  # None: the system's trust store

    @property
    def verify(self) -> str | bool:
        return self.ca_file or True

    def get(
        self, path: str, *, session: requests.Session | None = None, base: str | None = None, **kwargs
    ) -> requests.Response:
        headers = {**({"Host": self.host} if self.host else {}), **kwargs.pop("headers", {})}
        http = session or requests
        return http.request(
            kwargs.pop("method", "GET"),
            (base or self.https_url) + path,
            headers=headers,
            verify=self.verify,
            allow_redirects=False,
            timeout=HTTP_TIMEOUT_S,
            **kwargs,
        )


def is_edge_hit(x_cache: str) -> bool:
    """CloudFront's `X-Cache` (the local edge sends the same): "Hit from cloudfront", "Miss from …"."""
    return x_cache.split(" ", 1)[0] in EDGE_HITS


def _cache(response: requests.Response) -> str:
    value = response.headers.get("X-Cache")
    if value is None:
        raise CheckFailed(f"{response.url}: no X-Cache header (not answered by the CDN)")
    return value


def front_page(site: SiteEndpoint) -> str:
    response = site.get("/")
    if response.status_code != 200 or "<html" not in response.text.lower():
        raise CheckFailed(f"GET / answered {response.status_code}, {len(response.content)} bytes")
    return f"GET / 200, {len(response.content)} bytes, {_cache(response)}"


def runs_the_image(site: SiteEndpoint, tag: str) -> str:
    """The page comes from the image's WordPress (app/): its wp-config names the build (the
    tag's source digest) the task runs, and its PHP settings (expose_php off) leave out PHP's
    X-Powered-By."""
    response = site.get("/")
    served, build = response.headers.get("X-Surgepress-Build"), tag.rsplit("-", 1)[-1]
    if served != build:
        raise CheckFailed(f"GET / X-Surgepress-Build {served!r}, the task definition runs {tag!r}")
    if "X-Powered-By" in response.headers:
        powered = response.headers["X-Powered-By"]
        raise CheckFailed(f"GET / X-Powered-By {powered!r}: the image's PHP settings are not in use")
    return f"GET / X-Surgepress-Build {served} (image {tag}), no X-Powered-By"


def cached_on_repeat(site: SiteEndpoint, path: str) -> str:
    first, second = site.get(path), site.get(path)
    if second.status_code != 200:
        raise CheckFailed(f"GET {path} answered {second.status_code}")
    if not is_edge_hit(_cache(second)):
        raise CheckFailed(f"GET {path} twice: {_cache(first)!r} then {_cache(second)!r}, expected a hit")
    return f"GET {path}: {_cache(first)!r} then {_cache(second)!r}"


def never_cached(site: SiteEndpoint, path: str, repeats: int = 2) -> str:
    seen = []
    for _ in range(repeats):
        response = site.get(path)
        seen.append(_cache(response))
        if is_edge_hit(seen[-1]):
            raise CheckFailed(f"GET {path} was served from the cache ({seen[-1]!r}); it must never be")
    return f"GET {path} x{repeats}: {', '.join(sorted(set(seen)))}"


def redirects_to_https(site: SiteEndpoint, path: str = "/") -> str:
    response = site.get(path, base=site.http_url)
    location = response.headers.get("Location", "")
    if response.status_code not in (301, 308) or not location.startswith("https://"):
        raise CheckFailed(
            f"http GET {path} answered {response.status_code} Location {location!r}, expected 301/308 to https://"
        )
    return f"http GET {path} -> {response.status_code} {location}"


def tls_version_and_chain(site: SiteEndpoint) -> str:
    """The handshake verifies the chain (against the endpoint's CA) and the name; TLS >= 1.2."""
    parts = urlsplit(site.https_url)
    server_name = site.host or parts.hostname
    context = ssl.create_default_context(cafile=site.ca_file)
    try:
        with (
            socket.create_connection((parts.hostname, parts.port or 443), timeout=HTTP_TIMEOUT_S) as raw,
            context.wrap_socket(raw, server_hostname=server_name) as tls,
        ):
            version, cipher = tls.version(), (tls.cipher() or ("?",))[0]
            peer: dict[str, Any] = dict(tls.getpeercert() or {})
            subject = dict(x[0] for x in peer.get("subject", ()))
    except ssl.SSLCertVerificationError as error:
        raise CheckFailed(f"TLS to {server_name}: certificate not valid: {error.verify_message}") from None
    except (ssl.SSLError, OSError) as error:
        raise CheckFailed(f"TLS to {server_name}: {error}") from None
    if version not in TLS_OK:
        raise CheckFailed(f"TLS to {server_name}: negotiated {version}, expected TLS 1.2 or newer")
    return f"{version} {cipher}, certificate {subject.get('commonName', '?')} valid for {server_name}"


def _old_tls_context(*, server: bool) -> ssl.SSLContext:
    """A context that speaks TLS 1.0/1.1 only (NotApplicable where this Python cannot)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    if not server:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        with warnings.catch_warnings():  # offering the deprecated versions is the point of this check
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version, context.maximum_version = ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    except (ValueError, ssl.SSLError) as error:
        raise NotApplicable(f"this Python's OpenSSL cannot be set to TLS 1.0/1.1 ({error})") from None
    return context


def old_tls_speakable(client: ssl.SSLContext) -> str | None:
    """Whether `client` completes a TLS 1.0/1.1 handshake at all: against a loopback server that
    offers only those, with a throwaway self-signed certificate. None when it does, else why not
    (then a site's refusal would prove nothing)."""
    with tempfile.TemporaryDirectory() as tmp:
        key, cert = Path(tmp) / "key.pem", Path(tmp) / "cert.pem"
        try:
            made = subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
                + ["-keyout", str(key), "-out", str(cert)],
                capture_output=True,
                text=True,
            )
        except FileNotFoundError:
            return "no openssl command to make a loopback certificate to prove it with"
        if made.returncode != 0:
            return f"no loopback certificate to prove it with (openssl: {made.stderr.strip()[-200:]})"
        server = _old_tls_context(server=True)
        server.load_cert_chain(cert, key)
        with socket.create_server(("127.0.0.1", 0)) as listener:
            listener.settimeout(HTTP_TIMEOUT_S)

            def accept_one() -> None:
                with suppress(OSError), listener.accept()[0] as raw, server.wrap_socket(raw, server_side=True):
                    pass

            thread = threading.Thread(target=accept_one, daemon=True)
            thread.start()
            try:
                with (
                    socket.create_connection(listener.getsockname(), timeout=HTTP_TIMEOUT_S) as raw,
                    client.wrap_socket(raw, server_hostname="localhost") as tls,
                ):
                    spoken = tls.version()
            except (ssl.SSLError, OSError) as error:
                return f"its handshake with a TLS 1.0/1.1-only loopback server failed ({error})"
            finally:
                thread.join(HTTP_TIMEOUT_S)
    return None if spoken in ("TLSv1", "TLSv1.1") else f"it negotiated {spoken} with a TLS 1.0/1.1-only server"


def old_tls_refused(site: SiteEndpoint, client: ssl.SSLContext | None = None) -> str:
    """A client offering only TLS 1.0/1.1 gets no session — from a client shown first to speak
    them (NotApplicable, with the reason, where it cannot: its failure would prove nothing)."""
    parts = urlsplit(site.https_url)
    context = client or _old_tls_context(server=False)
    unable = old_tls_speakable(context)
    if unable is not None:
        raise NotApplicable(f"this client cannot speak TLS 1.0/1.1: {unable}")
    try:
        with (
            socket.create_connection((parts.hostname, parts.port or 443), timeout=HTTP_TIMEOUT_S) as raw,
            context.wrap_socket(raw, server_hostname=site.host or parts.hostname) as tls,
        ):
            raise CheckFailed(f"a TLS 1.1-only client was served with {tls.version()}")
    except ssl.SSLError as error:
        return f"TLS 1.0/1.1-only client refused ({error.reason or error})"


def security_headers(site: SiteEndpoint, path: str = "/") -> str:
    response = site.get(path)
    missing = [name for name in SECURITY_HEADERS if name not in response.headers]
    if missing:
        raise CheckFailed(f"GET {path}: missing {', '.join(missing)}")
    hsts = response.headers["Strict-Transport-Security"]
    age = next((int(p.split("=", 1)[1]) for p in hsts.split(";") if p.strip().startswith("max-age=")), 0)
    if age < MIN_HSTS_AGE_S:
        raise CheckFailed(f"Strict-Transport-Security max-age {age} is under a year")
    if response.headers["X-Content-Type-Options"].lower() != "nosniff":
        raise CheckFailed(f"X-Content-Type-Options is {response.headers['X-Content-Type-Options']!r}")
    return f"HSTS {hsts!r}, nosniff, Referrer-Policy {response.headers['Referrer-Policy']!r}"


def serves_object(site: SiteEndpoint, path: str, body: bytes) -> str:
    response = site.get(path)
    if response.status_code != 200 or response.content != body:
        raise CheckFailed(
            f"GET {path} answered {response.status_code} with {len(response.content)} bytes, "
            f"expected the {len(body)}-byte object"
        )
    return f"GET {path} 200, {len(body)} bytes, {_cache(response)}"


def refuses_without_header(url: str, ca_file: str | None, header: str) -> str:
    """The origin (load balancer) answers 403 when the origin secret is absent or wrong."""
    for headers in ({}, {header: "not-the-secret"}):
        response = requests.get(
            url, headers=headers, verify=ca_file or True, allow_redirects=False, timeout=HTTP_TIMEOUT_S
        )
        if response.status_code != 403:
            raise CheckFailed(
                f"GET {url} with {sorted(headers) or 'no extra headers'} answered {response.status_code}, expected 403"
            )
    return f"GET {url} without {header} (or with a wrong one): 403"

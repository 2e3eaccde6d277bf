"""The edge's media origin: S3 reached the way origin access control reaches it.

CloudFront signs every request to an OAC origin with SigV4; nginx cannot sign, so the edge
proxies its S3 behaviours to this small server, which signs a GET (or HEAD) for the object
in the media bucket and relays S3's answer: status, the headers a browser needs, the body.
On the local target it signs with the workspace's assumed role on the emulator.

    python -m surgepress.dataplane.s3_origin --port P --bucket B --region R --role-arn ARN

Credentials and the endpoint come from the environment (AWS_* variables).
"""

from __future__ import annotations

import argparse
import os
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from surgepress.aws import endpoint_for, role_session

CREDENTIAL_LIFETIME_S = 600
RELAYED_HEADERS = (
    "Content-Type",
    "Content-Length",
    "ETag",
    "Last-Modified",
    "Cache-Control",
    "Content-Encoding",
    "Content-Disposition",
    "Expires",
    "Accept-Ranges",
)
UPSTREAM_TIMEOUT_S = 10


class Signer:
    """Frozen credentials of the assumed role, renewed every CREDENTIAL_LIFETIME_S."""

    def __init__(self, role_arn: str, region: str) -> None:
        self.role_arn, self.region = role_arn, region
        self._lock = threading.Lock()
        self._credentials, self._expires = None, 0.0

    def credentials(self):
        with self._lock:
            if time.monotonic() >= self._expires:
                session = role_session(os.environ, self.role_arn, self.region, name="surgepress-edge-oac")
                self._credentials = session.get_credentials().get_frozen_credentials()
                self._expires = time.monotonic() + CREDENTIAL_LIFETIME_S
            return self._credentials

    def sign(self, method: str, url: str) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
        SigV4Auth(self.credentials(), "s3", self.region).add_auth(request)
        return dict(request.headers.items())


def object_url(endpoint: str | None, bucket: str, region: str, path: str) -> str:
    key = urllib.parse.quote(urllib.parse.unquote(path.split("?", 1)[0].lstrip("/")), safe="/")
    if endpoint:
        return f"{endpoint.rstrip('/')}/{bucket}/{key}"
    return f"https://{bucket}.s3.{region}.amazonaws.com/{key}"


def make_handler(signer: Signer, bucket: str, endpoint: str | None):
    # S3 over TLS, trusting AWS_CA_BUNDLE (the emulator's CA on the local target) when it is set.
    tls = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE") or None)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=tls))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "surgepress-s3-origin"

        def _relay(self, method: str) -> None:
            url = object_url(endpoint, bucket, signer.region, self.path)
            try:
                request = urllib.request.Request(url, method=method, headers=signer.sign(method, url))
                response = opener.open(request, timeout=UPSTREAM_TIMEOUT_S)
                status, headers, body = response.status, response.headers, response.read()
            except urllib.error.HTTPError as error:
                status, headers, body = error.code, error.headers, error.read()
            except Exception as error:  # noqa: BLE001 - whatever failed, the edge gets a 502 and a reason
                status, headers, body = 502, {}, f"S3 origin failed: {type(error).__name__}: {error}\n".encode()
            self.send_response(status)
            for name in RELAYED_HEADERS:
                if name != "Content-Length" and headers.get(name):
                    self.send_header(name, headers[name])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if method == "GET":
                self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._relay("GET")

        def do_HEAD(self) -> None:  # noqa: N802
            self._relay("HEAD")

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            pass  # nginx logs every request already

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m surgepress.dataplane.s3_origin")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--role-arn", required=True)
    args = parser.parse_args(argv)
    signer = Signer(args.role_arn, args.region)
    server = ThreadingHTTPServer(
        ("127.0.0.1", args.port), make_handler(signer, args.bucket, endpoint_for(os.environ, "s3"))
    )
    server.daemon_threads = True
    server.serve_forever()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

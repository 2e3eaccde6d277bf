"""Entry point of the emulator process: `python -m surgepress.emulator.server --port N`.

Installs the shims, then serves moto's multi-service app on loopback: over HTTP on `--port`,
and over TLS on `--tls-port` (S3's endpoint, so that requests carry aws:SecureTransport as
AWS's do; see shims/policy_conditions).
"""

from __future__ import annotations

import argparse
import os


def main() -> None:
    parser = argparse.ArgumentParser(description="surgepress embedded AWS (moto + shims)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--account-id", required=True, help="account of the un-assumed (operator) identity")
    parser.add_argument("--tls-port", type=int, required=True, help="the same APIs over TLS (S3's endpoint)")
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    args = parser.parse_args()

    # Before moto is imported: these are read at import time.
    os.environ["SURGEPRESS_OPERATOR_ACCOUNT_ID"] = args.account_id
    os.environ.pop("MOTO_ACCOUNT_ID", None)  # it would force every request into one account
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    os.environ.setdefault("MOTO_ALLOW_NONEXISTENT_REGION", "false")
    # ACM issues a DNS-validated certificate once it sees the record, usually within a minute
    # or two; moto issues it after this many seconds (its default, 60, slows every deploy).
    os.environ["MOTO_ACM_VALIDATION_WAIT"] = "2"

    from surgepress.emulator import shims

    shims.install()

    import threading

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    os.environ.setdefault("MOTO_PORT", str(args.port))
    # One application behind both listeners: the same accounts and resources over HTTP and TLS.
    app = DomainDispatcherApplication(create_backend_app)
    servers = [
        make_server("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler, ssl_context=tls)
        for port, tls in ((args.tls_port, (args.cert, args.key)), (args.port, None))
    ]
    threading.Thread(target=servers[0].serve_forever, name="tls", daemon=True).start()
    servers[1].serve_forever()


if __name__ == "__main__":
    main()

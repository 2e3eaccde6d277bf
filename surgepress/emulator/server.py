"""Entry point of the emulator process: `python -m surgepress.emulator.server --port N`.

Installs the shims, then serves moto's multi-service app on loopback.
"""

from __future__ import annotations

import argparse
import os


def main() -> None:
    parser = argparse.ArgumentParser(description="surgepress embedded AWS (moto + shims)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--account-id", required=True, help="account of the un-assumed (operator) identity")
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

    from moto import server

    server.main(["--host", "127.0.0.1", "--port", str(args.port)])


if __name__ == "__main__":
    main()

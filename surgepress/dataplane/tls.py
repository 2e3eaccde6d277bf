"""A local certificate authority and server certificates, made with the openssl command.

Stands in for ACM (the load balancer's and the edge's certificates) and for the certificates
AWS gives Aurora and ElastiCache. Clients of the data plane trust `ca.pem` and nothing else.
Keys are mode 600; the CA lives as long as the build directory.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

CA_DAYS = 3650
CERT_DAYS = 825
KEY_BITS = 2048


class TlsError(Exception):
    pass


def _run(openssl: str, *args: str, cwd: Path) -> None:
    proc = subprocess.run([openssl, *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise TlsError(f"openssl {args[0]} failed: {proc.stderr.strip().splitlines()[-1:]}")


class LocalCa:
    def __init__(self, directory: Path, openssl: str) -> None:
        self.directory = directory
        self.openssl = openssl
        self.cert = directory / "ca.pem"
        self.key = directory / "ca.key"

    def ensure(self) -> LocalCa:
        if self.cert.is_file() and self.key.is_file():
            return self
        self.directory.mkdir(parents=True, exist_ok=True)
        _run(
            self.openssl,
            "req",
            "-x509",
            "-newkey",
            f"rsa:{KEY_BITS}",
            "-nodes",
            "-days",
            str(CA_DAYS),
            "-subj",
            "/CN=surgepress local data plane CA",
            "-keyout",
            str(self.key),
            "-out",
            str(self.cert),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            cwd=self.directory,
        )
        os.chmod(self.key, 0o600)
        return self

    def issue(self, directory: Path, name: str, hosts: list[str]) -> tuple[Path, Path]:
        """A server certificate for `hosts` (names and 127.0.0.1) in `directory`: (cert, key)."""
        cert, key = directory / f"{name}.pem", directory / f"{name}.key"
        wanted = ",".join(dict.fromkeys(["IP:127.0.0.1", *(f"DNS:{h}" for h in hosts)]))
        marker = directory / f"{name}.san"
        if cert.is_file() and key.is_file() and marker.is_file() and marker.read_text() == wanted:
            return cert, key
        directory.mkdir(parents=True, exist_ok=True)
        request = directory / f"{name}.csr"
        extensions = directory / f"{name}.ext"
        extensions.write_text(
            f"subjectAltName={wanted}\nextendedKeyUsage=serverAuth\n"
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        )
        _run(
            self.openssl,
            "req",
            "-newkey",
            f"rsa:{KEY_BITS}",
            "-nodes",
            "-subj",
            f"/CN=surgepress local {name}",
            "-keyout",
            str(key),
            "-out",
            str(request),
            cwd=directory,
        )
        os.chmod(key, 0o600)
        _run(
            self.openssl,
            "x509",
            "-req",
            "-in",
            str(request),
            "-CA",
            str(self.cert),
            "-CAkey",
            str(self.key),
            "-CAcreateserial",
            "-days",
            str(CERT_DAYS),
            "-extfile",
            str(extensions),
            "-out",
            str(cert),
            cwd=directory,
        )
        request.unlink()
        extensions.unlink()
        marker.write_text(wanted)
        return cert, key

"""Start, find, check and stop the emulator process.

The emulator runs in the background between CLI commands: its pid, port and a boot id
live in `<build>/emulator/emulator.json`, its log in `emulator.log`. A fresh emulator
holds no resources, so starting one resets every local Terraform state (which would
otherwise point at resources that no longer exist) and says which.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import certifi

from surgepress.dataplane.tls import LocalCa, TlsError
from surgepress.processes import free_port, is_running, stop
from surgepress.targets import REPO_ROOT, Paths

STARTUP_TIMEOUT_S = 60.0
SHUTDOWN_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.2
HEALTH_PATH = "/moto-api/"
HEALTH_TIMEOUT_S = 2.0
SERVER_MODULE = "surgepress.emulator.server"

# Credentials of the operator identity on the emulator; the provider then assumes each
# workspace's role through the emulated STS, exactly as on AWS.
LOCAL_ACCESS_KEY_ID = "AKIASURGEPRESSLOCAL0"
LOCAL_SECRET_ACCESS_KEY = "surgepress-local-emulator-not-a-secret"


class EmulatorError(Exception):
    """The emulator could not be started or reached (a machine problem, not user input)."""


@dataclass(frozen=True)
class EmulatorInfo:
    pid: int
    port: int
    boot_id: str
    account_id: str
    started_at: float
    tls_port: int = 0
    """S3's endpoint: TLS, as AWS's is (0: an emulator started before it had one)."""
    ca_file: str = ""
    """What clients trust: the public roots and the CA that signed the TLS endpoint's certificate."""

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def s3_endpoint(self) -> str:
        return f"https://127.0.0.1:{self.tls_port}"

    def environment(self) -> dict[str, str]:
        """Environment for Terraform and boto3 to talk to this emulator, and only to it."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            # S3 over TLS, so that bucket policies see aws:SecureTransport as AWS's requests carry
            # it (a plain-HTTP request to the other endpoint meets their TLS-only deny). Terraform
            # (Go) trusts SSL_CERT_FILE, botocore AWS_CA_BUNDLE: both name the public roots plus
            # the emulator's CA (a bundle; either replaces the default trust store).
            "AWS_ENDPOINT_URL_S3": self.s3_endpoint,
            "AWS_CA_BUNDLE": self.ca_file,
            "SSL_CERT_FILE": self.ca_file,
            "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET_ACCESS_KEY,
            "AWS_SESSION_TOKEN": "",
            "AWS_PROFILE": "",
            "AWS_EC2_METADATA_DISABLED": "true",
            # Some APIs prefix the host (S3 Control: `<account>.<endpoint>`), which no
            # resolver maps to loopback. Such hosts are sent to the emulator as a proxy (it
            # accepts absolute-form requests); loopback itself is never proxied.
            "HTTP_PROXY": self.endpoint,
            "http_proxy": self.endpoint,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }


@dataclass(frozen=True)
class Status:
    state: str  # "running" | "stopped" | "dead"
    info: EmulatorInfo | None
    detail: str = ""


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{HEALTH_PATH}", timeout=HEALTH_TIMEOUT_S) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Emulator:
    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.info_file = paths.emulator_dir / "emulator.json"
        self.log_file = paths.emulator_dir / "emulator.log"

    def _read_info(self) -> EmulatorInfo | None:
        try:
            return EmulatorInfo(**json.loads(self.info_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def status(self) -> Status:
        info = self._read_info()
        if info is None:
            return Status("stopped", None)
        if not is_running(info.pid, SERVER_MODULE):
            return Status("dead", info, f"process {info.pid} is gone")
        if not info.tls_port:
            return Status("dead", info, f"process {info.pid} was started without a TLS endpoint for S3")
        if not _answers(info.port):
            return Status("dead", info, f"process {info.pid} does not answer on port {info.port}")
        return Status("running", info)

    def recover(self, say=print) -> Status:
        """The current status; a dead emulator is forgotten and its local states reset, saying so."""
        status = self.status()
        if status.state != "dead":
            return status
        say(
            f"emulator: the emulator that was on port {status.info.port} died ({status.detail}); its resources are gone"
        )
        self._kill(status.info.pid)
        self.info_file.unlink(missing_ok=True)
        self._reset_and_say(say)
        return Status("stopped", None)

    def up(self, account_id: str, say=print) -> tuple[EmulatorInfo, bool]:
        """Reuse the running emulator or start one; returns (info, started_now)."""
        status = self.recover(say)
        if status.state == "running" and status.info is not None:
            return status.info, False
        self._reset_and_say(say)  # states left from an emulator stopped some other way
        return self._start(account_id, say), True

    def _reset_and_say(self, say) -> None:
        reset = self.reset_local_states()
        if reset:
            say(f"emulator: reset local state of {', '.join(reset)} (it described the previous emulator)")

    def _start(self, account_id: str, say) -> EmulatorInfo:
        self.paths.emulator_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        tls_port = free_port()
        while tls_port == port:
            tls_port = free_port()
        ca, cert, key = self._certificate()
        say(f"emulator: starting on 127.0.0.1:{port} (S3 over TLS on {tls_port}) ...")
        started = time.monotonic()
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", SERVER_MODULE, "--port", str(port), "--account-id", account_id]
                + ["--tls-port", str(tls_port), "--cert", str(cert), "--key", str(key)],
                cwd=REPO_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = started + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise EmulatorError(f"emulator exited with code {proc.returncode} while starting; see {self.log_file}")
            if _answers(port):
                info = EmulatorInfo(
                    pid=proc.pid,
                    port=port,
                    boot_id=uuid.uuid4().hex,
                    account_id=account_id,
                    started_at=time.time(),
                    tls_port=tls_port,
                    ca_file=str(ca),
                )
                self.info_file.write_text(json.dumps(asdict(info)))
                say(f"emulator: ready on {info.endpoint} in {time.monotonic() - started:.1f}s (pid {proc.pid})")
                return info
            time.sleep(POLL_INTERVAL_S)
        proc.kill()
        raise EmulatorError(
            f"emulator did not answer on port {port} within {STARTUP_TIMEOUT_S:.0f}s; see {self.log_file}"
        )

    def _certificate(self) -> tuple[Path, Path, Path]:
        """(CA, certificate, key) of the TLS endpoint, made once per build directory."""
        openssl = shutil.which("openssl")
        if openssl is None:
            raise EmulatorError("openssl is needed for the emulator's TLS endpoint; run `make setup`")
        directory = self.paths.emulator_dir / "tls"
        try:
            ca = LocalCa(directory, openssl).ensure()
            cert, key = ca.issue(directory, "emulator", ["localhost"])
        except TlsError as error:
            raise EmulatorError(f"emulator TLS certificate: {error}") from None
        # What clients trust: the public roots (a registry, a mirror) and the emulator's CA.
        bundle = directory / "trust.pem"
        bundle.write_text(Path(certifi.where()).read_text() + "\n" + ca.cert.read_text())
        return bundle, cert, key

    def down(self) -> Status:
        status = self.status()
        if status.info is not None:
            self._kill(status.info.pid)
            self.info_file.unlink(missing_ok=True)
        self.reset_local_states()
        return status

    def _kill(self, pid: int) -> None:
        stop(pid, SERVER_MODULE, timeout=SHUTDOWN_TIMEOUT_S)

    def reset_local_states(self) -> list[str]:
        """Remove local state files (they only describe the emulator that held them)."""
        removed = []
        for state in sorted(self.paths.local_state_dir.glob("*.tfstate")):
            removed.append(state.stem)
            state.unlink()
        for leftover in self.paths.local_state_dir.glob("*.tfstate.*"):
            leftover.unlink()
        return removed

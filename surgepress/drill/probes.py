"""What runs in the background of a drill: the prober (RTO) and the writers (RPO).

- `Prober` requests the site through the edge (on aws, its public URL) every interval and
  records each probe: when, status, latency and which region answered (the
  `X-Surgepress-Region` header every WordPress response carries).
- `HeartbeatWriter` inserts numbered rows into the current writer database (local target: the
  data plane's MariaDB, over TLS as the site's user) and records which were acknowledged.
- `MarkerWriter` puts numbered objects into the current primary's media bucket (replicated
  by S3 CRR; on the emulator by its replication shim) and records which were acknowledged.

After the cut the drill counts what the new primary side lacks of what was acknowledged.
"""

from __future__ import annotations

import os
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REGION_HEADER = "X-Surgepress-Region"
PROBE_TIMEOUT_S = 3.0
HEARTBEAT_INTERVAL_S = 0.2
MARKER_INTERVAL_S = 0.5
HEARTBEAT_TABLE = "surgepress_drill_heartbeat"


@dataclass(frozen=True)
class Probe:
    at: float  # seconds since the drill started
    status: int  # 0: no answer
    latency_ms: float
    region: str
    error: str = ""

    @property
    def healthy(self) -> bool:
        return 200 <= self.status < 400


class _Loop(threading.Thread):
    """A daemon thread calling `tick` every `interval_s` until stopped."""

    def __init__(self, name: str, interval_s: float, clock: Callable[[], float]) -> None:
        super().__init__(name=name, daemon=True)
        self.interval_s = interval_s
        self.clock = clock
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            started = time.monotonic()
            self.tick()
            self._halt.wait(max(0.0, self.interval_s - (time.monotonic() - started)))

    def tick(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=PROBE_TIMEOUT_S * 2)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is the answer (a 3xx from the origin), not something to follow."""

    def redirect_request(self, *args, **kwargs):
        return None


class Prober(_Loop):
    def __init__(self, url: str, host: str, ca: Path | None, interval_s: float, clock: Callable[[], float]) -> None:
        super().__init__("drill-prober", interval_s, clock)
        self.url, self.host = url, host
        context = ssl.create_default_context(cafile=str(ca)) if ca else ssl.create_default_context()
        if ca:
            context.check_hostname = False  # loopback; the chain is still verified against the local CA
        self._opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), _NoRedirects(), urllib.request.HTTPSHandler(context=context)
        )
        self.probes: list[Probe] = []

    def probe_once(self) -> Probe:
        at, started = self.clock(), time.monotonic()
        request = urllib.request.Request(self.url, headers={"Host": self.host, "User-Agent": "surgepress-drill"})
        try:
            with self._opener.open(request, timeout=PROBE_TIMEOUT_S) as response:
                response.read()
                return Probe(
                    at, response.status, (time.monotonic() - started) * 1000, response.headers.get(REGION_HEADER, "")
                )
        except urllib.error.HTTPError as error:
            return Probe(
                at,
                error.code,
                (time.monotonic() - started) * 1000,
                error.headers.get(REGION_HEADER, "") if error.headers else "",
                "" if 300 <= error.code < 400 else f"HTTP {error.code}",
            )
        except OSError as error:
            return Probe(at, 0, (time.monotonic() - started) * 1000, "", str(getattr(error, "reason", error)))

    def tick(self) -> None:
        self.probes.append(self.probe_once())


@dataclass
class Writes:
    """Acknowledged writes: number -> (time, where)."""

    acknowledged: dict[int, tuple[float, str]] = field(default_factory=dict)
    failed: int = 0
    last_error: str = ""


class MarkerWriter(_Loop):
    """Numbered marker objects into whichever media bucket `bucket()` names now."""

    def __init__(
        self,
        run_id: str,
        bucket: Callable[[], tuple[Any, str]],
        clock: Callable[[], float],
        interval_s: float = MARKER_INTERVAL_S,
    ) -> None:
        super().__init__("drill-markers", interval_s, clock)
        self.prefix = f"drill/{run_id}/"
        self.bucket = bucket
        self.writes = Writes()
        self._next = 1

    def key(self, number: int) -> str:
        return f"{self.prefix}marker-{number:06d}"

    def tick(self) -> None:
        number, self._next = self._next, self._next + 1
        s3, name = self.bucket()
        try:
            s3.put_object(Bucket=name, Key=self.key(number), Body=f"{number}\n".encode())
            self.writes.acknowledged[number] = (self.clock(), name)
        except Exception as error:  # noqa: BLE001 - an outage is what a drill expects to meet
            self.writes.failed += 1
            self.writes.last_error = str(error)

    def present(self, s3, bucket: str) -> set[int]:
        numbers: set[int] = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=self.prefix):
            for item in page.get("Contents", []):
                numbers.add(int(item["Key"].rsplit("-", 1)[1]))
        return numbers


@dataclass(frozen=True)
class DatabaseEndpoint:
    """Where the heartbeat writer connects: a local MariaDB port as the site's user."""

    workspace: str
    port: int


class HeartbeatWriter(_Loop):
    """Numbered rows into the writer database; `endpoint()` names the writer now."""

    def __init__(
        self,
        run_id: str,
        mariadb: str,
        credentials: Path,
        database: str,
        endpoint: Callable[[], DatabaseEndpoint],
        clock: Callable[[], float],
        interval_s: float = HEARTBEAT_INTERVAL_S,
    ) -> None:
        super().__init__("drill-heartbeats", interval_s, clock)
        self.run_id, self.mariadb, self.credentials, self.database = run_id, mariadb, credentials, database
        self.endpoint = endpoint
        self.writes = Writes()
        self._next = 1

    def _sql(self, target: DatabaseEndpoint, statement: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                self.mariadb,
                f"--defaults-extra-file={self.credentials}",
                "--host=127.0.0.1",
                f"--port={target.port}",
                "--batch",
                "--skip-column-names",
                self.database,
            ],
            input=statement,
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
        )

    def prepare(self) -> None:
        proc = self._sql(
            self.endpoint(),
            f"CREATE TABLE IF NOT EXISTS {HEARTBEAT_TABLE} (run VARCHAR(40) NOT NULL, "
            "seq INT NOT NULL, written_at DOUBLE NOT NULL, PRIMARY KEY (run, seq));",
        )
        if proc.returncode != 0:
            raise RuntimeError(f"heartbeat table: {proc.stderr.strip()}")

    def tick(self) -> None:
        number, self._next = self._next, self._next + 1
        target = self.endpoint()
        try:
            proc = self._sql(
                target, f"INSERT INTO {HEARTBEAT_TABLE} VALUES ('{self.run_id}', {number}, {time.time():.3f});"
            )
        except subprocess.TimeoutExpired:
            self.writes.failed += 1
            self.writes.last_error = "timed out"
            return
        if proc.returncode == 0:
            self.writes.acknowledged[number] = (self.clock(), target.workspace)
        else:
            self.writes.failed += 1
            self.writes.last_error = proc.stderr.strip()

    def present(self, target: DatabaseEndpoint) -> set[int]:
        proc = self._sql(target, f"SELECT seq FROM {HEARTBEAT_TABLE} WHERE run = '{self.run_id}';")
        if proc.returncode != 0:
            raise RuntimeError(f"heartbeats on {target.workspace}: {proc.stderr.strip()}")
        return {int(line) for line in proc.stdout.split()}


def credentials_file(directory: Path, user: str, password: str, ca: Path) -> Path:
    """A mode-600 client option file: the password never reaches argv or a log."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "heartbeat.cnf"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"[client]\nuser={user}\npassword={password}\nssl-ca={ca}\nssl-verify-server-cert\n")
    return path

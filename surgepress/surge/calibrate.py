"""`surge calibrate [ws]`: what one task serves, measured on the local data plane.

The news-reading mix (surgepress/load/locustfile.py: front page, articles, sections, search,
assets; each reader about one request a second) is run in steps of more readers against the
task stand-in itself (its web server and php-fpm on loopback: no load balancer, no edge,
Redis object cache as deployed), each step for `step_s`. During each step the CPU time of
php-fpm's master and workers is read (psutil), so a step gives requests/s and the php
workers' cores busy. The figure the engine takes is the step with the most requests/s whose
p95 stays within the workspace's `surge.max_p95_ms` without errors:

    rps_per_1024_cpu = its requests / the CPU seconds php-fpm spent on them

that is requests per second of one vCPU (1024 CPU units) of PHP. An APPROXIMATION: it assumes
a task's PHP scales with its CPU units, and a loopback run has no network. The idle p95 is the
lightest step's, the at-capacity p95 the chosen step's (when even the last step stays within
the objective, the source says so: the fleet was not driven to its limit). Then the same mix through the local
edge gives the edge's hit ratio. Saved with the date, the machine and the load profile; every
report names the calibration it used.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

from surgepress.errors import UserError
from surgepress.load import Report

STEPS: tuple[int, ...] = (2, 4, 8, 12, 16, 24, 32, 48)
"""Readers per step (about one request a second each)."""
STEP_S = 20.0
EDGE_READERS = 8

Run = Callable[..., Report]


@dataclass(frozen=True)
class Point:
    readers: int
    rps: float
    p95_ms: float
    error_rate: float
    php_cores: float
    """php-fpm's CPU seconds per second of the step's requests."""
    requests_per_cpu_s: float
    """The step's requests per CPU second php-fpm spent on the step."""


def php_cpu_seconds(master_pid: int) -> float:
    """CPU seconds php-fpm's master and workers have used (those that exited included, as the
    master's children's times)."""
    try:
        master = psutil.Process(master_pid)
        own = master.cpu_times()
        total = own.user + own.system + own.children_user + own.children_system
        for worker in master.children(recursive=True):
            try:
                times = worker.cpu_times()
                total += times.user + times.system
            except psutil.NoSuchProcess:
                continue
        return total
    except psutil.NoSuchProcess:
        raise UserError(f"surge calibrate: php-fpm (pid {master_pid}) is gone; restart the data plane") from None


def machine() -> dict:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), platform.processor()
    )
    return {
        "host": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


def measure(
    run: Run,
    task: tuple[str, str, int],
    edge: tuple[str, str, str],
    *,
    max_p95_ms: float,
    workspace: str,
    steps: tuple[int, ...] = STEPS,
    step_s: float = STEP_S,
    say: Callable[[str], None] = print,
) -> dict:
    """The calibration as saved (see the module's note)."""
    url, host, master = task
    points: list[Point] = []
    for readers in steps:
        before = php_cpu_seconds(master)
        phase = run(url, users=readers, duration_s=step_s, host_header=host).phase("steady")
        # Requests over CPU seconds: both are the step's, whatever locust's start and stop took.
        cpu_s = max(php_cpu_seconds(master) - before, 1e-6)
        point = Point(
            readers,
            phase.rps,
            phase.p95_ms,
            phase.error_rate,
            round(cpu_s / phase.seconds, 3) if phase.seconds else 0.0,
            round(phase.requests / cpu_s, 2),
        )
        points.append(point)
        say(
            f"  {readers:>3} readers: {point.rps:6.1f} req/s, p95 {point.p95_ms:7.1f} ms, "
            f"errors {point.error_rate:.2%}, php {point.php_cores:.2f} cores, "
            f"{point.requests_per_cpu_s:.1f} requests per php CPU second"
        )
        if point.p95_ms > max_p95_ms or point.error_rate > 0:
            break
    within = [p for p in points if p.p95_ms <= max_p95_ms and p.error_rate == 0 and p.requests_per_cpu_s > 0]
    if not within:
        raise UserError(
            f"surge calibrate: even {steps[0]} readers miss p95 {max_p95_ms:g} ms or fail on {workspace}'s data "
            "plane; nothing to calibrate from"
        )
    best = max(within, key=lambda p: p.rps)
    edge_url, edge_host, ca = edge
    through_edge = run(edge_url, users=EDGE_READERS, duration_s=step_s, host_header=edge_host, ca_file=ca).phase(
        "steady"
    )
    when = datetime.now(UTC).isoformat(timespec="seconds")
    facts = machine()
    saturated = best is not points[-1] or len(points) < len(steps)
    return {
        "rps_per_1024_cpu": best.requests_per_cpu_s,
        "idle_p95_ms": points[0].p95_ms,
        "at_capacity_p95_ms": best.p95_ms,
        "edge_hit_ratio": through_edge.edge_hit_ratio,
        "source": (
            f"measured: {workspace}'s local data plane on {facts['host']} ({facts['cores']} cores, {facts['cpu']}) "
            f"at {when}: {best.rps:g} req/s at p95 {best.p95_ms:g} ms on {best.php_cores:g} php cores "
            f"({best.readers} readers; objective p95 {max_p95_ms:g} ms"
            + ("" if saturated else "; no step reached the objective's p95: the at-capacity p95 is the last step's")
            + ")"
        ),
        "measured": {
            "at": when,
            "workspace": workspace,
            "machine": facts,
            "profile": {
                "mix": "surgepress/load/locustfile.py NewsReader (about one request a second per reader)",
                "steps": list(steps),
                "step_s": step_s,
                "edge_readers": EDGE_READERS,
                "objective_p95_ms": max_p95_ms,
            },
            "points": [asdict(p) for p in points],
            "edge": asdict(through_edge),
        },
    }


def save(calibration: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(calibration, indent=2) + "\n")

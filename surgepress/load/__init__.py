"""Load and stress runs: locust (in its own process, it monkey-patches the standard library)
with the scenarios of `locustfile.py`, summarised per phase.

`run()` drives one scenario against a URL and returns a `Report`: requests/s, latency
percentiles, error rate and the edge cache hit ratio (from CloudFront's `X-Cache` header,
which the local edge sends the same way), for the steady phase and, in a surge, the surge.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from surgepress.harness.http_checks import is_edge_hit

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
SCENARIOS = ("steady", "surge")
# Time locust may take beyond the shape's duration (start-up, draining users) before we stop it.
LOCUST_GRACE_S = 60.0


class LoadError(Exception):
    pass


@dataclass(frozen=True)
class PhaseResult:
    phase: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    error_rate: float
    edge_hit_ratio: float
    origin_p50_ms: float  # requests the edge could not answer: where WordPress (and Redis) work
    origin_p95_ms: float

    def line(self) -> str:
        return (
            f"{self.phase:<7} {self.requests:>7} req {self.rps:>8.1f} req/s  p50 {self.p50_ms:>7.1f} ms  "
            f"p95 {self.p95_ms:>7.1f} ms  p99 {self.p99_ms:>7.1f} ms  errors {self.error_rate:>6.2%}  "
            f"edge hits {self.edge_hit_ratio:>6.1%}  origin p50/p95 {self.origin_p50_ms:.1f}/"
            f"{self.origin_p95_ms:.1f} ms"
        )


@dataclass(frozen=True)
class Report:
    scenario: str
    url: str
    phases: tuple[PhaseResult, ...]

    def phase(self, name: str) -> PhaseResult:
        return next(p for p in self.phases if p.phase == name)

    def lines(self) -> list[str]:
        return [f"load {self.scenario} against {self.url}:", *("  " + p.line() for p in self.phases)]

    def as_dict(self) -> dict:
        return {"scenario": self.scenario, "url": self.url, "phases": [asdict(p) for p in self.phases]}


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarise(samples: list[dict], phases: tuple[str, ...]) -> tuple[PhaseResult, ...]:
    """Per phase: the requests locust recorded (one dict per request, see locustfile)."""
    results = []
    for phase in phases:
        mine = [s for s in samples if s["phase"] == phase and s["name"] != "/feed/"]
        times = [s["t"] for s in mine]
        seconds = (max(times) - min(times)) if len(times) > 1 else 0.0
        cached = [s for s in mine if s["cache"]]
        hit = [is_edge_hit(s["cache"]) for s in cached]
        hits = [s for s, is_hit in zip(cached, hit, strict=True) if is_hit]
        origin = [s["ms"] for s, is_hit in zip(cached, hit, strict=True) if not is_hit]
        results.append(
            PhaseResult(
                phase=phase,
                requests=len(mine),
                seconds=round(seconds, 2),
                rps=round(len(mine) / seconds, 1) if seconds else 0.0,
                p50_ms=percentile([s["ms"] for s in mine], 0.50),
                p95_ms=percentile([s["ms"] for s in mine], 0.95),
                p99_ms=percentile([s["ms"] for s in mine], 0.99),
                error_rate=round(sum(1 for s in mine if not s["ok"]) / len(mine), 4) if mine else 0.0,
                edge_hit_ratio=round(len(hits) / len(cached), 4) if cached else 0.0,
                origin_p50_ms=percentile(origin, 0.50),
                origin_p95_ms=percentile(origin, 0.95),
            )
        )
    return tuple(results)


def run(
    url: str,
    *,
    scenario: str = "steady",
    users: int = 10,
    duration_s: float = 60.0,
    surge_multiplier: float = 6.0,
    surge_ramp_s: float = 60.0,
    host_header: str = "",
    ca_file: str = "",
    max_requests: int | None = None,
) -> Report:
    """One locust run, headless, in a child process; raises LoadError if locust fails."""
    if scenario not in SCENARIOS:
        raise LoadError(f"scenario: expected one of {', '.join(SCENARIOS)}, got {scenario!r}")
    with tempfile.TemporaryDirectory(prefix="surgepress-load-") as tmp:
        results = Path(tmp) / "requests.jsonl"
        env = {
            **os.environ,
            "LOAD_SCENARIO": scenario,
            "LOAD_STEADY_USERS": str(users),
            "LOAD_DURATION_S": str(duration_s),
            "SURGE_MULTIPLIER": str(surge_multiplier),
            "SURGE_RAMP_S": str(surge_ramp_s),
            "LOAD_HOST_HEADER": host_header,
            "LOAD_CA_FILE": ca_file,
            "LOAD_RESULTS_FILE": str(results),
            "LOAD_MAX_REQUESTS": str(max_requests or 0),
        }
        argv = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "--host",
            url,
            "--only-summary",
            "--loglevel",
            "WARNING",
            "--stop-timeout",
            "5",
        ]
        try:
            proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=duration_s + LOCUST_GRACE_S)
        except subprocess.TimeoutExpired:
            raise LoadError(f"locust did not finish within {duration_s + LOCUST_GRACE_S:.0f}s") from None
        if not results.is_file():
            raise LoadError(
                f"locust exited with {proc.returncode} and recorded nothing: "
                f"{(proc.stderr or proc.stdout).strip().splitlines()[-3:]}"
            )
        samples = [json.loads(line) for line in results.read_text().splitlines() if line]
    phases = ("steady", "surge") if scenario == "surge" else ("steady",)
    return Report(scenario=scenario, url=url, phases=summarise(samples, phases))

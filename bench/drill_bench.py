#!/usr/bin/env python3
"""DR drills on the embedded AWS: how long each runbook step takes, and the RTO/RPO measured.

Deploys every workspace with its data plane to a throwaway build directory (or reuses one
with --build, e.g. the README's `build` after `make local`), then runs `--rounds` rounds of
`drill switchover` + `drill failback` through the real CLI, and one `drill failover
--simulate-outage` followed by recovery and failback. Prints per step the median seconds
and its share of the drill, each drill's wall time, RTO and RPO, and the ratios of drill
time to the writer move alone. A throwaway build is destroyed at the end.

Usage: pipenv run python bench/drill_bench.py [--rounds 2] [--build DIR] [--no-failover]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

from common import cli, tear_down

from surgepress.config import load_settings


def drill(build: Path, *args: str) -> tuple[float, dict]:
    seconds, out = cli(build, "drill", *args)
    found = re.search(r"report: (\S+)/report\.md", out)
    return seconds, json.loads((Path(found.group(1)) / "report.json").read_text())


def failing_drill(build: Path, *args: str) -> tuple[float, dict]:
    """A drill expected to miss its RPO target (exit 1): measured all the same."""
    import os
    import subprocess
    import sys

    from common import REPO

    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "main.py", "drill", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "SURGEPRESS_BUILD_DIR": str(build)},
    )
    found = re.search(r"report: (\S+)/report\.md", proc.stdout)
    if proc.returncode not in (0, 1) or not found:
        raise SystemExit(f"drill {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr}")
    return time.perf_counter() - started, json.loads((Path(found.group(1)) / "report.json").read_text())


def step_key(name: str) -> str:
    """Steps named after workspaces/regions, made comparable across directions."""
    return re.sub(r"\b(production|dr|eu-west-1|eu-central-1)\b", "<side>", name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="switchover + failback rounds (default 2)")
    parser.add_argument("--build", type=Path, help="reuse this deployed build directory (not torn down)")
    parser.add_argument("--no-failover", action="store_true", help="skip the simulated-outage failover")
    args = parser.parse_args()
    settings = load_settings()
    build = args.build or Path(tempfile.mkdtemp(prefix="surgepress-drill-bench-"))
    try:
        if args.build is None:
            boot, _ = cli(build, "bootstrap")
            deploy, _ = cli(build, "deploy", "--all")
            print(f"setup: bootstrap {boot:.1f}s, deploy --all with data planes {deploy:.1f}s ({build})")
        reports: list[tuple[str, float, dict]] = []
        for _ in range(args.rounds):
            for kind in ("switchover", "failback"):
                seconds, report = drill(build, kind)
                reports.append((kind, seconds, report))
        if not args.no_failover:
            seconds, report = failing_drill(build, "failover", "--simulate-outage", "--marker-grace", "5")
            reports.append(("failover (outage)", seconds, report))
            recover, _ = cli(build, "dataplane", "up")
            seconds, back = drill(build, "failback")
            reports.append(("failback after outage", seconds, back))
            print(f"recovery of the old primary (dataplane up, reseed): {recover:.1f}s")
        print_figures(reports)
    finally:
        if args.build is None:
            tear_down(build, settings)


def print_figures(reports: list[tuple[str, float, dict]]) -> None:
    print("\nper drill:")
    print(f"{'drill':<24}{'CLI s':>8}{'steps s':>9}{'RTO s':>8}{'RPO s':>8}{'probes':>8}{'failed':>8}  lost")
    for kind, seconds, report in reports:
        steps = sum(s["seconds"] for s in report["steps"])
        rto = "-" if report["rto_s"] is None else f"{report['rto_s']:.1f}"
        lost = ", ".join(f"{x['lost']}/{x['acknowledged']} {x['kind'].split()[0]}" for x in report["losses"])
        print(
            f"{kind:<24}{seconds:>8.1f}{steps:>9.1f}{rto:>8}{report['rpo_s']:>8.2f}"
            f"{report['probes']['count']:>8}{report['probes']['failed']:>8}  {lost}"
        )
    planned = [r for kind, _, r in reports if kind in ("switchover", "failback")]
    by_step: dict[str, list[float]] = {}
    for report in planned:
        for step in report["steps"]:
            by_step.setdefault(step_key(step["name"]), []).append(step["seconds"])
    total = statistics.median(sum(s["seconds"] for s in r["steps"]) for r in planned)
    print(f"\nper step, planned drills (median of {len(planned)}; share of the median runbook {total:.1f}s):")
    for name, values in by_step.items():
        median = statistics.median(values)
        print(
            f"  {name:<44}{median:>7.2f}s {100 * median / total:>5.1f}%  (min {min(values):.2f}, max {max(values):.2f})"
        )
    move = statistics.median(
        sum(s["seconds"] for s in r["steps"] if "database" in s["name"] or "writer" in s["name"]) for r in planned
    )
    print(
        f"\nwriter move (API call + wait) {move:.1f}s; runbook / writer move {total / move:.1f}x; "
        f"median RTO {statistics.median(r['rto_s'] or 0 for r in planned):.1f}s"
    )


if __name__ == "__main__":
    main()

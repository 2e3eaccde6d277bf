#!/usr/bin/env python3
"""The local data plane: start times per environment, and steady/surge load with the Redis
object cache on and off.

Deploys every workspace (control plane only) to a throwaway build directory with its own
emulator, then measures through the real CLI:
  - `dataplane up <ws>` cold (nothing on disk: database initialised, WordPress installed),
    warm (processes stopped, data kept) and again (everything running: nothing to do);
  - `loadtest staging` steady and surge, with the object cache on and off (each the same
    length, after a discarded warm-up), reporting requests/s, p50/p95/p99, errors, edge hit ratio and the latency of the
    requests that reached WordPress.
Destroys everything and stops the emulator at the end.

Usage: pipenv run python bench/dataplane_bench.py [--duration 60] [--users 10] [--multiplier 6]
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path

from common import cli, tear_down

from surgepress.config import load_settings
from surgepress.dataplane import dataplane_workspaces

WARM_UP_S = 15


def start_time(output: str, ws: str) -> tuple[float, str]:
    match = re.search(rf"dataplane {ws}: (\d+) started, (\d+) kept running in ([\d.]+)s", output)
    return float(match.group(3)), f"{match.group(1)} started, {match.group(2)} kept"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per load run (default 60)")
    parser.add_argument("--users", type=int, default=10, help="steady readers (default 10)")
    parser.add_argument("--multiplier", type=float, default=6.0, help="surge multiplier (default 6)")
    args = parser.parse_args()
    settings = load_settings()
    sites = [ws.name for ws in dataplane_workspaces(settings.workspaces.values())]
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp)
        try:
            print(f"deploying every workspace (control plane only) into {build} ...", flush=True)
            cli(build, "deploy", "--all", "--no-dataplane")
            starts = {}
            for ws in sites:
                cold = start_time(cli(build, "dataplane", "up", ws)[1], ws)
                cli(build, "dataplane", "down", ws)
                warm = start_time(cli(build, "dataplane", "up", ws)[1], ws)
                again = start_time(cli(build, "dataplane", "up", ws)[1], ws)
                starts[ws] = (cold, warm, again)
            loads = {}
            for cache in ("on", "off"):
                cli(build, "dataplane", "up", "staging", *(["--no-object-cache"] if cache == "off" else []))
                # A discarded warm-up, so both modes start with warm PHP opcache and pages.
                cli(build, "loadtest", "staging", "--users", str(args.users), "--duration", str(WARM_UP_S))
                for scenario in ("steady", "surge"):
                    print(f"load: {scenario}, object cache {cache}, {args.duration:.0f}s ...", flush=True)
                    _, out = cli(
                        build,
                        "loadtest",
                        "staging",
                        "--scenario",
                        scenario,
                        "--users",
                        str(args.users),
                        "--duration",
                        str(args.duration),
                        "--multiplier",
                        str(args.multiplier),
                        "--ramp",
                        str(min(60.0, args.duration * 0.3)),
                        "--json",
                    )
                    loads[(scenario, cache)] = {p["phase"]: p for p in json.loads(out)["phases"]}
        finally:
            tear_down(build, settings)

    print("\ndata plane start (7 services per environment):")
    for ws, ((cold, _), (warm, _), (again, what)) in starts.items():
        print(
            f"  {ws:<11} cold {cold:5.1f}s   warm restart {warm:5.1f}s   up again {again:4.1f}s ({what})   "
            f"cold/warm {cold / warm:4.1f}x"
        )
    print(
        f"\nload on staging's edge: {args.users} steady readers, surge x{args.multiplier:g}, "
        f"{args.duration:.0f}s per run"
    )
    header = (
        f"  {'run':<22} {'req/s':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'errors':>7} {'edge hits':>9} "
        f"{'origin p50':>10} {'origin p95':>10}"
    )
    print(header)
    for (scenario, cache), phases in loads.items():
        for phase, r in phases.items():
            label = f"{scenario}/{phase}, cache {cache}"
            print(
                f"  {label:<22} {r['rps']:7.1f} {r['p50_ms']:6.1f}ms {r['p95_ms']:6.1f}ms {r['p99_ms']:6.1f}ms "
                f"{r['error_rate']:7.2%} {r['edge_hit_ratio']:9.1%} {r['origin_p50_ms']:8.1f}ms "
                f"{r['origin_p95_ms']:8.1f}ms"
            )
    surge_on, surge_off = loads[("surge", "on")]["surge"], loads[("surge", "off")]["surge"]
    steady_on = loads[("surge", "on")]["steady"]
    print(f"\nsurge/steady throughput (cache on): {surge_on['rps'] / steady_on['rps']:.1f}x")
    for name, key in (("origin p50", "origin_p50_ms"), ("origin p95", "origin_p95_ms"), ("p99", "p99_ms")):
        if surge_on[key]:
            print(
                f"surge {name} without/with the object cache: {surge_off[key] / surge_on[key]:.2f}x "
                f"({surge_off[key]:.1f} / {surge_on[key]:.1f} ms)"
            )


if __name__ == "__main__":
    main()

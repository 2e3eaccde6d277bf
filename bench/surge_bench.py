#!/usr/bin/env python3
"""The surge engine over a simulated 24-hour day with a breaking-news surge, for the three
site environments (staging, production, dr), in one run.

Synthesizes the three stacks into a throwaway build directory (the CLI's `synth`), then for
each: a day of steady demand with the workspace's surge at noon (dr, which has no `surge:`
of its own, takes production's: a failover lands production's readers on it), simulated
second by second. Prints each site's wall time, simulated seconds per wall second (the goal
is at least 1,000), the peak of Python's own allocations in a second, traced run (tracemalloc
slows what it traces), and the process's peak resident memory. Then times the search of
`surge tune production` (its candidates over production's own surge).
Usage: pipenv run python bench/surge_bench.py
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from common import cli

from surgepress.config import load_settings
from surgepress.surge import judge, load_calibration, scenario_for
from surgepress.surge.engine import simulate
from surgepress.surge.result import measure
from surgepress.surge.site import read_site
from surgepress.surge.tune import search
from surgepress.targets import Paths

DAY_S = 86_400
NOON_S = 43_200
SITES = ("staging", "production", "dr")
GOAL_RATIO = 1000


def main() -> int:
    settings = load_settings()
    with tempfile.TemporaryDirectory(prefix="surge-bench-") as tmp:
        build = Path(tmp)
        cli(build, "synth", *SITES)
        calibration, which = load_calibration(Paths(build))
        print(f"calibration: {which}, {calibration.rps_per_1024_cpu:g} req/s per 1024 CPU units")
        ratios = []
        for name in SITES:
            ws = settings.get(name)
            surge_of = ws if ws.surge is not None else settings.get("production")
            shaped = scenario_for(surge_of, lead_s=NOON_S)
            scenario = scenario_for(surge_of, lead_s=NOON_S, tail_s=DAY_S - (shaped.duration_s - shaped.tail_s))
            document = json.loads((build / "synth" / "local" / "stacks" / name / "cdk.tf.json").read_text())
            site = read_site(document, name)
            demand = scenario.origin_rps()
            started = time.perf_counter()
            run = simulate(site, demand, calibration)
            wall = time.perf_counter() - started
            tracemalloc.start()  # a second run for memory: tracing slows it, so it is not the timed one
            simulate(site, demand, calibration)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            m = measure(run, scenario)
            ratio = len(demand) / wall
            ratios.append(ratio)
            print(
                f"{name:<10} {len(demand):>6} simulated s in {wall:6.2f} s wall = {ratio:>9,.0f}x "
                f"(surge of {surge_of.name}); peak tracemalloc {peak / 2**20:.1f} MiB; "
                f"absorb {m.absorb_s} s, {m.overload_percent:.2f} % over capacity, peak {m.peak_tasks} tasks"
            )
        production = settings.get("production")
        document = json.loads((build / "synth" / "local" / "stacks" / "production" / "cdk.tf.json").read_text())
        outcome = judge(production, document, scenario_for(production), calibration, which)
        started = time.perf_counter()
        found = search(outcome, document, calibration)
        tuned = time.perf_counter() - started
        best = min((c for c in found if c.meets), key=lambda c: c.monthly_usd, default=None)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"slowest site: {min(ratios):,.0f}x simulated/wall (goal >= {GOAL_RATIO:,}x); peak RSS {rss:.0f} MiB")
        print(
            f"tuner (production): {len(found)} candidates in {tuned:.1f} s wall; cheapest meeting the objective "
            + (f"${best.monthly_usd:,.0f}/month with {best.changes or 'the committed settings'}" if best else "none")
        )
    return 0 if min(ratios) >= GOAL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())

"""`surge tune <ws>`: the cheapest scaling settings that meet the workspace's surge objective.

The knobs are the `compute:` settings environments/ exposes for scaling. A candidate is the
synthesized `Site` with those settings changed as the modules would change them (`apply`;
tests hold each knob to a real synth of the changed setting), simulated against the
workspace's surge and priced. The search is seeded: the committed settings, each knob alone
over its values, then random combinations. It prints the Pareto front of absorb time (and
requests over capacity) against the monthly cost, the cheapest candidate that meets the
objective, and the YAML change that makes it.

Not searched, because the platform cannot deploy them: ECS's 20-s CPU metric (it needs the
service's `monitoring_configuration`, which hashicorp/aws 5.100, the provider pinned here,
cannot set) and a high-resolution custom metric (a 10-s request-concurrency metric needs a
publisher the platform does not run). A warm pool is searched.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass

from surgepress.surge import Outcome
from surgepress.surge.cost import DAYS_PER_MONTH, Fixed, PriceTable, costs, read_fixed
from surgepress.surge.engine import Calibration, simulate
from surgepress.surge.params import DEFAULT, Timings
from surgepress.surge.result import Objective, measure, verdict
from surgepress.surge.scenario import Scenario
from surgepress.surge.site import Site

SEED = 17

KNOBS: dict[str, tuple[int, ...]] = {
    "min_tasks": (2, 3, 6, 9, 12, 16, 20, 24),
    "requests_per_target": (120, 160, 200, 220, 240, 300, 400, 600, 900),
    "cpu_target_percent": (30, 40, 50, 60, 70),
    "surge_requests_per_minute": (5000, 10000, 20000, 40000, 60000),
    "capacity_target_percent": (50, 60, 70, 80, 90, 100),
    "instance_warmup_s": (0, 30, 60, 120, 300),
    "min_hosts": (1, 2, 3, 4, 6, 8),
    "max_scaling_step": (2, 5, 10, 20),
    "warm_pool_hosts": (0, 1, 2, 4, 8),
}
"""compute.<knob> -> the values searched (within the settings' bounds)."""
HOST_FIELDS = {
    "capacity_target_percent": "target_capacity_percent",
    "instance_warmup_s": "warmup_s",
    "min_hosts": "min_hosts",
    "max_scaling_step": "max_step",
    "warm_pool_hosts": "warm_pool",
}
"""The host knobs and the HostGroup field each sets."""
HOST_KNOBS = tuple(HOST_FIELDS)


def apply(site: Site, changes: dict[str, int]) -> Site:
    """The site as the modules would synthesize it with these compute settings changed."""
    tracking, stepping, hosts = list(site.target_tracking), list(site.step_scaling), site.hosts
    replace = dataclasses.replace
    for knob, value in changes.items():
        if knob == "min_tasks":
            # fargate_spot: modules/compute keeps the floor on on-demand Fargate (the strategy's base).
            base = value if site.capacity == "fargate_spot" else site.on_demand_base
            site = replace(site, min_tasks=value, initial_tasks=value, on_demand_base=base)
        elif knob == "requests_per_target":
            tracking = [replace(p, target=value) if p.metric == "ALBRequestCountPerTarget" else p for p in tracking]
        elif knob == "cpu_target_percent":
            tracking = [
                replace(p, target=value) if p.metric.startswith("ECSServiceAverageCPU") else p for p in tracking
            ]
        elif knob == "surge_requests_per_minute":
            stepping = [_threshold(p, value) for p in stepping]
        elif hosts is not None and knob in HOST_FIELDS:
            hosts = replace(hosts, **{HOST_FIELDS[knob]: value})
    return replace(site, target_tracking=tuple(tracking), step_scaling=tuple(stepping), hosts=hosts)


def _threshold(policy, value: int):
    """modules/compute's surge policy: the alarm at the threshold, +50 % up to one threshold past
    it, +100 % beyond (its step bounds are the threshold's own value)."""
    old = policy.alarm.threshold
    steps = tuple(
        dataclasses.replace(
            s,
            lower=value if s.lower == old else s.lower,
            upper=value if s.upper == old else s.upper,
        )
        for s in policy.steps
    )
    return dataclasses.replace(policy, alarm=dataclasses.replace(policy.alarm, threshold=float(value)), steps=steps)


@dataclass(frozen=True)
class Candidate:
    changes: dict[str, int]
    absorb_s: int | None
    overload_percent: float
    worst_p95_ms: float
    monthly_usd: float
    meets: bool


def evaluate(
    site: Site,
    changes: dict[str, int],
    fixed: Fixed,
    region: str,
    scenario: Scenario,
    origin: list[float],
    calibration: Calibration,
    objective: Objective,
    prices: PriceTable,
    timings: Timings = DEFAULT,
) -> Candidate:
    """One candidate; what every candidate shares (the fixed line items, the demand, the price
    table) is read once by `search`."""
    run = simulate(apply(site, changes), origin, calibration, timings)
    m = measure(run, scenario)
    priced = costs(run, scenario, fixed, region, prices)
    return Candidate(
        changes=changes,
        absorb_s=m.absorb_s if m.absorbed else None,
        overload_percent=m.overload_percent,
        worst_p95_ms=m.worst_minute_p95_ms,
        monthly_usd=priced.steady_day_usd * DAYS_PER_MONTH,
        meets=not verdict(m, objective),
    )


def candidates(site: Site, samples: int, seed: int = SEED) -> list[dict[str, int]]:
    """The committed settings, each knob alone, then seeded random combinations."""
    knobs = {k: v for k, v in KNOBS.items() if site.hosts is not None or k not in HOST_KNOBS}
    if site.hosts is not None:  # the loader refuses a warm pool larger than the group
        knobs["warm_pool_hosts"] = tuple(v for v in knobs["warm_pool_hosts"] if v <= site.hosts.max_hosts)
    out: list[dict[str, int]] = [{}]
    out += [{knob: value} for knob, values in knobs.items() for value in values]
    rng = random.Random(seed)
    out += [{knob: rng.choice(values) for knob, values in knobs.items()} for _ in range(samples)]
    return out


def search(outcome: Outcome, document: dict, calibration: Calibration, samples: int = 300) -> list[Candidate]:
    ws, site = outcome.workspace, outcome.run.site
    from surgepress.surge import objective_of

    objective, fixed, origin, prices = (
        objective_of(ws),
        read_fixed(document),
        outcome.scenario.origin_rps(),
        PriceTable.load(),
    )
    return [
        evaluate(
            site,
            changes,
            fixed,
            ws.region,
            outcome.scenario,
            origin,
            calibration,
            objective,
            prices,
            outcome.run.timings,
        )
        for changes in candidates(site, samples)
    ]


def pareto(found: list[Candidate]) -> list[Candidate]:
    """Those no other candidate beats on both absorb time (with overload) and monthly cost."""

    def badness(c: Candidate) -> tuple[float, float]:
        return (c.absorb_s if c.absorb_s is not None else float("inf"), c.overload_percent)

    front = [
        c
        for c in found
        if not any(
            (badness(o) <= badness(c) and o.monthly_usd < c.monthly_usd)
            or (badness(o) < badness(c) and o.monthly_usd <= c.monthly_usd)
            for o in found
        )
    ]
    unique: dict[tuple, Candidate] = {}
    for c in sorted(front, key=lambda c: (c.monthly_usd, badness(c))):
        unique.setdefault((round(c.monthly_usd, 2), badness(c)), c)
    return list(unique.values())


def yaml_change(ws_file: str, current: dict[str, int], changes: dict[str, int]) -> list[str]:
    """The lines to set in the workspace's file (only what differs from now)."""
    moved = {k: v for k, v in changes.items() if current.get(k) != v}
    if not moved:
        return [f"{ws_file}: no change (the committed settings are the cheapest that meet the objective)"]
    return [f"{ws_file}:", "compute:"] + [f"  {k}: {v}   # was {current.get(k)}" for k, v in sorted(moved.items())]

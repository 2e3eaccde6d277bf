"""surge tune: each knob changes the simulated site exactly as a synth of the changed setting
would, the Pareto front keeps only what nothing beats on both axes, and the search is seeded."""

from __future__ import annotations

import dataclasses
import json

import pytest

from surgepress.config import Settings
from surgepress.surge.site import read_site
from surgepress.surge.tune import KNOBS, Candidate, apply, candidates, pareto, yaml_change
from surgepress.targets import Paths, Target

pytestmark = pytest.mark.unit

# A value of every knob that differs from production's committed one.
CHANGES = {
    "min_tasks": 9,
    "requests_per_target": 400,
    "cpu_target_percent": 60,
    "surge_requests_per_minute": 10000,
    "capacity_target_percent": 90,
    "instance_warmup_s": 120,
    "min_hosts": 4,
    "max_scaling_step": 5,
    "warm_pool_hosts": 2,
}


def test_every_knob_changes_the_site_as_the_modules_synthesize_it(settings, local_stacks, tmp_path):
    from surgepress.synth import synthesize

    production = settings.get("production")
    assert set(CHANGES) == set(KNOBS)
    assert all(getattr(production.compute, k) != v for k, v in CHANGES.items())
    changed = dataclasses.replace(production, compute=dataclasses.replace(production.compute, **CHANGES))
    moved = Settings(workspaces={**settings.workspaces, "production": changed})
    (directory,) = synthesize(moved, [changed], target=Target.LOCAL, paths=Paths(tmp_path)).values()
    synthesized = read_site(json.loads((directory / "cdk.tf.json").read_text()), "production")
    assert apply(read_site(local_stacks["production"], "production"), CHANGES) == synthesized


def test_a_fargate_spot_floor_stays_on_demand_as_the_module_synthesizes_it(settings, local_stacks, tmp_path):
    from surgepress.synth import synthesize

    staging = settings.get("staging")
    assert staging.compute.capacity == "fargate_spot" and staging.compute.min_tasks != 3
    changed = dataclasses.replace(staging, compute=dataclasses.replace(staging.compute, min_tasks=3))
    moved = Settings(workspaces={**settings.workspaces, "staging": changed})
    (directory,) = synthesize(moved, [changed], target=Target.LOCAL, paths=Paths(tmp_path)).values()
    synthesized = read_site(json.loads((directory / "cdk.tf.json").read_text()), "staging")
    assert synthesized.on_demand_base == 3
    assert apply(read_site(local_stacks["staging"], "staging"), {"min_tasks": 3}) == synthesized


def _candidate(monthly: float, absorb: int | None, overload: float = 0.0) -> Candidate:
    return Candidate({"monthly": int(monthly)}, absorb, overload, 100.0, monthly, absorb is not None and absorb <= 180)


def test_the_pareto_front_keeps_what_nothing_beats_on_both_absorb_time_and_cost():
    cheap_slow, dear_fast, dominated, never = (
        _candidate(100, 300),
        _candidate(200, 0),
        _candidate(250, 300),
        _candidate(50, None),
    )
    front = pareto([dominated, dear_fast, cheap_slow, never])
    assert front == [never, cheap_slow, dear_fast]  # cheapest first; the dominated one is gone


def test_the_search_is_seeded_and_starts_from_the_committed_settings(local_stacks):
    site = read_site(local_stacks["production"], "production")
    first, again = candidates(site, samples=20), candidates(site, samples=20)
    assert first == again and first[0] == {}
    assert {"min_tasks": 2} in first and len(first) == 1 + sum(len(v) for v in KNOBS.values()) + 20
    staging = read_site(local_stacks["staging"], "staging")  # Fargate: no host knobs
    assert not any("min_hosts" in c for c in candidates(staging, samples=5))
    small = dataclasses.replace(site, hosts=dataclasses.replace(site.hosts, max_hosts=2))
    pools = {c.get("warm_pool_hosts") for c in candidates(small, samples=50)} - {None}
    assert pools == {0, 1, 2}, "no warm pool the loader would refuse (larger than max_hosts)"


def test_the_yaml_change_names_only_what_moves():
    current = {"min_tasks": 3, "requests_per_target": 220}
    assert yaml_change("environments/production.yaml", current, {"min_tasks": 3, "requests_per_target": 200}) == [
        "environments/production.yaml:",
        "compute:",
        "  requests_per_target: 200   # was 220",
    ]
    assert yaml_change("environments/production.yaml", current, {})[0].endswith(
        "no change (the committed settings are the cheapest that meet the objective)"
    )

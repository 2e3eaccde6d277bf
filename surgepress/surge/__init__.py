"""The surge engine: how long a site's configured scaling takes to absorb a breaking-news surge,
how many readers meet a full fleet meanwhile, and whether that meets the site's objective.

- `site`: what is simulated, read from the workspace's synthesized Terraform JSON;
- `scenario`: the demand (a shaped surge, or a trace) and the edge's share of it;
- `engine`: the mechanisms, second by second (alarms, policies, tasks, hosts, serving);
- `params`: every constant AWS does not publish, named, with its source or "assumed";
- `result`: absorb time, requests over capacity, worst minute, what bound the fleet.

`python main.py surge [ws…]` prints and writes the report; `python main.py policy` fails when
a site with a `surge:` section misses its own objective.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from surgepress.config import Workspace
from surgepress.errors import UserError
from surgepress.surge.cost import Costs, PriceTable, costs, read_fixed
from surgepress.surge.engine import Calibration, Run, simulate
from surgepress.surge.params import DEFAULT, Timings
from surgepress.surge.result import Measures, Objective, binding, measure, verdict
from surgepress.surge.scenario import Scenario
from surgepress.surge.site import Site, read_site
from surgepress.targets import Paths

COMMITTED_CALIBRATION = Path(__file__).with_name("calibration.json")


def calibration_file(paths: Paths) -> Path:
    """Where `surge calibrate` saves its measurement of the local data plane (and reports read it)."""
    return paths.build / "surge" / "calibration.json"


def load_calibration(paths: Paths) -> tuple[Calibration, str]:
    """(the calibration, which one it is): a measured one under the build dir, else the committed default."""
    measured = calibration_file(paths)
    path, which = (
        (measured, f"measured ({measured})") if measured.is_file() else (COMMITTED_CALIBRATION, "committed default")
    )
    try:
        data = json.loads(path.read_text())
        return Calibration(**{f.name: data[f.name] for f in fields(Calibration) if f.name in data}), which
    except (OSError, ValueError, TypeError) as exc:
        raise UserError(f"{path}: not a calibration ({exc})") from None


def scenario_for(ws: Workspace, kind: str = "breaking-news", **overrides) -> Scenario:
    """The workspace's surge (its `surge:` section), with what the command line overrides."""
    if ws.surge is None:
        raise UserError(f"surge: {ws.name} has no `surge:` section ({ws.file}): it has no surge to absorb")
    surge = ws.surge
    values: dict[str, Any] = {
        "steady_rps": surge.steady_rps,
        "multiplier": surge.multiplier,
        "ramp_s": surge.ramp_s,
        "hold_s": surge.hold_s,
        "steady_hit_ratio": surge.steady_hit_ratio,
        "surge_hit_ratio": surge.surge_hit_ratio,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Scenario(kind=kind, **values)


def objective_of(ws: Workspace) -> Objective:
    assert ws.surge is not None
    return Objective(ws.surge.absorb_within_s, ws.surge.max_overload_percent, ws.surge.max_p95_ms)


@dataclass
class Outcome:
    workspace: Workspace
    scenario: Scenario
    run: Run
    measures: Measures
    misses: list[str]
    binding: list[str]
    calibration: str
    costs: Costs
    prices_date: str


def judge(
    ws: Workspace,
    document: dict,
    scenario: Scenario,
    calibration: Calibration,
    which: str,
    timings: Timings = DEFAULT,
    site: Site | None = None,
) -> Outcome:
    """The workspace's surge against its synthesized stack (or `site`, read from its deployment:
    what runs whatever the load is still priced from `document`)."""
    run = simulate(site or read_site(document, ws.name), scenario.origin_rps(), calibration, timings)
    measures = measure(run, scenario)
    prices = PriceTable.load()
    priced = costs(run, scenario, read_fixed(document), ws.region, prices)
    return Outcome(
        ws,
        scenario,
        run,
        measures,
        verdict(measures, objective_of(ws)),
        binding(run, measures),
        which,
        priced,
        prices.date,
    )

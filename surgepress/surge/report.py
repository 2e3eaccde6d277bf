"""The surge report: a few lines per environment on the terminal, report.md, report.json and
a PNG per environment (`<workspace>.png`, surgepress/plots.py)."""

from __future__ import annotations

import json
from pathlib import Path

from surgepress.surge import Outcome
from surgepress.surge.result import ABSORB_DEFINITION


def lines(outcome: Outcome) -> list[str]:
    ws, sc, m, run = outcome.workspace, outcome.scenario, outcome.measures, outcome.run
    objective = ws.surge
    assert objective is not None
    shape = (
        f"trace {sc.trace_source} ({len(sc.trace or ())} s)"
        if sc.trace is not None
        else f"{sc.kind} {sc.multiplier:g}x ({sc.steady_rps:g} -> {sc.steady_rps * sc.multiplier:g} edge req/s, "
        f"ramp {sc.ramp_s} s, hold {sc.hold_s} s)"
    )
    if m.exceeded_at_s is None:
        absorb = "demand never exceeded the running fleet's capacity"
    elif not m.absorbed:
        absorb = f"not absorbed: demand exceeded capacity at +{m.exceeded_at_s} s and was not covered again"
    else:
        absorb = f"{m.absorb_s} s (demand exceeded capacity at +{m.exceeded_at_s} s)"
    site = run.site
    out = [
        f"{ws.name}: {shape}; {site.capacity}, {site.min_tasks}-{site.max_tasks} tasks"
        + (f", {site.hosts.min_hosts}-{site.hosts.max_hosts} {site.hosts.instance_type}" if site.hosts else ""),
        f"  calibration: {outcome.calibration}: {run.calibration.rps_per_1024_cpu:g} req/s per 1024 CPU units "
        f"({run.calibration.source.split(':')[0]}"
        + (
            f"; the edge answered {run.calibration.edge_hit_ratio:.1%} of the mix"
            if run.calibration.edge_hit_ratio is not None
            else ""
        )
        + ")",
        f"  absorb time: {absorb}; objective {objective.absorb_within_s} s",
        f"  over capacity: {m.overload_seconds} s, {m.overload_requests:,.0f} of {m.requests:,.0f} requests "
        f"({m.overload_percent:.2f} %); objective {objective.max_overload_percent:g} %",
        f"  worst minute: {m.worst_minute_error_percent:.2f} % errors, p95 {m.worst_minute_p95_ms:,.0f} ms; "
        f"objective p95 {objective.max_p95_ms:g} ms",
        f"  peak: {m.peak_tasks} tasks, {m.peak_hosts} hosts; over the run {run.task_seconds / 3600:.1f} task-hours, "
        f"{run.host_seconds / 3600:.1f} host-hours",
        f"  cost: surge hour ${outcome.costs.surge_hour_usd:,.2f}, steady day ${outcome.costs.steady_day_usd:,.2f} "
        f"(prices of {outcome.prices_date}; {len(outcome.costs.caveats)} of the rows used are not AWS's own figure: "
        "report.md names them)",
        "  " + ("meets its objective" if not outcome.misses else "MISSES its objective: " + "; ".join(outcome.misses)),
    ]
    out += ["  limits: " + item for item in outcome.binding]
    return out


def write(outcomes: list[Outcome], directory: Path) -> tuple[Path, Path]:
    from surgepress.plots import png, surge_figure

    directory.mkdir(parents=True, exist_ok=True)
    md, js = directory / "report.md", directory / "report.json"
    body = ["# Surge report", "", ABSORB_DEFINITION + ".", ""]
    for outcome in outcomes:
        picture = f"{outcome.workspace.name}.png"
        (directory / picture).write_bytes(png(surge_figure(outcome)))
        body += [f"![{outcome.workspace.name}: demand, capacity, tasks and hosts]({picture})", ""]
        body += ["```", *lines(outcome), "```", "", "| t (s from surge start) | event |", "|---:|---|"]
        start = outcome.scenario.surge_start_s
        body += [f"| {e.t - start} | {e.kind}: {e.text} |" for e in outcome.run.events if e.t >= start]
        body += ["", "| the surge hour | USD |", "|---|---:|"]
        body += [f"| {item} | {usd:,.2f} |" for item, usd in outcome.costs.surge_hour.items()]
        body += ["", "Prices that are not AWS's own figure (`surgepress/surge/prices.json`):", ""]
        body += [f"- {caveat}" for caveat in outcome.costs.caveats]
        body.append("")
    md.write_text("\n".join(body))
    js.write_text(json.dumps([as_json(o) for o in outcomes], indent=2, sort_keys=True))
    return md, js


def as_json(outcome: Outcome) -> dict:
    run = outcome.run
    return {
        "workspace": outcome.workspace.name,
        "scenario": {k: v for k, v in vars(outcome.scenario).items() if k != "trace"},
        "calibration": {"which": outcome.calibration, **vars(run.calibration)},
        "timings": vars(run.timings),
        "measures": outcome.measures.as_dict(),
        "meets_objective": not outcome.misses,
        "misses": outcome.misses,
        "held_back_by": outcome.binding,
        "cost": {
            "surge_hour_usd": outcome.costs.surge_hour_usd,
            "steady_day_usd": outcome.costs.steady_day_usd,
            "surge_hour": outcome.costs.surge_hour,
            "prices_date": outcome.prices_date,
            "not_aws_figures": outcome.costs.caveats,
        },
        "task_hours": run.task_seconds / 3600,
        "host_hours": run.host_seconds / 3600,
        "absorb_definition": ABSORB_DEFINITION,
        "events": [{"t": e.t - outcome.scenario.surge_start_s, "kind": e.kind, "text": e.text} for e in run.events],
    }

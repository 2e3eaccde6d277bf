"""The project's PNGs, drawn with matplotlib (its object API and the Agg canvas: no display,
no pyplot state shared between reports).

- `surge_figure`: one site's simulated surge: demand against served capacity (and what
  failed), then tasks and hosts, with every alarm and scaling action marked, on one time
  axis in seconds from the surge's start.
- `drill_figure`: a DR drill: each step a bar named on the bar (red when it failed), then a
  row of probe results per region that answered (and one for probes nothing answered).

Each returns the Figure (tests read its labels); `png` renders one.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

if TYPE_CHECKING:
    from surgepress.surge import Outcome

EVENT_STYLE = {
    "alarm": ("tab:red", ":", "alarm"),
    "scale-out": ("tab:green", "--", "task scale-out"),
    "scale-in": ("tab:purple", "--", "task scale-in"),
    "hosts": ("tab:brown", "-.", "host step"),
}
"""Event kind (surgepress.surge.engine.Event) -> (colour, line style, legend label)."""
OK, FAILED, HEALTHY, UNHEALTHY = "tab:blue", "tab:red", "tab:green", "tab:red"
NO_ANSWER = "no region answered"


def png(figure: Figure) -> bytes:
    out = io.BytesIO()
    FigureCanvasAgg(figure).print_png(out)
    return out.getvalue()


def surge_figure(outcome: Outcome) -> Figure:
    run, start = outcome.run, outcome.scenario.surge_start_s
    s, m = run.series, outcome.measures
    t = [second - start for second in range(len(s.demand))]
    figure = Figure(figsize=(12, 7.5), dpi=100, layout="constrained")
    load, fleet = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    absorb = (
        f"absorbed in {m.absorb_s} s"
        if m.absorbed and m.exceeded_at_s is not None
        else "not absorbed"
        if m.exceeded_at_s is not None
        else "never over capacity"
    )
    figure.suptitle(
        f"{outcome.workspace.name}: {outcome.scenario.kind} surge, {absorb}, "
        f"{m.overload_percent:.2f} % of requests over capacity\n"
        f"({run.site.capacity}; calibration: {outcome.calibration})"
    )
    load.plot(t, s.demand, color="black", linewidth=1.2, label="demand at the load balancer (req/s)")
    load.plot(t, s.capacity, color=OK, linewidth=1.5, label="served capacity: healthy tasks (req/s)")
    load.fill_between(t, 0, s.errors, color=FAILED, alpha=0.4, step="post", label="failed requests (req/s)")
    load.set_ylabel("requests per second")
    load.set_ylim(bottom=0)
    fleet.step(t, s.healthy, where="post", color=OK, label="healthy tasks")
    fleet.step(t, s.desired, where="post", color="tab:orange", linestyle="--", label="desired tasks")
    if any(s.provisioning):
        fleet.step(t, s.provisioning, where="post", color="tab:gray", label="tasks waiting (PROVISIONING)")
    if run.site.hosts is not None:
        fleet.step(t, s.hosts, where="post", color="tab:brown", label="hosts")
    fleet.set_ylabel("count")
    fleet.set_ylim(bottom=0)
    fleet.set_xlabel("seconds from the surge's start")
    marked: set[str] = set()
    for event in run.events:
        colour, style, label = EVENT_STYLE.get(event.kind, ("tab:gray", ":", event.kind))
        for axes in (load, fleet):
            axes.axvline(
                event.t - start,
                color=colour,
                linestyle=style,
                linewidth=0.8,
                alpha=0.7,
                label=label if axes is fleet and event.kind not in marked else None,
            )
        marked.add(event.kind)
    if m.exceeded_at_s is not None:
        load.axvline(m.exceeded_at_s, color=FAILED, linewidth=1.5, label="demand first exceeds the fleet")
    for axes in (load, fleet):
        axes.grid(alpha=0.3)
        axes.legend(loc="upper right", fontsize=8)
    return figure


def drill_figure(
    steps: Sequence[tuple[str, float, float, bool]],
    probes: Sequence[tuple[float, bool, str]],
    *,
    old_region: str,
    new_region: str,
    title: str = "DR drill",
) -> Figure:
    """`steps`: (name, started_s, ended_s, ok); `probes`: (at_s, healthy, region answering or "")."""
    rows = [old_region, new_region, NO_ANSWER]
    height = 1.2 + 0.45 * (len(steps) + len(rows))
    figure = Figure(figsize=(12, height), dpi=100, layout="constrained")
    bars, answers = figure.subplots(2, 1, sharex=True, height_ratios=(max(1, len(steps)), len(rows)))
    figure.suptitle(title)
    for row, (name, started, ended, ok) in enumerate(steps):
        width = max(ended - started, 0.05)
        bars.barh(row, width, left=started, color=OK if ok else FAILED, alpha=0.8)
        bars.text(
            started + width / 2 if width > 0.1 * _span(steps, probes) else ended,
            row,
            f" {row + 1}. {name} ({ended - started:.1f} s){'' if ok else ' FAILED'}",
            va="center",
            ha="center" if width > 0.1 * _span(steps, probes) else "left",
            fontsize=8,
        )
    bars.set_yticks(range(len(steps)), [f"step {i + 1}" for i in range(len(steps))])
    bars.invert_yaxis()
    bars.set_ylabel("steps")
    for label, healthy in (("healthy", True), ("unhealthy", False)):
        picked = [
            (at, rows.index(region if region in rows[:2] else NO_ANSWER)) for at, ok, region in probes if ok is healthy
        ]
        if picked:
            answers.scatter(
                [at for at, _ in picked],
                [row for _, row in picked],
                color=HEALTHY if healthy else UNHEALTHY,
                marker="|",
                s=120,
                label=f"probe {label}",
            )
    answers.set_yticks(range(len(rows)), [f"answered by {rows[0]}", f"answered by {rows[1]}", rows[2]])
    answers.set_ylim(len(rows) - 0.5, -0.5)
    answers.set_xlabel("seconds from the drill's start")
    answers.legend(loc="upper right", fontsize=8)
    for axes in (bars, answers):
        axes.grid(axis="x", alpha=0.3)
    return figure


def _span(steps: Sequence[tuple[str, float, float, bool]], probes: Sequence[tuple[float, bool, str]]) -> float:
    return max([s[2] for s in steps] + [p[0] for p in probes] + [1.0])

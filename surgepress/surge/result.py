"""What a run means for readers, against the workspace's surge objective.

Absorb time is measured from the first second demand exceeds what the running fleet can
serve until served capacity covers demand and keeps covering it to the end of the surge's
hold (nothing left waiting); every report says so. Requests over capacity are those that
found no free capacity the second they arrived, behind what was already waiting (they
queued, or failed after `queue_wait_s`), as a share of all requests from the surge's start to
the end of its hold.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from surgepress.surge.engine import Run
from surgepress.surge.scenario import Scenario

ABSORB_DEFINITION = (
    "absorb time: from the first second demand exceeds what the running fleet can serve until served "
    "capacity covers demand and keeps covering it to the end of the hold"
)


@dataclass(frozen=True)
class Objective:
    absorb_within_s: int
    max_overload_percent: float
    max_p95_ms: float


@dataclass(frozen=True)
class Measures:
    exceeded_at_s: int | None
    """Seconds after the surge's start when demand first exceeded capacity (None: never)."""
    absorb_s: int | None
    """None: demand was never exceeded (0 s), or it was never covered again: see `absorbed`."""
    absorbed: bool
    overload_seconds: int
    overload_requests: float
    requests: float
    overload_percent: float
    errors: float
    worst_minute_error_percent: float
    worst_minute_p95_ms: float
    peak_tasks: int
    peak_hosts: int
    first_scale_out_s: int | None
    """Seconds after the surge's start of the first scale-out action."""
    provisioning_seconds: int
    """Seconds in which tasks waited for a host (PROVISIONING)."""
    at_max_tasks_seconds: int

    def as_dict(self) -> dict:
        return asdict(self)


def measure(run: Run, scenario: Scenario) -> Measures:
    s = run.series
    start, end = scenario.surge_start_s, min(scenario.surge_end_s, len(s.demand))
    # A second is over capacity when its arrivals, behind what still waits, find no free capacity.
    waiting = [
        max(0.0, min(s.demand[t], s.demand[t] + (s.backlog[t - 1] if t else 0.0) - s.capacity[t]))
        for t in range(start, end)
    ]
    over = [t for t, w in zip(range(start, end), waiting, strict=True) if w > 1e-9]
    exceeded = over[0] if over else None
    absorbed, absorb = True, 0
    absorb_s: int | None
    if exceeded is not None:
        last_over = over[-1]
        absorbed = last_over < end - 1
        absorb_s = last_over + 1 - exceeded if absorbed else None
    else:
        absorb_s = absorb
    overload = waiting
    requests = sum(s.demand[start:end])
    minute_errors, minute_p95 = 0.0, 0.0
    for m in range(start, end, 60):
        window = range(m, min(m + 60, end))
        arrived = sum(s.demand[t] for t in window)
        if arrived:
            minute_errors = max(minute_errors, 100 * sum(s.errors[t] for t in window) / arrived)
        minute_p95 = max(minute_p95, _weighted_p95([(s.p95_ms[t], s.served[t]) for t in window]))
    scale_outs = [e.t for e in run.events if e.kind == "scale-out" and e.t >= start]
    return Measures(
        exceeded_at_s=None if exceeded is None else exceeded - start,
        absorb_s=absorb_s,
        absorbed=absorbed,
        overload_seconds=len(over),
        overload_requests=sum(overload),
        requests=requests,
        overload_percent=100 * sum(overload) / requests if requests else 0.0,
        errors=sum(s.errors[start:end]),
        worst_minute_error_percent=minute_errors,
        worst_minute_p95_ms=minute_p95,
        peak_tasks=max(s.tasks[start:end], default=0),
        peak_hosts=max(s.hosts[start:end], default=0),
        first_scale_out_s=scale_outs[0] - start if scale_outs else None,
        provisioning_seconds=sum(1 for t in range(start, end) if s.provisioning[t]),
        at_max_tasks_seconds=sum(1 for t in range(start, end) if s.desired[t] >= run.site.max_tasks),
    )


def _weighted_p95(points: list[tuple[float, float]]) -> float:
    """The 95th percentile of per-second p95s weighted by requests served (an approximation of
    the minute's p95 from the seconds' own)."""
    total = sum(w for _, w in points)
    if total <= 0:
        return 0.0
    seen = 0.0
    for value, weight in sorted(points):
        seen += weight
        if seen >= 0.95 * total:
            return value
    return points[-1][0]


def verdict(measures: Measures, objective: Objective) -> list[str]:
    """What misses the objective, one line each (empty: met)."""
    misses = []
    if not measures.absorbed:
        misses.append("demand was never covered again before the end of the hold")
    elif measures.absorb_s is not None and measures.absorb_s > objective.absorb_within_s:
        misses.append(f"absorb time {measures.absorb_s} s > {objective.absorb_within_s} s")
    if measures.overload_percent > objective.max_overload_percent:
        misses.append(
            f"{measures.overload_percent:.2f} % of requests over capacity > {objective.max_overload_percent:g} %"
        )
    if measures.worst_minute_p95_ms > objective.max_p95_ms:
        misses.append(f"worst-minute p95 {measures.worst_minute_p95_ms:.0f} ms > {objective.max_p95_ms:g} ms")
    return misses


def binding(run: Run, measures: Measures) -> list[str]:
    """Which settings held the fleet back, from what the run spent its surge waiting for."""
    site, timings, found = run.site, run.timings, []
    if measures.at_max_tasks_seconds:
        found.append(
            f"compute.max_tasks ({site.max_tasks}): the desired count sat at it {measures.at_max_tasks_seconds} s"
        )
    if measures.provisioning_seconds and site.hosts is not None:
        found.append(
            f"hosts: tasks waited {measures.provisioning_seconds} s for a host (compute.min_hosts "
            f"{site.hosts.min_hosts}, capacity_target_percent {site.hosts.target_capacity_percent}, "
            f"instance_warmup_s {site.hosts.warmup_s}, "
            f"max_scaling_step {site.hosts.max_step}; a host takes {timings.ec2_boot_s + timings.agent_register_s} s "
            "to register)"
        )
    if measures.exceeded_at_s is not None and measures.first_scale_out_s is not None:
        lag = measures.first_scale_out_s - measures.exceeded_at_s
        if lag > 0:
            found.append(
                f"alarms: the first scale-out came {lag} s after demand exceeded capacity (one-minute datapoints, "
                f"published {timings.metric_delay_s} s later; compute.surge_requests_per_minute, requests_per_target)"
            )
    start = timings.fargate_start_s if site.hosts is None else timings.image_pull_s + timings.container_start_s
    found.append(
        f"task start: {start} s to run, then {site.health_check_interval_s * site.healthy_threshold} s of health "
        "checks before a task serves"
    )
    return found

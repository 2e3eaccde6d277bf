"""A drill's measurements (RTO, RPO) and its report: markdown, JSON and a PNG timeline
(surgepress/plots.py).

RTO: from the first failed probe to the first healthy probe served by the new primary's
region after it; 0 when no probe failed; missing (a miss) when the site never recovered.

RPO: of the writes the old primary acknowledged (heartbeat rows, marker objects), those the
new primary side lacks after the cut. In seconds: from the newest acknowledged write that
arrived to the newest acknowledged write at all (0 when none is missing).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from surgepress.config import FailoverSettings, Workspace
from surgepress.drill.probes import Probe, Writes
from surgepress.plots import drill_figure, png


@dataclass(frozen=True)
class StepResult:
    index: int
    name: str
    calls: str
    started_s: float
    ended_s: float
    ok: bool
    detail: str

    @property
    def seconds(self) -> float:
        return self.ended_s - self.started_s


@dataclass(frozen=True)
class Loss:
    """What one kind of write lost across the cut."""

    kind: str  # "heartbeat rows" | "marker objects"
    acknowledged: int
    missing: tuple[int, ...]
    rpo_s: float
    failed_writes: int

    @property
    def lost(self) -> int:
        return len(self.missing)


def rto_seconds(probes: list[Probe], new_region: str) -> float | None:
    """First failed probe -> first healthy probe from `new_region` after it (0 if none failed)."""
    first_failure = next((p for p in probes if not p.healthy), None)
    if first_failure is None:
        return 0.0
    recovered = next((p for p in probes if p.at > first_failure.at and p.healthy and p.region == new_region), None)
    return None if recovered is None else recovered.at - first_failure.at


def loss(kind: str, writes: Writes, present: set[int], *, before: float) -> Loss:
    """Of the writes acknowledged before the cut (at `before`), those not present on the new side."""
    acknowledged = {n: at for n, (at, _where) in writes.acknowledged.items() if at <= before}
    missing = sorted(n for n in acknowledged if n not in present)
    rpo = 0.0
    if missing:
        kept = [at for n, at in acknowledged.items() if n in present and at <= acknowledged[missing[0]]]
        newest_lost = max(acknowledged[n] for n in missing)
        rpo = newest_lost - (max(kept) if kept else min(acknowledged.values()))
    return Loss(kind, len(acknowledged), tuple(missing), round(rpo, 3), writes.failed)


@dataclass
class DrillResult:
    kind: str
    target: str
    old: str
    new: str
    old_region: str
    new_region: str
    local: bool
    checks: list[dict]
    steps: list[StepResult]
    probes: list[Probe]
    losses: list[Loss]
    rto_s: float | None
    rpo_s: float
    rto_target_s: int
    rpo_target_s: int
    notes: list[str]

    @property
    def steps_ok(self) -> bool:
        return all(s.ok for s in self.steps)

    @property
    def rto_met(self) -> bool:
        return self.rto_s is not None and self.rto_s <= self.rto_target_s

    @property
    def rpo_met(self) -> bool:
        return self.rpo_s <= self.rpo_target_s

    @property
    def passed(self) -> bool:
        return self.steps_ok and self.rto_met and self.rpo_met

    def summary(self) -> str:
        rto = "never recovered" if self.rto_s is None else f"{self.rto_s:.1f}s"
        lost = ", ".join(f"{item.lost}/{item.acknowledged} {item.kind} lost" for item in self.losses)
        verdict = "PASSED" if self.passed else "MISSED" if self.steps_ok else "FAILED"
        return (
            f"drill {self.kind} {verdict}: RTO {rto} (target {self.rto_target_s}s, "
            f"{'met' if self.rto_met else 'missed'}), RPO {self.rpo_s:.2f}s (target {self.rpo_target_s}s, "
            f"{'met' if self.rpo_met else 'missed'}); {lost}"
        )

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "target": self.target,
            "passed": self.passed,
            "from": {"workspace": self.old, "region": self.old_region},
            "to": {"workspace": self.new, "region": self.new_region},
            "figures_from": "local data plane" if self.local else "aws",
            "rto_s": self.rto_s,
            "rto_target_s": self.rto_target_s,
            "rto_met": self.rto_met,
            "rpo_s": self.rpo_s,
            "rpo_target_s": self.rpo_target_s,
            "rpo_met": self.rpo_met,
            "preflight": self.checks,
            "steps": [{**asdict(s), "seconds": round(s.seconds, 3)} for s in self.steps],
            "losses": [{**asdict(item), "missing": list(item.missing), "lost": item.lost} for item in self.losses],
            "probes": {
                "count": len(self.probes),
                "failed": sum(1 for p in self.probes if not p.healthy),
                "records": [asdict(p) for p in self.probes],
            },
            "notes": self.notes,
        }


def measure(
    *,
    kind: str,
    target: str,
    old: Workspace,
    new: Workspace,
    checks: list[dict],
    steps: list[StepResult],
    probes: list[Probe],
    cut_at: float,
    markers: Writes,
    present_markers: set[int],
    heartbeats: Writes | None,
    present_rows: set[int] | None,
    settings: FailoverSettings,
    local: bool,
) -> DrillResult:
    losses = [loss("marker objects", markers, present_markers, before=cut_at)]
    notes = []
    if heartbeats is not None and present_rows is not None:
        losses.insert(0, loss("heartbeat rows", heartbeats, present_rows, before=cut_at))
    else:
        notes.append(
            "heartbeat rows not written: the writer database is in private data subnets the operator's "
            "machine cannot reach on aws; the database RPO there is Aurora's AuroraGlobalDBRPOLag metric"
        )
    if local:
        notes.append(
            "figures come from the local data plane (MariaDB GTID replication for the global database's "
            "storage replication, nginx for the load balancers and the edge) on the embedded AWS"
        )
    return DrillResult(
        kind=kind,
        target=target,
        old=old.name,
        new=new.name,
        old_region=old.region,
        new_region=new.region,
        local=local,
        checks=checks,
        steps=steps,
        probes=list(probes),
        losses=losses,
        rto_s=rto_seconds(probes, new.region),
        rpo_s=max(item.rpo_s for item in losses),
        rto_target_s=settings.rto_target_s,
        rpo_target_s=settings.rpo_target_s,
        notes=notes,
    )


def markdown(result: DrillResult) -> str:
    rto = "never recovered" if result.rto_s is None else f"{result.rto_s:.1f} s"
    lines = [
        f"# Drill: {result.kind} {result.old} ({result.old_region}) -> {result.new} ({result.new_region})",
        "",
        f"**{result.summary()}**",
        "",
        "| measure | value | target | met |",
        "|---|---|---|---|",
        f"| RTO | {rto} | {result.rto_target_s} s | {'yes' if result.rto_met else 'no'} |",
        f"| RPO | {result.rpo_s:.2f} s | {result.rpo_target_s} s | {'yes' if result.rpo_met else 'no'} |",
        "",
        "## Preflight",
        "",
        *(f"- {'ok' if c['ok'] else 'REFUSED'} **{c['name']}**: {c['detail']}" for c in result.checks),
        "",
        "## Runbook (timeline.png: bar N is step N; probe ticks below, green healthy, red not; "
        f"upper row {result.old_region}, lower row {result.new_region}, middle row no region)",
        "",
        "| # | step | seconds | result | detail |",
        "|---|---|---|---|---|",
        *(
            f"| {s.index} | {s.name} | {s.seconds:.1f} | {'ok' if s.ok else 'FAILED'} | {s.detail} |"
            for s in result.steps
        ),
        "",
        "## Writes across the cut",
        "",
        "| kind | acknowledged | lost | RPO s | failed writes |",
        "|---|---|---|---|---|",
        *(
            f"| {item.kind} | {item.acknowledged} | {item.lost} | {item.rpo_s:.2f} | {item.failed_writes} |"
            for item in result.losses
        ),
        "",
        f"## Probes: {len(result.probes)}, {sum(1 for p in result.probes if not p.healthy)} failed",
        "",
        *(f"- {note}" for note in result.notes),
        "",
    ]
    return "\n".join(lines)


def write_report(directory: Path, result: DrillResult) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "report.json").write_text(json.dumps(result.to_json(), indent=2) + "\n")
    (directory / "report.md").write_text(markdown(result))
    figure = drill_figure(
        [(s.name, s.started_s, s.ended_s, s.ok) for s in result.steps],
        [(p.at, p.healthy, p.region) for p in result.probes],
        old_region=result.old_region,
        new_region=result.new_region,
        title=f"DR drill: {result.old} ({result.old_region}) -> {result.new} ({result.new_region})",
    )
    (directory / "timeline.png").write_bytes(png(figure))

"""Demand: requests/s at the edge, second by second, and the share the edge answers itself.

A scenario is steady demand for `lead_s` (the fleet settles at its steady size), then a
surge shaped by its kind, then the way back down and a tail in which the fleet scales in:

- breaking-news: a linear ramp to `multiplier` x steady over `ramp_s`, held for `hold_s`,
  then back to steady over three ramps (readers leave slower than they arrive);
- double-wave: the same first wave for half the hold, down to 40 % of the surge's height
  over a ramp, ten minutes there, a second wave as high, held for half the hold;
- slow-rise: a ramp four times as long, held for `hold_s`, then back over a ramp;
- a trace: requests/s per second from a CSV (or the edge's access log), as recorded.

The edge's hit ratio moves with the surge: readers crowd onto a few hot stories, so it goes
from `steady_hit_ratio` toward `surge_hit_ratio` in proportion to how far demand is above
steady. What misses reaches the load balancer.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from surgepress.errors import UserError

KINDS = ("breaking-news", "double-wave", "slow-rise")
LEAD_S = 1800
TAIL_S = 1800


@dataclass(frozen=True)
class Scenario:
    kind: str
    steady_rps: float
    multiplier: float
    ramp_s: int
    hold_s: int
    steady_hit_ratio: float
    surge_hit_ratio: float
    lead_s: int = LEAD_S
    tail_s: int = TAIL_S
    trace: tuple[float, ...] | None = None
    """Edge requests/s per second, replacing the shape (and its lead: the trace is the run)."""
    trace_source: str = ""

    def __post_init__(self) -> None:
        where = self.trace_source or f"scenario {self.kind}"
        if self.kind not in KINDS and self.trace is None:
            raise UserError(f"{where}: expected one of {', '.join(KINDS)}, got {self.kind!r}")
        for name in ("steady_rps", "multiplier"):
            if getattr(self, name) <= 0:
                raise UserError(f"{where}: {name} must be above 0, got {getattr(self, name)!r}")
        for name in ("ramp_s", "hold_s"):
            if getattr(self, name) < 0:
                raise UserError(f"{where}: {name} must be 0 or more, got {getattr(self, name)!r}")
        for name in ("steady_hit_ratio", "surge_hit_ratio"):
            if not 0 <= getattr(self, name) < 1:
                raise UserError(f"{where}: {name} must be from 0 to below 1, got {getattr(self, name)!r}")
        if self.trace is not None:
            bad = next((v for v in self.trace if not math.isfinite(v) or v < 0), None)
            if bad is not None:
                raise UserError(f"{where}: requests must be a finite number of 0 or more, got {bad!r}")

    @property
    def surge_start_s(self) -> int:
        return 0 if self.trace is not None else self.lead_s

    @property
    def surge_end_s(self) -> int:
        """The end of the hold: the window the objective is judged over."""
        if self.trace is not None:
            return len(self.trace)
        return self.lead_s + self._shape_end()

    def _shape_end(self) -> int:
        if self.kind == "slow-rise":
            return 4 * self.ramp_s + self.hold_s
        if self.kind == "double-wave":
            return self.ramp_s + self.hold_s // 2 + self.ramp_s + 600 + self.ramp_s + self.hold_s - self.hold_s // 2
        return self.ramp_s + self.hold_s

    @property
    def duration_s(self) -> int:
        if self.trace is not None:
            return len(self.trace)
        down = 3 * self.ramp_s if self.kind == "breaking-news" else self.ramp_s
        return self.surge_end_s + down + self.tail_s

    def edge_rps(self) -> list[float]:
        if self.trace is not None:
            return list(self.trace)
        steady, peak = self.steady_rps, self.steady_rps * self.multiplier
        ramp = max(1, self.ramp_s)
        series = [steady] * self.lead_s

        def up(frm: float, to: float, seconds: int) -> None:
            seconds = max(1, seconds)
            series.extend(frm + (to - frm) * (i + 1) / seconds for i in range(seconds))

        if self.kind == "slow-rise":
            up(steady, peak, 4 * ramp)
            series.extend([peak] * self.hold_s)
            up(peak, steady, ramp)
        elif self.kind == "double-wave":
            low = steady + 0.4 * (peak - steady)
            up(steady, peak, ramp)
            series.extend([peak] * (self.hold_s // 2))
            up(peak, low, ramp)
            series.extend([low] * 600)
            up(low, peak, ramp)
            series.extend([peak] * (self.hold_s - self.hold_s // 2))
            up(peak, steady, ramp)
        else:
            up(steady, peak, ramp)
            series.extend([peak] * self.hold_s)
            up(peak, steady, 3 * ramp)
        series.extend([steady] * self.tail_s)
        return series

    def origin_rps(self) -> list[float]:
        """What misses the edge: the load balancer's requests/s."""
        edge = self.edge_rps()
        steady = self.steady_rps if self.trace is None else min(edge or [0.0])
        height = max(max(edge or [0.0]) - steady, 1e-9)
        out = []
        for rps in edge:
            share = min(1.0, max(0.0, (rps - steady) / height))
            hit = self.steady_hit_ratio + (self.surge_hit_ratio - self.steady_hit_ratio) * share
            out.append(rps * (1 - hit))
        return out


def read_trace(path: Path, column: str = "requests") -> tuple[float, ...]:
    """Requests/s per second from a CSV with a `requests` column (one row a second)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or column not in reader.fieldnames:
                raise UserError(f"{path}: no {column!r} column (columns: {', '.join(reader.fieldnames or [])})")
            values = []
            for number, row in enumerate(reader, start=2):
                try:
                    values.append(float(row[column]))
                except (TypeError, ValueError):
                    raise UserError(f"{path}: line {number}: {column} is not a number, got {row[column]!r}") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot be read ({exc.strerror})") from None
    if not values:
        raise UserError(f"{path}: no rows")
    return tuple(values)

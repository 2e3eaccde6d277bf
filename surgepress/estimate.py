"""`python main.py cost [ws…]`: what each workspace costs a month, with its line items, read
from its synthesized stack and priced from surgepress/surge/prices.json.

- A site (compute): its quiet day as the surge engine runs it (the fixed items, the fleet it
  settles at for its steady traffic, the edge and load balancer traffic; a site without a
  `surge:` section at its floor, with no traffic), times 30.4 days; for a site with a
  `surge:` section, also a surge day (the quiet day with the hours from the surge's start
  replaced by the simulated surge).
- Every workspace: the resources priced by the month whatever their use (customer managed
  KMS keys, hosted zones, CloudWatch alarms). What is priced by use alone (CloudTrail,
  Config, GuardDuty, Security Hub, logs, S3 and backup storage, Lambda) is named, not
  estimated.
- A workspace with the scheduler (staging): its off/on schedules, read from its
  `aws_scheduler_schedule` resources with their time zone (surgepress/schedules.py), give
  the hours a year it is off; off, it runs no tasks and no hosts and its Aurora instances are
  stopped (storage is still paid; the NAT gateways, load balancer, endpoints and Redis stay).
  The saving is that share of those line items; the monthly figure is after it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from surgepress.config import Workspace
from surgepress.errors import UserError
from surgepress.schedules import OffTime, off_time
from surgepress.surge.cost import DAYS_PER_MONTH, Costs, PriceTable, costs, read_fixed
from surgepress.surge.engine import Calibration, simulate
from surgepress.surge.scenario import Scenario
from surgepress.surge.site import read_site

SCHEDULE_YEAR = 2026
"""The year whose calendar the off/on schedules are evaluated over (weekdays, daylight saving)."""
MONTHLY = {
    "aws_kms_key": "kms:key",
    "aws_route53_zone": "route53:zone",
    "aws_cloudwatch_metric_alarm": "cloudwatch:alarm",
}
"""Resource type -> its price row (per resource and month)."""
BY_USE = (
    "aws_cloudtrail",
    "aws_config_configuration_recorder",
    "aws_guardduty_detector",
    "aws_securityhub_account",
    "aws_cloudwatch_log_group",
    "aws_s3_bucket",
    "aws_backup_vault",
    "aws_lambda_function",
)
"""Priced by use alone: named in the estimate, never guessed."""
SWITCHED_OFF = ("hosts", "tasks", "aurora")
"""The line items the scheduler's `off` stops (modules/scheduler)."""


@dataclass
class Estimate:
    workspace: str
    region: str
    monthly: dict[str, float] = field(default_factory=dict)
    """Line item -> USD a month (after the schedule's saving)."""
    by_use: list[str] = field(default_factory=list)
    schedule: OffTime | None = None
    saving_usd: float = 0.0
    quiet_day_usd: float | None = None
    surge_day_usd: float | None = None
    caveats: list[str] = field(default_factory=list)

    @property
    def total_usd(self) -> float:
        return sum(self.monthly.values())

    def as_json(self) -> dict:
        return {
            "workspace": self.workspace,
            "region": self.region,
            "monthly_usd": round(self.total_usd, 2),
            "line_items": {k: round(v, 2) for k, v in sorted(self.monthly.items())},
            "priced_by_use_not_estimated": self.by_use,
            "schedule": None
            if self.schedule is None
            else {
                "off_hours_a_year": self.schedule.off_hours,
                "off_percent": round(100 * self.schedule.fraction, 2),
                "saving_usd_a_month": round(self.saving_usd, 2),
                "year": SCHEDULE_YEAR,
            },
            "quiet_day_usd": None if self.quiet_day_usd is None else round(self.quiet_day_usd, 2),
            "surge_day_usd": None if self.surge_day_usd is None else round(self.surge_day_usd, 2),
            "not_aws_figures": self.caveats,
        }


def schedule_of(document: dict, workspace: str) -> OffTime | None:
    """The off/on switch the stack deploys (its two schedules), or None."""
    found: dict[str, tuple[str, str]] = {}
    for schedule in ((document.get("resource") or {}).get("aws_scheduler_schedule") or {}).values():
        try:
            action = json.loads(schedule["target"]["input"])["action"]
        except (KeyError, TypeError, ValueError):
            continue
        found[action] = (schedule["schedule_expression"], schedule.get("schedule_expression_timezone") or "UTC")
    if not found:
        return None
    if set(found) != {"off", "on"} or found["off"][1] != found["on"][1]:
        raise UserError(f"cost: {workspace}: its schedules are not one off/on pair in one time zone: {found}")
    return off_time(found["off"][0], found["on"][0], found["off"][1], SCHEDULE_YEAR)


QUIET_HOUR_S = 3600


def site_costs(ws: Workspace, document: dict, calibration: Calibration, which: str) -> Costs | None:
    """A site's day as the surge engine runs it: its own surge (a `surge:` section), or an hour
    with no traffic at its floor; None for a workspace without compute."""
    if ws.compute is None:
        return None
    if ws.surge is not None:
        from surgepress.surge import judge, scenario_for

        return judge(ws, document, scenario_for(ws), calibration, which).costs
    idle = Scenario("breaking-news", 1.0, 1.0, 0, 0, 0.0, 0.0, trace=(0.0,) * QUIET_HOUR_S, trace_source="no traffic")
    run = simulate(read_site(document, ws.name), idle.origin_rps(), calibration)
    return costs(run, idle, read_fixed(document), ws.region, PriceTable.load())


def estimate(ws: Workspace, document: dict, prices: PriceTable, site: Costs | None) -> Estimate:
    """`site`: what the surge engine priced for a site (`site_costs`), or None."""
    out = Estimate(ws.name, ws.region)
    resources = document.get("resource") or {}
    hourly: dict[str, float] = {}
    if site is not None:
        hourly, out.quiet_day_usd = site.steady_hour, site.steady_day_usd
        out.surge_day_usd = site.surge_day_usd if ws.surge is not None else None
    out.monthly = {item: usd * 24 * DAYS_PER_MONTH for item, usd in hourly.items() if usd}
    for rtype, row in MONTHLY.items():
        count = len(resources.get(rtype) or {})
        if count:
            out.monthly[f"{rtype.removeprefix('aws_').replace('_', ' ')}s ({count})"] = count * prices.usd(
                ws.region, row
            )
    out.by_use = sorted(rtype for rtype in BY_USE if resources.get(rtype))
    out.schedule = schedule_of(document, ws.name)
    if out.schedule is not None:
        for item in SWITCHED_OFF:
            if item in out.monthly:
                saved = out.monthly[item] * out.schedule.fraction
                out.saving_usd += saved
                out.monthly[item] -= saved
    out.caveats = sorted(set(prices.caveats()) | set(site.caveats if site is not None else []))
    return out


def lines(e: Estimate) -> list[str]:
    out = [f"{e.workspace} ({e.region}): ${e.total_usd:,.2f} a month"]
    out += [f"  {item:<32} ${usd:>10,.2f}" for item, usd in sorted(e.monthly.items(), key=lambda kv: -kv[1])]
    if e.schedule is not None:
        out.append(
            f"  off/on schedule: off {e.schedule.off_hours:,.0f} of {e.schedule.total_hours:,.0f} hours in "
            f"{SCHEDULE_YEAR} ({100 * e.schedule.fraction:.1f} %, switched off {e.schedule.switches} times): "
            f"saves ${e.saving_usd:,.2f} a month (tasks, hosts and Aurora instances off; included above)"
        )
    if e.surge_day_usd is not None and e.quiet_day_usd is not None:
        out.append(
            f"  a surge day ${e.surge_day_usd:,.2f} against a quiet day ${e.quiet_day_usd:,.2f} "
            f"(+${e.surge_day_usd - e.quiet_day_usd:,.2f})"
        )
    if e.by_use:
        out.append("  priced by use, not estimated: " + ", ".join(r.removeprefix("aws_") for r in e.by_use))
    return out

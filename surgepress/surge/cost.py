"""What a simulated run costs: the price table (prices.json) applied to what the stack runs
whatever the load (NAT gateways, the load balancer, interface endpoints, Aurora, Redis) and to
what the run used (host- or task-seconds, edge and origin traffic).

- The surge hour: the hour from the surge's start. A steady day: 24 times an hour at the rate of
  the second half of the lead before the surge, when the fleet has settled at its steady size.
  A surge day: a steady day whose hours from the surge's start to the run's end (the surge,
  the way down and the scale-in) are the run's.
- Traffic: CloudFront requests and bytes at the edge, the load balancer's LCUs from the bytes
  it processes (one LCU is 1 GB an hour for instance and IP targets, its largest dimension for
  a page-serving site: an APPROXIMATION), both from `response_kb`, an ASSUMED average response.
- Aurora Serverless v2 is priced at its minimum ACUs, the NAT gateways' bytes not at all (the
  tasks reach AWS through the endpoints and serve readers through the load balancer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from surgepress.errors import UserError
from surgepress.surge.engine import Run
from surgepress.surge.scenario import Scenario

PRICES = Path(__file__).with_name("prices.json")
RESPONSE_KB = 60.0
"""Average bytes of a response at the edge and the origin, in KB. Assumed: compressed pages and
the assets a page view fetches, averaged over requests."""
HOUR_S = 3600
DAYS_PER_MONTH = 30.4
"""A month: 365 / 12 days."""
HOURS_PER_MONTH = 730
"""AWS prices a GB-month over 730 hours."""


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    basis: str
    """aws | third-party | unverified"""
    source: str


@dataclass
class PriceTable:
    date: str
    regions: dict[str, dict[str, Price]]
    used: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path = PRICES) -> PriceTable:
        data = json.loads(path.read_text())
        regions = {region: {key: Price(**row) for key, row in rows.items()} for region, rows in data["regions"].items()}
        return cls(data["date"], regions)

    def usd(self, region: str, key: str) -> float:
        row = self.regions.get(region, {}).get(key)
        if row is None:
            raise UserError(f"{PRICES}: no price {key!r} for {region}; add the row (with its source) or refresh it")
        self.used.add((region, key))
        return row.usd

    def caveats(self) -> list[str]:
        """The rows used that are not AWS's own figure, for the report to name."""
        out = []
        for region, key in sorted(self.used):
            row = self.regions[region][key]
            if row.basis != "aws":
                out.append(f"{region} {key} ${row.usd:g}/{row.unit}: {row.basis} ({row.source})")
        return out


@dataclass(frozen=True)
class Fixed:
    """What a site's stack runs whatever its load, as synthesized."""

    nat_gateways: int
    load_balancers: int
    endpoint_azs: int
    database: dict[str, int]
    """instance class -> count (db.serverless priced by `min_acu`)."""
    min_acu: float
    cache: dict[str, int]


def read_fixed(document: dict) -> Fixed:
    resources = document.get("resource") or {}
    database: dict[str, int] = {}
    for instance in (resources.get("aws_rds_cluster_instance") or {}).values():
        database[instance["instance_class"]] = database.get(instance["instance_class"], 0) + 1
    min_acu = 0.0
    for cluster in (resources.get("aws_rds_cluster") or {}).values():
        scaling = cluster.get("serverlessv2_scaling_configuration") or {}
        min_acu += float(scaling.get("min_capacity") or 0) * database.get("db.serverless", 0)
    cache: dict[str, int] = {}
    for group in (resources.get("aws_elasticache_replication_group") or {}).values():
        cache[group["node_type"]] = cache.get(group["node_type"], 0) + int(group.get("num_cache_clusters") or 1)
    endpoints = [
        e for e in (resources.get("aws_vpc_endpoint") or {}).values() if e.get("vpc_endpoint_type") == "Interface"
    ]
    return Fixed(
        nat_gateways=len(resources.get("aws_nat_gateway") or {}),
        load_balancers=len(resources.get("aws_lb") or {}),
        endpoint_azs=sum(len(e.get("subnet_ids") or []) for e in endpoints),
        database=database,
        min_acu=min_acu,
        cache=cache,
    )


@dataclass(frozen=True)
class Costs:
    surge_hour_usd: float
    steady_day_usd: float
    surge_hour: dict[str, float]
    """Line items of the surge hour."""
    caveats: list[str]
    steady_hour: dict[str, float] = field(default_factory=dict)
    """Line items of an hour of the settled fleet (a steady day is 24 of them)."""
    surge_day_usd: float = 0.0
    """A steady day with the hours from the surge's start to the run's end replaced by the run."""


def fixed_hour(fixed: Fixed, prices: PriceTable, region: str) -> dict[str, float]:
    items = {
        "nat gateways": fixed.nat_gateways * prices.usd(region, "nat:hour"),
        "load balancer": fixed.load_balancers * prices.usd(region, "alb:hour"),
        "interface endpoints": fixed.endpoint_azs * prices.usd(region, "vpce:hour") if fixed.endpoint_azs else 0.0,
        "aurora": sum(
            n * prices.usd(region, f"rds:{kind}") for kind, n in fixed.database.items() if kind != "db.serverless"
        )
        + (fixed.min_acu * prices.usd(region, "rds:acu") if fixed.min_acu else 0.0),
        "redis": sum(n * prices.usd(region, f"elasticache:{kind}") for kind, n in fixed.cache.items()),
    }
    return items


def window(
    run: Run, scenario: Scenario, prices: PriceTable, region: str, start: int, end: int, response_kb: float
) -> dict:
    """Line items of the compute and traffic in [start, end) of the run, scaled to one hour."""
    s, site = run.series, run.site
    end = min(len(s.tasks), end)
    scale = HOUR_S / max(1, end - start)
    edge = scenario.edge_rps()[start:end]
    origin = s.demand[start:end]
    items: dict[str, float] = {}
    if site.hosts is not None:
        items["hosts"] = sum(s.hosts[start:end]) / HOUR_S * prices.usd(region, f"ec2:{site.hosts.instance_type}")
        if site.hosts.warm_pool:  # stopped: only their volumes are paid for
            gb = site.hosts.warm_pool * site.hosts.volume_gb
            items["warm pool volumes"] = gb * prices.usd(region, "ebs:gp3") / HOURS_PER_MONTH * (end - start) / HOUR_S
    else:

        def per_task(kind: str) -> float:
            return site.task_cpu_units / 1024 * prices.usd(region, f"{kind}:vcpu") + (
                site.task_memory_mib / 1024 * prices.usd(region, f"{kind}:gb")
            )

        running = s.tasks[start:end]
        if site.capacity == "fargate_spot":  # the strategy's base on on-demand Fargate, the rest on Spot
            base = [min(n, site.on_demand_base) for n in running]
            items["tasks"] = (
                sum(base) * per_task("fargate") + (sum(running) - sum(base)) * per_task("fargate-spot")
            ) / HOUR_S
        else:
            items["tasks"] = sum(running) / HOUR_S * per_task("fargate")
    edge_requests = sum(edge)
    items["cloudfront requests"] = edge_requests / 10_000 * prices.usd(region, "cloudfront:requests")
    items["cloudfront bytes"] = edge_requests * response_kb / 1e6 * prices.usd(region, "cloudfront:gb")
    items["load balancer LCUs"] = sum(origin) * response_kb / 1e6 * prices.usd(region, "alb:lcu")
    return {item: usd * scale for item, usd in items.items()}


def costs(
    run: Run, scenario: Scenario, fixed: Fixed, region: str, prices: PriceTable, response_kb: float = RESPONSE_KB
) -> Costs:
    hourly = fixed_hour(fixed, prices, region)
    start = scenario.surge_start_s
    surge = {**hourly, **window(run, scenario, prices, region, start, start + HOUR_S, response_kb)}
    # The settled half of the lead (the whole run for a trace), as an hour.
    before = (start // 2, start) if start else (0, len(run.series.tasks))
    steady = {**hourly, **window(run, scenario, prices, region, *before, response_kb)}
    after = len(run.series.tasks) - start
    ran = {**hourly, **window(run, scenario, prices, region, start, start + after, response_kb)}
    hours = min(24.0, after / HOUR_S)
    return Costs(
        surge_hour_usd=sum(surge.values()),
        steady_day_usd=24 * sum(steady.values()),
        surge_hour=surge,
        caveats=prices.caveats(),
        steady_hour=steady,
        surge_day_usd=(24 - hours) * sum(steady.values()) + hours * sum(ran.values()),
    )

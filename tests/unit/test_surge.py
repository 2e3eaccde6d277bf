"""surgepress/surge: each mechanism alone, with its expectation worked out by hand here, then
the sites as synthesized: production meets its objective, a slow configuration misses it and
says why, and what cannot be simulated is refused in one line."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from surgepress.surge import COMMITTED_CALIBRATION, judge, scenario_for
from surgepress.surge.engine import (
    Calibration,
    Datapoint,
    Host,
    Metrics,
    StepScalingPolicy,
    TargetTrackingPolicy,
    _hosts,
    _step,
    scale_in_to,
    simulate,
)
from surgepress.surge.params import Timings
from surgepress.surge.scenario import Scenario, read_trace
from surgepress.surge.site import Alarm, HostGroup, Site, Step, StepScaling, TargetTracking, read_site
from tests.conftest import run_cli

pytestmark = pytest.mark.unit

CAL = Calibration(rps_per_1024_cpu=10, idle_p95_ms=100, at_capacity_p95_ms=1000, source="test")
REQUESTS = TargetTracking(
    "requests", "ALBRequestCountPerTarget", target=600, scale_out_cooldown_s=30, scale_in_cooldown_s=300
)
CPU = TargetTracking(
    "cpu", "ECSServiceAverageCPUUtilization", target=50, scale_out_cooldown_s=30, scale_in_cooldown_s=300
)
SURGE_ALARM = Alarm("RequestCount", "Sum", 60, 1, 1, threshold=6000, comparison="GreaterThanThreshold")


def _site(**changes) -> Site:
    base = Site(
        workspace="test",
        capacity="fargate",
        min_tasks=2,
        max_tasks=50,
        initial_tasks=2,
        task_cpu_units=1024,
        task_memory_mib=2048,
        health_check_interval_s=10,
        healthy_threshold=2,
        deregistration_delay_s=30,
        health_check_grace_s=60,
        target_tracking=(REQUESTS,),
        step_scaling=(),
    )
    return dataclasses.replace(base, **changes)


def _point(end: int, requests: float = 0, per_target: float = 0, cpu: float = 0, healthy: float = 2) -> Datapoint:
    return Datapoint(end, requests, per_target, cpu, healthy, healthy)


def test_a_target_tracking_alarm_fires_at_the_third_breaching_minute_plus_the_publication_delay():
    # 2 tasks x 10 req/s serve 20 req/s; 30 req/s is 900 a minute per target, above 600 from t=0.
    run = simulate(_site(), [30.0] * 400, CAL, Timings(metric_delay_s=60))
    first = next(e for e in run.events if e.kind == "scale-out")
    # Periods end at 59, 119, 179; the third is published 60 s later.
    assert first.t == 179 + 60
    assert first.text == "requests: 2 -> 3 tasks"  # ceil(2 healthy x 900 / 600)


def test_only_healthy_targets_count_in_requests_per_target():
    metrics = Metrics(period_s=60, delay_s=0)
    for _ in range(60):  # 2 healthy, 3 more registered and still failing their health checks
        metrics.add(requests=10, healthy=2, registered=5, cpu_total=100, running=5)
    (point,) = [p for t in range(60) for p in metrics.tick(t)]
    assert point.requests == 600 and point.per_target == 300  # 600 / 2, not / 5
    assert point.cpu == pytest.approx(20)  # 100 percent-units over 5 running tasks


def test_a_larger_step_inside_the_cooldown_adds_only_the_difference():
    # The AWS example: capacity 10, +2 -> 12; inside the cooldown an alarm asks +3: 13, not 15.
    steps = (Step(0, 1000, 2), Step(1000, None, 3))
    policy = StepScalingPolicy(StepScaling("surge", "ChangeInCapacity", 300, "Average", 0, steps, SURGE_ALARM))
    site = _site(max_tasks=100)
    policy.observe(_point(59, requests=6500))
    assert _step(policy, 10, site, t=60, events=[]) == 12
    policy.observe(_point(119, requests=7500))
    assert _step(policy, 12, site, t=120, events=[]) == 13
    policy.observe(_point(419, requests=7500))  # after the cooldown: from the current capacity
    assert _step(policy, 13, site, t=420, events=[]) == 16


def test_percent_steps_round_down_and_rise_to_the_minimum_magnitude():
    steps = (Step(0, None, 50),)
    policy = StepScalingPolicy(StepScaling("surge", "PercentChangeInCapacity", 60, "Maximum", 2, steps, SURGE_ALARM))
    policy.observe(_point(59, requests=7000))
    assert policy.adjustment(3) == 2  # 1.5 rounds down to 1, then up to MinAdjustmentMagnitude 2
    assert policy.adjustment(9) == 4  # 4.5 rounds down
    assert policy.adjustment(1) == 2  # 0.5 is 1, then 2


def test_scale_in_waits_until_every_policy_agrees():
    requests, cpu = TargetTrackingPolicy(REQUESTS), TargetTrackingPolicy(CPU)
    for minute in range(15):
        requests.observe(_point(60 * minute + 59, per_target=100, cpu=48, healthy=10))
        cpu.observe(_point(60 * minute + 59, per_target=100, cpu=48, healthy=10))
    assert requests.low and not cpu.low  # 48 % is not below 90 % of a 50 % target
    assert scale_in_to([requests, cpu], [], floor=2) is None
    for minute in range(15, 30):
        cpu.observe(_point(60 * minute + 59, cpu=20, healthy=10))
    assert scale_in_to([requests, cpu], [], floor=2) == 4  # the larger wish: ceil(10 x 20 / 50)
    assert scale_in_to([requests], [], floor=3) == 3  # ceil(10 x 100 / 600) = 2, held at the floor


def test_the_first_hosts_come_at_200_percent_from_none():
    group = HostGroup(
        "c7i.xlarge", 0, 10, 100, warmup_s=60, min_step=1, max_step=10, tasks_per_host=3, binding="memory"
    )
    hosts: list[Host] = []
    _hosts(hosts, group, provisioning=1, t=0, timings=Timings(), events=[], low=0)
    assert len(hosts) == 2  # "always scales out to 200% (two instances)"


def test_a_warm_pool_starts_the_first_hosts_and_refills_after_a_boot():
    group = HostGroup(
        "c7i.xlarge", 1, 20, 100, warmup_s=0, min_step=1, max_step=3, tasks_per_host=3, binding="memory", warm_pool=2
    )
    timings = Timings(ec2_boot_s=40, agent_register_s=20, warm_pool_start_s=30)
    hosts, pool = [Host(launched=-1000, ready=-1000, tasks=3)], [0, 0]
    _hosts(hosts, group, provisioning=9, t=0, timings=timings, events=[], low=0, pool=pool)
    # needed ceil((3 + 9) / 3) = 4 hosts, 1 runs: +3 (the maximum step), two of them warm.
    assert [h.ready for h in hosts[1:]] == [30, 30, 60]
    assert pool == [40, 40], "each warm host taken is replaced, ready to leave the pool after a boot"
    # 18 more wait: ceil((3 + 18) / 3) = 7 hosts needed, 4 launched: +3; the refills are not ready.
    _hosts(hosts, group, provisioning=18, t=35, timings=timings, events=[], low=0, pool=pool)
    assert [h.ready for h in hosts[4:]] == [95, 95, 95], "refills not ready yet: cold boots"
    # 30 wait: 11 needed, 7 launched: +3, the two refilled hosts first.
    _hosts(hosts, group, provisioning=30, t=60, timings=timings, events=[], low=0, pool=pool)
    assert [h.ready for h in hosts[7:]] == [90, 90, 120]


def test_the_warm_up_blocks_the_second_step():
    group = HostGroup(
        "c7i.xlarge", 1, 20, 100, warmup_s=300, min_step=1, max_step=4, tasks_per_host=3, binding="memory"
    )
    timings = Timings(ec2_boot_s=40, agent_register_s=20)
    hosts = [Host(launched=-1000, ready=-1000, tasks=3)]
    _hosts(hosts, group, provisioning=12, t=0, timings=timings, events=[], low=0)
    assert len(hosts) == 5  # needed ceil((3 + 12) / 3) = 5, so +4 (the maximum step)
    assert hosts[-1].ready == 60  # boot + registration
    # More tasks wait: 27 need 9 hosts, 5 run (180 %).
    _hosts(hosts, group, provisioning=24, t=120, timings=timings, events=[], low=0)
    assert len(hosts) == 5, "the new hosts are within their warm-up: no second step"
    _hosts(hosts, group, provisioning=24, t=300, timings=timings, events=[], low=0)
    assert len(hosts) == 9, "warm-up over at 300 s: +4 more"


def test_fargate_needs_no_hosts_and_a_task_serves_after_its_start_and_health_checks():
    timings = Timings(fargate_start_s=45)
    run = simulate(_site(initial_tasks=2, min_tasks=2), [30.0] * 400, CAL, timings)
    assert set(run.series.hosts) == {0}
    scaled = next(e.t for e in run.events if e.kind == "scale-out")
    # The service places it the second after the decision, it runs 45 s later and is healthy
    # after 2 checks 10 s apart.
    serves = scaled + 1 + 45 + 20
    assert run.series.healthy[serves - 1] == 2 and run.series.healthy[serves] == 3


def test_tasks_wait_in_provisioning_until_a_host_registers():
    group = HostGroup(
        "c7i.xlarge", 1, 10, 100, warmup_s=60, min_step=1, max_step=10, tasks_per_host=3, binding="memory"
    )
    site = _site(capacity="ec2", hosts=group, min_tasks=3, initial_tasks=3)
    run = simulate(site, [50.0] * 600, CAL, Timings(metric_delay_s=0))
    scaled = next(e.t for e in run.events if e.kind == "scale-out")
    assert run.series.provisioning[scaled + 1] > 0, "the one host is full"
    added = next(e.t for e in run.events if e.kind == "hosts" and e.t >= scaled)
    assert run.series.provisioning[added + 60] == 0, "placed once the new host registered"


def test_the_host_group_acts_on_the_reservation_a_minute_late():
    group = HostGroup(
        "c7i.xlarge", 1, 10, 100, warmup_s=60, min_step=1, max_step=10, tasks_per_host=3, binding="memory"
    )
    site = _site(capacity="ec2", hosts=group, min_tasks=3, initial_tasks=3)

    def first_step(delay: int) -> tuple[int, int]:
        run = simulate(site, [50.0] * 900, CAL, Timings(metric_delay_s=0, reservation_delay_s=delay))
        waiting = next(t for t, n in enumerate(run.series.provisioning) if n)
        return waiting, next(e.t for e in run.events if e.kind == "hosts")

    waiting, at_once = first_step(0)
    assert at_once == -(-waiting // 60) * 60, "the capacity provider minute at or after tasks wait"
    assert first_step(60) == (waiting, at_once + 60), "the reservation is acted on one minute later"


def test_the_committed_calibration_is_complete_and_says_where_it_comes_from():
    data = json.loads(COMMITTED_CALIBRATION.read_text())
    fields = {k: v for k, v in data.items() if k != "measured"}
    assert Calibration(**fields).source.startswith("measured: `python main.py surge calibrate staging`")
    machine, points = data["measured"]["machine"], data["measured"]["points"]
    assert machine["cores"] and machine["cpu"], "where it was measured"
    within = [
        p for p in points if p["p95_ms"] <= data["measured"]["profile"]["objective_p95_ms"] and not p["error_rate"]
    ]
    assert data["rps_per_1024_cpu"] == max(within, key=lambda p: p["rps"])["requests_per_cpu_s"]


def test_read_site_takes_the_scaling_from_the_synthesized_json(local_stacks, settings):
    site = read_site(local_stacks["production"], "production")
    compute = settings.get("production").compute
    assert (site.min_tasks, site.max_tasks, site.capacity) == (compute.min_tasks, compute.max_tasks, "ec2")
    assert {p.metric: p.target for p in site.target_tracking} == {
        "ALBRequestCountPerTarget": compute.requests_per_target,
        "ECSServiceAverageCPUUtilization": compute.cpu_target_percent,
    }
    (surge,) = site.step_scaling
    assert surge.alarm.threshold == compute.surge_requests_per_minute and surge.alarm.period_s == 60
    assert site.hosts.instance_type == compute.instance_type and site.hosts.warmup_s == compute.instance_warmup_s
    assert site.hosts.tasks_per_host == 3  # c7i.xlarge, 1024 CPU / 2048 MiB: memory binds (3 of 7.75 GiB)
    assert read_site(local_stacks["staging"], "staging").hosts is None


def _calibration() -> tuple[Calibration, str]:
    data = json.loads(COMMITTED_CALIBRATION.read_text())
    return Calibration(**{k: v for k, v in data.items() if k != "measured"}), "committed default"


@pytest.mark.parametrize("nudge", [0.999, 1.0, 1.001])
def test_production_meets_its_objective_with_its_committed_settings(local_stacks, settings, nudge):
    # Not by a hair: a tenth of a percent more or less steady traffic meets it too.
    ws = settings.get("production")
    scenario = scenario_for(ws, steady_rps=ws.surge.steady_rps * nudge)
    outcome = judge(ws, local_stacks["production"], scenario, *_calibration())
    assert outcome.misses == [], outcome.misses
    assert outcome.measures.overload_percent <= ws.surge.max_overload_percent


def test_a_slow_configuration_misses_the_objective_and_says_what_held_it_back(local_stacks, settings):
    ws = settings.get("production")
    slow = copy.deepcopy(local_stacks["production"])
    resources = slow["resource"]
    (provider,) = resources["aws_ecs_capacity_provider"].values()
    provider["auto_scaling_group_provider"]["managed_scaling"]["instance_warmup_period"] = 300
    (group,) = resources["aws_autoscaling_group"].values()
    group["min_size"] = 1
    for policy in resources["aws_appautoscaling_policy"].values():
        config = policy.get("target_tracking_scaling_policy_configuration")
        if config:
            config["scale_out_cooldown"] = 300
            config["target_value"] = config["target_value"] * 4  # no headroom left
    outcome = judge(ws, slow, scenario_for(ws), *_calibration())
    committed = judge(ws, local_stacks["production"], scenario_for(ws), *_calibration())
    assert any(miss.startswith("absorb time") or "over capacity" in miss for miss in outcome.misses), outcome.misses
    assert committed.misses == []
    # It says why: demand outran the fleet 14 s in and the first scale-out came 225 s later
    # (the committed fleet is never outrun, so it has no such line), and hosts it names held it.
    lag = outcome.measures.first_scale_out_s - outcome.measures.exceeded_at_s
    assert lag > 180
    assert f"alarms: the first scale-out came {lag} s after demand exceeded capacity" in "\n".join(outcome.binding)
    assert not any(limit.startswith("alarms:") for limit in committed.binding)
    assert any("instance_warmup_s 300" in limit and "min_hosts 1" in limit for limit in outcome.binding)


def test_a_scenario_that_cannot_be_simulated_is_refused(tmp_path):
    from surgepress.errors import UserError

    with pytest.raises(UserError, match=r"scenario breaking-news: steady_rps must be above 0, got -1"):
        Scenario("breaking-news", -1, 10, 180, 600, 0.8, 0.9)
    with pytest.raises(UserError, match=r"scenario sudden: expected one of breaking-news, double-wave, slow-rise"):
        Scenario("sudden", 10, 10, 180, 600, 0.8, 0.9)
    csv = tmp_path / "trace.csv"
    csv.write_text("second,rps\n0,10\n")
    with pytest.raises(UserError, match=r"trace.csv: no 'requests' column \(columns: second, rps\)"):
        read_trace(csv)
    csv.write_text("requests\n10\nlots\n")
    with pytest.raises(UserError, match=r"trace.csv: line 3: requests is not a number, got 'lots'"):
        read_trace(csv)
    csv.write_text("requests\n10\ninf\n")
    with pytest.raises(UserError, match=r"^t.csv: requests must be a finite number of 0 or more, got inf$"):
        Scenario("breaking-news", 10, 10, 180, 600, 0.8, 0.9, trace=read_trace(csv), trace_source="t.csv")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["surge", "security"], "error: surge: security has no compute: nothing to simulate"),
        (["surge", "tune"], "error: surge tune: name one workspace, got none"),
        (["surge", "tune", "security"], "error: surge tune: security has no compute"),
        (
            ["surge", "production", "--multiplier", "-2"],
            "error: --multiplier: expected a number from 1 up to 100, got -2.0",
        ),
        (
            ["surge", "production", "--multiplier", "nan"],
            "error: --multiplier: expected a number from 1 up to 100, got nan",
        ),
        (
            ["surge", "production", "--hold", "100000000"],
            "error: --hold: expected a whole number from 0 to 86400, got 100000000",
        ),
        (
            ["surge", "production", "--trace", "no-such.csv"],
            "error: no-such.csv: cannot be read (No such file or directory)",
        ),
        (
            ["surge", "production", "--trace", "t.csv", "--ramp", "60"],
            "error: --trace: replays its own demand; --ramp would be ignored",
        ),
    ],
)
def test_the_cli_refuses_what_cannot_be_simulated_in_one_line(tmp_path, args, line):
    result = run_cli(*args, build=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [line]
    assert not (tmp_path / "synth").exists(), "refused before anything is synthesized"


def test_the_cli_reports_each_site_and_writes_its_report(synth_paths, local_stacks):
    result = run_cli("surge", "production", "--scenario", "double-wave", build=synth_paths.build)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "production: double-wave 10x (400 -> 4000 edge req/s, ramp 180 s, hold 1800 s)" in result.stdout
    assert "absorb time:" in result.stdout and "(absorb time: from the first second demand exceeds" in result.stdout
    reports = synth_paths.build / "reports" / "surge"
    report = json.loads((reports / "report.json").read_text())
    assert [r["workspace"] for r in report] == ["production"]
    assert report[0]["calibration"]["which"] == "committed default"
    assert (reports / "report.md").read_text().startswith("# Surge report")
    assert "![production: demand, capacity, tasks and hosts](production.png)" in (reports / "report.md").read_text()
    assert (reports / "production.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_surge_picture_draws_demand_capacity_fleet_and_every_scaling_action(local_stacks, settings):
    from surgepress.plots import EVENT_STYLE, surge_figure

    ws = settings.get("production")
    outcome = judge(ws, local_stacks["production"], scenario_for(ws), *_calibration())
    load, fleet = surge_figure(outcome).axes
    assert load.get_ylabel() == "requests per second" and fleet.get_ylabel() == "count"
    assert fleet.get_xlabel() == "seconds from the surge's start"
    demand, capacity = load.lines[:2]
    start = outcome.scenario.surge_start_s
    assert list(demand.get_ydata()) == outcome.run.series.demand
    assert list(capacity.get_ydata()) == outcome.run.series.capacity
    assert demand.get_xdata()[start] == 0, "time is counted from the surge's start"
    legend = {t.get_text() for t in fleet.get_legend().get_texts()}
    assert {"healthy tasks", "desired tasks", "hosts"} <= legend
    kinds = {e.kind for e in outcome.run.events}
    assert kinds >= {"alarm", "scale-out", "hosts"}, kinds
    assert {EVENT_STYLE[k][2] for k in kinds} <= legend, "each kind of action is named in the legend"
    marks = {line.get_xdata()[0] for line in fleet.lines}  # an axvline is a line at one x
    assert {e.t - start for e in outcome.run.events} <= marks, "every action is marked where it happened"


def test_costs_price_what_the_run_used_and_what_runs_whatever_the_load():
    from surgepress.surge.cost import Fixed, Price, PriceTable, costs

    def row(usd: float, basis: str = "aws") -> Price:
        return Price(usd, "unit", basis, "test")

    table = PriceTable(
        "2026-12-01",
        {
            "eu-west-1": {
                "fargate:vcpu": row(0.04),
                "fargate:gb": row(0.005),
                "cloudfront:requests": row(0.01),
                "cloudfront:gb": row(0.1),
                "alb:lcu": row(0.008, "unverified"),
                "nat:hour": row(0.05),
                "alb:hour": row(0.025, "third-party"),
                "rds:acu": row(0.12),
                "elasticache:cache.t4g.small": row(0.03),
            }
        },
    )
    # A fargate site that never scales (its target is out of reach), 100 edge req/s, no edge hits.
    site = _site(min_tasks=2, initial_tasks=2, target_tracking=(dataclasses.replace(REQUESTS, target=1e9),))
    scenario = Scenario("breaking-news", 100, 1, 0, 0, 0.0, 0.0, lead_s=3600, tail_s=3600)
    run = simulate(site, scenario.origin_rps(), CAL)
    fixed = Fixed(
        nat_gateways=1,
        load_balancers=1,
        endpoint_azs=0,
        database={"db.serverless": 2},
        min_acu=1.0,
        cache={"cache.t4g.small": 2},
    )
    priced = costs(run, scenario, fixed, "eu-west-1", table, response_kb=60)
    # By hand, an hour: 2 tasks x (1 vCPU x 0.04 + 2 GB x 0.005) = 0.10; 360,000 requests:
    # 36 x 0.01 = 0.36 and 21.6 GB x 0.1 = 2.16 at the edge, 21.6 LCU-hours x 0.008 = 0.1728;
    # fixed 0.05 + 0.025 + 1 ACU x 0.12 + 2 x 0.03 = 0.255.
    hour = 0.10 + 0.36 + 2.16 + 0.1728 + 0.255
    assert priced.surge_hour_usd == pytest.approx(hour)
    assert priced.steady_day_usd == pytest.approx(24 * hour)
    assert priced.surge_hour["tasks"] == pytest.approx(0.10)
    assert priced.caveats == [
        "eu-west-1 alb:hour $0.025/unit: third-party (test)",
        "eu-west-1 alb:lcu $0.008/unit: unverified (test)",
    ]


def test_fargate_spot_s_base_is_priced_on_demand_and_a_warm_pool_at_its_volumes():
    from surgepress.surge.cost import HOURS_PER_MONTH, Fixed, Price, PriceTable, costs

    prices = {
        "fargate:vcpu": 0.04,
        "fargate:gb": 0.005,
        "fargate-spot:vcpu": 0.012,
        "fargate-spot:gb": 0.0015,
        "ec2:c7i.xlarge": 0.2,
        "ebs:gp3": 0.088,
        "cloudfront:requests": 0.0,
        "cloudfront:gb": 0.0,
        "alb:lcu": 0.0,
        "nat:hour": 0.0,
        "alb:hour": 0.0,
    }
    table = PriceTable("2026-12-01", {"eu-west-1": {k: Price(v, "unit", "aws", "test") for k, v in prices.items()}})
    none = Fixed(nat_gateways=0, load_balancers=0, endpoint_azs=0, database={}, min_acu=0.0, cache={})
    idle = Scenario("breaking-news", 1.0, 1.0, 0, 0, 0.0, 0.0, trace=(0.0,) * 3600, trace_source="test")
    # 3 tasks of 1 vCPU / 2 GB, on-demand base 2: 2 x 0.05 + 1 x (0.012 + 2 x 0.0015) = 0.115 an hour.
    spot = _site(
        capacity="fargate_spot", min_tasks=3, initial_tasks=3, on_demand_base=2, target_tracking=(), step_scaling=()
    )
    priced = costs(simulate(spot, idle.origin_rps(), CAL), idle, none, "eu-west-1", table)
    assert priced.steady_hour["tasks"] == pytest.approx(2 * 0.05 + 1 * 0.015)
    # 2 hosts running, 3 stopped in the warm pool with 30 GB each: 2 x 0.2 + 90 GB x 0.088 / 730.
    hosts = HostGroup(
        "c7i.xlarge", 2, 10, 100, 60, 1, 10, tasks_per_host=3, binding="memory", warm_pool=3, volume_gb=30.0
    )
    warm = _site(min_tasks=3, initial_tasks=3, hosts=hosts, target_tracking=(), step_scaling=())
    priced = costs(simulate(warm, idle.origin_rps(), CAL), idle, none, "eu-west-1", table)
    assert priced.steady_hour["hosts"] == pytest.approx(0.4)
    assert priced.steady_hour["warm pool volumes"] == pytest.approx(90 * 0.088 / HOURS_PER_MONTH)


def test_every_price_row_says_where_it_comes_from():
    from surgepress.surge.cost import PriceTable

    table = PriceTable.load()
    for region, rows in table.regions.items():
        for key, row in rows.items():
            assert row.basis in ("aws", "third-party", "unverified"), (region, key)
            assert len(row.source) > 10 and row.usd > 0, (region, key)


def test_what_the_engine_does_not_model_is_refused_not_simulated_as_something_else(local_stacks):
    from surgepress.errors import UserError

    memory = copy.deepcopy(local_stacks["production"])
    for policy in memory["resource"]["aws_appautoscaling_policy"].values():
        config = policy.get("target_tracking_scaling_policy_configuration")
        if config and config["predefined_metric_specification"]["predefined_metric_type"].startswith("ECSService"):
            config["predefined_metric_specification"]["predefined_metric_type"] = "ECSServiceAverageMemoryUtilization"
    with pytest.raises(UserError, match=r"target tracking on ECSServiceAverageMemoryUtilization .* is not modelled"):
        read_site(memory, "production")
    five_minutes = copy.deepcopy(local_stacks["production"])
    for alarm in five_minutes["resource"]["aws_cloudwatch_metric_alarm"].values():
        if alarm["alarm_name"].endswith("-surge"):
            alarm["period"] = 300
    with pytest.raises(UserError, match=r"alarm \(Sum of RequestCount over 300 s\) is not modelled"):
        read_site(five_minutes, "production")

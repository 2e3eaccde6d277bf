"""The surge model: one site environment, second by second (deterministic).

Each mechanism is a small unit with its documented rule (sources in
../shared/research/autoscaling.md; what AWS does not publish is in `Timings`):

- `Metrics`: one datapoint per period (60 s; 20 s for ECS's high-resolution CPU), usable
  `metric_delay_s` after the period ends. RequestCount is the load balancer's Sum;
  ALBRequestCountPerTarget that Sum divided by the period's healthy targets (by the registered
  ones when none is healthy); ECS CPU the tasks' average, from the load they serve.
- `TargetTrackingPolicy`: the alarms AWS makes for it, AlarmHigh 3 of 3 datapoints above the
  target and AlarmLow 15 of 15 below 90 % of it; re-invoked at each datapoint while in alarm.
  The new desired count is `ceil(counted × metric / target)`, where `counted` is what the
  metric averages over (healthy targets, running tasks): an ASSUMPTION, AWS publishes no
  formula ("capacity proportional to the metric value"). A scale-out never lowers the desired
  count, so a larger one inside the cooldown adds only the difference; scale-in waits for its
  cooldown, for every policy to agree, and never happens on missing data.
- `StepScalingPolicy`: its own alarm (period, N of M, threshold); the step chosen by the
  breach relative to the threshold (lower bound inclusive, upper exclusive);
  PercentChangeInCapacity rounded down (between 0 and 1: 1) and raised to
  MinAdjustmentMagnitude; within the cooldown the capacity the last scale-out added counts as
  part of the current one (10 -> 12, then +3 in the cooldown gives 13).
- Tasks: PROVISIONING while nothing fits (ec2, at most `provisioning_limit`); then the image
  pull (a host's first task of the image) and the container start (Fargate: `fargate_start_s`
  for both); registered with the target group when running and healthy after
  `interval x healthy_threshold`; only healthy tasks count in ALBRequestCountPerTarget and serve.
- Hosts: every minute CapacityProviderReservation = needed / running x 100 (200 when tasks
  wait and no host runs), acted on `reservation_delay_s` later (the tasks waiting then as it
  counted them); the next step (between the capacity provider's minimum and maximum
  step sizes, toward `ceil(needed x 100 / target capacity)`) waits until no host launched by
  the last one is still within the warm-up; a host serves after EC2's boot and the agent's
  registration, or, while the warm pool has a stopped host ready, after `warm_pool_start_s`
  (the pool then launches its replacement, ready for the next step after a boot). Placement
  by the CPU, memory and ENI limits of the instance type (modules/instances.py: awsvpc
  without ENI trunking). Empty hosts above the
  need go after `scale_in_minutes` below target.
- Serving: each healthy task serves up to its calibrated capacity; what is over capacity
  queues for up to `queue_wait_s` and then fails. p95 from an M/M/1-shaped curve between the
  idle and at-capacity p95 of the calibration, plus the queue's wait: an APPROXIMATION.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from surgepress.surge.params import DEFAULT, Timings
from surgepress.surge.site import Site, StepScaling, TargetTracking

PERIOD_S = 60
HIGH_RES_PERIOD_S = 20
HIGH_RES = "ECSServiceAverageCPUUtilizationHighResolution"
TT_HIGH, TT_LOW, TT_LOW_RATIO = 3, 15, 0.9
IDLE_CPU_PERCENT = 2.0  # a running task serving nothing (assumed)
EPSILON = 1e-9
"""Metrics are sums of floating-point rates: a value that equals the target but for rounding
is not above it, and a count that is whole but for rounding is not rounded up."""


def _ceil(value: float) -> int:
    return math.ceil(value - EPSILON * max(1.0, abs(value)))


@dataclass(frozen=True)
class Calibration:
    rps_per_1024_cpu: float
    """Requests/s one task of 1024 CPU units serves at the objective's p95."""
    idle_p95_ms: float
    at_capacity_p95_ms: float
    source: str
    """How and where it was measured, or why it is assumed."""
    edge_hit_ratio: float | None = None
    """The share of the reading mix the edge answered when measured (reported beside the
    scenario's own hit ratios, which the run uses)."""


@dataclass
class Event:
    t: int
    kind: str
    """alarm | scale-out | scale-in | hosts"""
    text: str


@dataclass
class Datapoint:
    end: int
    """The second its period ended."""
    requests: float
    per_target: float
    cpu: float
    healthy: float
    running: float


class Metrics:
    """Per-period datapoints (see the module's note), each usable after the publication delay."""

    def __init__(self, period_s: int, delay_s: int) -> None:
        self.period_s, self.delay_s = period_s, delay_s
        self.published: list[Datapoint] = []
        self._waiting: deque[Datapoint] = deque()
        self._requests = self._healthy = self._registered = self._cpu = self._running = 0.0

    def add(self, requests: float, healthy: int, registered: int, cpu_total: float, running: int) -> None:
        self._requests += requests
        self._healthy += healthy
        self._registered += registered
        self._cpu += cpu_total
        self._running += running

    def tick(self, t: int) -> list[Datapoint]:
        """At second t: close the period that ends now, return the datapoints published now."""
        if (t + 1) % self.period_s == 0:
            n = self.period_s
            healthy, registered = self._healthy / n, self._registered / n
            per = self._requests / (healthy if healthy > 0 else max(registered, 1e-9)) if self._requests else 0.0
            cpu = self._cpu / self._running if self._running else 0.0
            self._waiting.append(Datapoint(t, self._requests, per, cpu, healthy, self._running / n))
            self._requests = self._healthy = self._registered = self._cpu = self._running = 0.0
        out = []
        while self._waiting and self._waiting[0].end + self.delay_s <= t:
            point = self._waiting.popleft()
            self.published.append(point)
            out.append(point)
        return out


class TargetTrackingPolicy:
    def __init__(self, config: TargetTracking) -> None:
        self.config = config
        self.values: list[float] = []
        self.bases: list[float] = []
        self.high = self.low = False

    def observe(self, point: Datapoint) -> None:
        if self.config.metric == "ALBRequestCountPerTarget":
            value, base = point.per_target, point.healthy
        else:
            value, base = point.cpu, point.running
        self.values.append(value)
        self.bases.append(base)
        high, low = self.config.target * (1 + EPSILON), TT_LOW_RATIO * self.config.target * (1 - EPSILON)
        self.high = len(self.values) >= TT_HIGH and all(v > high for v in self.values[-TT_HIGH:])
        self.low = len(self.values) >= TT_LOW and all(v < low for v in self.values[-TT_LOW:])

    def wanted(self) -> int:
        """The desired count this policy computes from its latest datapoint (the ASSUMPTION above)."""
        return _ceil(max(self.bases[-1], 1.0) * self.values[-1] / self.config.target)


class StepScalingPolicy:
    def __init__(self, config: StepScaling) -> None:
        self.config = config
        self.values: list[float] = []
        self.alarm = False
        self.cooldown_until = -1
        self.base = 0

    def observe(self, point: Datapoint) -> None:
        alarm = self.config.alarm
        self.values.append(point.requests if alarm.metric == "RequestCount" else point.cpu)
        recent = self.values[-alarm.evaluation_periods :]
        self.alarm = sum(alarm.breaches(v) for v in recent) >= alarm.datapoints_to_alarm

    def adjustment(self, capacity: int) -> int:
        """The step's change of capacity for the latest breach (0 when no step matches)."""
        config = self.config
        recent = self.values[-config.alarm.evaluation_periods :]
        value = (
            max(recent)
            if config.aggregation == "Maximum"
            else min(recent)
            if config.aggregation == "Minimum"
            else (sum(recent) / len(recent))
        )
        breach = value - config.alarm.threshold
        step = next(
            (
                s
                for s in config.steps
                if (s.lower is None or breach >= s.lower) and (s.upper is None or breach < s.upper)
            ),
            None,
        )
        if step is None:
            return 0
        if config.adjustment_type == "ChangeInCapacity":
            return step.adjustment
        if config.adjustment_type == "ExactCapacity":
            return step.adjustment - capacity
        raw = capacity * step.adjustment / 100
        change = math.floor(raw) if abs(raw) >= 1 else (1 if raw > 0 else -1 if raw < 0 else 0)
        if change > 0 and change < config.min_adjustment_magnitude:
            change = config.min_adjustment_magnitude
        return change


@dataclass
class Host:
    launched: int
    ready: int
    tasks: int = 0
    has_image: bool = False


@dataclass
class Series:
    """What a report draws and measures: one value per second."""

    demand: list[float] = field(default_factory=list)
    capacity: list[float] = field(default_factory=list)
    served: list[float] = field(default_factory=list)
    errors: list[float] = field(default_factory=list)
    backlog: list[float] = field(default_factory=list)
    """Requests waiting at the end of the second."""
    p95_ms: list[float] = field(default_factory=list)
    desired: list[int] = field(default_factory=list)
    healthy: list[int] = field(default_factory=list)
    tasks: list[int] = field(default_factory=list)
    provisioning: list[int] = field(default_factory=list)
    hosts: list[int] = field(default_factory=list)


@dataclass
class Run:
    site: Site
    calibration: Calibration
    timings: Timings
    series: Series
    events: list[Event]
    task_seconds: float
    host_seconds: float


def simulate(site: Site, origin_rps: list[float], calibration: Calibration, timings: Timings = DEFAULT) -> Run:
    """The site under `origin_rps` (requests/s at the load balancer, one value per second)."""
    per_task = calibration.rps_per_1024_cpu * site.task_cpu_units / 1024
    hosts_cfg = site.hosts
    metrics = Metrics(PERIOD_S, timings.metric_delay_s)
    fast = (
        Metrics(HIGH_RES_PERIOD_S, timings.metric_delay_s // 3)
        if any(p.metric == HIGH_RES for p in site.target_tracking)
        else None
    )
    tracking = [TargetTrackingPolicy(p) for p in site.target_tracking]
    stepping = [StepScalingPolicy(p) for p in site.step_scaling]
    series, events = Series(), []
    desired = max(site.min_tasks, min(site.max_tasks, site.initial_tasks))
    healthy = desired  # the run starts settled: the initial tasks serve
    starting: list[int] = []  # when each runs
    registering: list[int] = []  # when each is healthy
    provisioning = 0
    hosts: list[Host] = []
    if hosts_cfg is not None:
        count = max(hosts_cfg.min_hosts, math.ceil(desired / hosts_cfg.tasks_per_host))
        hosts = [Host(launched=0, ready=0, has_image=True) for _ in range(count)]
        for i in range(desired):
            hosts[i % count].tasks += 1
    scale_in_until = -1
    host_low_minutes = 0
    pool = [0] * (hosts_cfg.warm_pool if hosts_cfg is not None else 0)
    """When each warm-pool host is (again) ready to leave the pool."""
    backlog = 0.0
    task_seconds = host_seconds = 0.0

    def place(t: int) -> bool:
        """One task onto the fullest ready host with room (binpack); False if none has room."""
        room = [h for h in hosts if h.ready <= t and h.tasks < hosts_cfg.tasks_per_host]
        if not room:
            return False
        host = max(room, key=lambda h: h.tasks)
        host.tasks += 1
        start = timings.container_start_s + (0 if host.has_image else timings.image_pull_s)
        host.has_image = True
        starting.append(t + start)
        return True

    def stop_one() -> None:
        nonlocal provisioning, healthy
        if provisioning:
            provisioning -= 1
            return
        for queue in (starting, registering):
            if queue:
                queue.remove(max(queue))
                break
        else:
            healthy -= 1
        if hosts:
            busiest = max(hosts, key=lambda h: h.tasks)
            busiest.tasks -= 1

    for t, demand in enumerate(origin_rps):
        # Tasks: started ones register; registered ones pass their health checks.
        ran = [s for s in starting if s <= t]
        if ran:
            starting[:] = [s for s in starting if s > t]
            registering.extend(t + site.health_check_interval_s * site.healthy_threshold for _ in ran)
        passed = sum(1 for r in registering if r <= t)
        if passed:
            registering[:] = [r for r in registering if r > t]
            healthy += passed
        # The service runs `desired` tasks: new ones are placed (or wait), extra ones stop.
        total = provisioning + len(starting) + len(registering) + healthy
        while total < desired:
            if hosts_cfg is None:
                starting.append(t + timings.fargate_start_s)
            elif not place(t):
                if provisioning >= timings.provisioning_limit:
                    break
                provisioning += 1
            total += 1
        while provisioning and hosts_cfg is not None and place(t):
            provisioning -= 1
        while total > desired:
            stop_one()
            total -= 1
        # Serving.
        capacity = healthy * per_task
        arriving = demand + backlog
        served = min(arriving, capacity)
        backlog = arriving - served
        limit = capacity * timings.queue_wait_s
        errors = max(0.0, backlog - limit)
        backlog -= errors
        load = served / capacity if capacity else 1.0
        stretch = 1 - calibration.idle_p95_ms / calibration.at_capacity_p95_ms
        p95 = calibration.idle_p95_ms / max(1e-6, 1 - stretch * min(load, 1.0))
        if capacity and backlog:
            p95 += 1000 * backlog / capacity
        running = healthy + len(registering)
        cpu_total = healthy * load * timings.cpu_percent_at_capacity + len(registering) * IDLE_CPU_PERCENT
        metrics.add(demand, healthy, running, cpu_total, running)
        if fast is not None:
            fast.add(demand, healthy, running, cpu_total, running)
        task_seconds += total
        host_seconds += len(hosts)
        # Policies, at each newly published datapoint.
        published = metrics.tick(t)
        quick = fast.tick(t) if fast is not None else []
        for point in published:
            for stepper in stepping:
                was = stepper.alarm
                stepper.observe(point)
                if stepper.alarm and not was:
                    events.append(
                        Event(t, "alarm", f"{stepper.config.name} in ALARM ({point.requests:.0f} requests/min)")
                    )
                if stepper.alarm:
                    desired = _step(stepper, desired, site, t, events)
        for tracker in tracking:
            for point in quick if tracker.config.metric == HIGH_RES else published:
                was = tracker.high
                tracker.observe(point)
                if tracker.high and not was:
                    events.append(Event(t, "alarm", f"{tracker.config.name} AlarmHigh"))
                if tracker.high:
                    wanted = min(site.max_tasks, tracker.wanted())
                    if wanted > desired:
                        events.append(Event(t, "scale-out", f"{tracker.config.name}: {desired} -> {wanted} tasks"))
                        desired = wanted
        lower = scale_in_to(tracking, stepping, site.min_tasks) if published and t >= scale_in_until else None
        if lower is not None and lower < desired:
            events.append(Event(t, "scale-in", f"{desired} -> {lower} tasks"))
            desired = lower
            scale_in_until = t + max(p.config.scale_in_cooldown_s for p in tracking)
        # Hosts: the capacity provider's minute.
        if hosts_cfg is not None and t % timings.capacity_provider_period_s == 0:
            # The tasks waiting as the reservation the group now acts on saw them (published late).
            seen = t - timings.reservation_delay_s
            waiting = provisioning if seen >= t else series.provisioning[seen] if seen >= 0 else 0
            host_low_minutes = _hosts(hosts, hosts_cfg, waiting, t, timings, events, host_low_minutes, pool)
        series.demand.append(demand)
        series.capacity.append(capacity)
        series.served.append(served)
        series.errors.append(errors)
        series.backlog.append(backlog)
        series.p95_ms.append(p95)
        series.desired.append(desired)
        series.healthy.append(healthy)
        series.tasks.append(total)
        series.provisioning.append(provisioning)
        series.hosts.append(len(hosts))
    return Run(site, calibration, timings, series, events, task_seconds, host_seconds)


def scale_in_to(tracking: list[TargetTrackingPolicy], stepping: list[StepScalingPolicy], floor: int) -> int | None:
    """The desired count a scale-in goes to, or None: only when every target tracking policy is
    in AlarmLow (none with scale-in disabled) and no step policy is in alarm; the largest count
    any of them wants (never below the floor)."""
    if not tracking or any(not p.low or p.config.disable_scale_in for p in tracking) or any(p.alarm for p in stepping):
        return None
    return max(floor, max(p.wanted() for p in tracking))


def _step(policy: StepScalingPolicy, desired: int, site: Site, t: int, events: list[Event]) -> int:
    """The step policy's scale-out at an invocation (cooldown: see the module's note)."""
    in_cooldown = t < policy.cooldown_until
    base = policy.base if in_cooldown else desired
    change = policy.adjustment(base)
    if change <= 0:
        return desired
    wanted = min(site.max_tasks, base + change)
    if wanted <= desired:
        return desired
    events.append(Event(t, "scale-out", f"{policy.config.name}: {desired} -> {wanted} tasks"))
    if not in_cooldown:
        policy.base = desired
    policy.cooldown_until = t + policy.config.cooldown_s
    return wanted


def _hosts(
    hosts: list[Host],
    cfg,
    provisioning: int,
    t: int,
    timings: Timings,
    events: list[Event],
    low: int,
    pool: list[int] | None = None,
) -> int:
    """The capacity provider's minute (see the module's note); returns the minutes below target."""
    per = cfg.tasks_per_host
    running = [h for h in hosts if h.ready <= t]
    placed = sum(h.tasks for h in hosts)
    needed = max(sum(1 for h in hosts if h.tasks), math.ceil((placed + provisioning) / per))
    # 200 %: tasks wait and no host runs ("always scales out to 200% (two instances)").
    reservation = 100 * needed / len(running) if running else 200.0 if provisioning else 0.0
    target = cfg.target_capacity_percent
    if reservation > target:
        low = 0
        warming = any(t < h.launched + cfg.warmup_s for h in hosts)
        if not warming:
            goal = 2 if not running and not hosts else math.ceil(needed * 100 / target)
            step = min(cfg.max_step, max(cfg.min_step, goal - len(hosts)))
            step = min(step, cfg.max_hosts - len(hosts))
            if step > 0:
                cold, pool = timings.ec2_boot_s + timings.agent_register_s, pool if pool is not None else []
                warm = [i for i, ready in enumerate(pool) if ready <= t][:step]
                for i in warm:
                    pool[i] = t + timings.ec2_boot_s  # the pool's replacement: launched, initialized, stopped
                hosts.extend(
                    Host(launched=t, ready=t + (timings.warm_pool_start_s if n < len(warm) else cold))
                    for n in range(step)
                )
                source = f", {len(warm)} from the warm pool" if pool else ""
                events.append(
                    Event(t, "hosts", f"reservation {reservation:.0f}%: +{step} hosts ({len(hosts)}){source}")
                )
        return low
    low = low + 1 if reservation < target else 0
    if low >= timings.scale_in_minutes:
        goal = max(cfg.min_hosts, math.ceil(needed * 100 / target))
        empty = [h for h in hosts if h.tasks == 0 and h.ready <= t]
        remove = min(len(empty), len(hosts) - goal, max(1, len(hosts) // 2))
        if remove > 0:
            for host in empty[:remove]:
                hosts.remove(host)
            events.append(Event(t, "hosts", f"reservation {reservation:.0f}%: -{remove} hosts ({len(hosts)})"))
    return low

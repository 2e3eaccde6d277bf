"""DR drills: move a replicated site's writer between its two regions, and measure it.

    switchover  planned, no data loss: Aurora SwitchoverGlobalCluster to the other region
    failover    unplanned: FailoverGlobalCluster with AllowDataLoss to the other region
    failback    a switchover back to the source workspace's region

A drill is preflight, then a runbook of steps (each timed and logged), with a prober and
two writers running in the background for the whole of it (see `probes`), then a report
(markdown, JSON, PNG timeline) under `<build>/reports/drills/`. It exits non-zero when a
step fails or the RTO/RPO targets of `failover:` are missed. `--dry-run` runs the read-only
preflight and prints the runbook with the calls it would make, and changes nothing.

The same code drives the embedded AWS and real AWS. On the local target the data plane is
kept in step with each move: MariaDB replication follows the global cluster, the moved
region's app is rolled with its new settings, and the edge follows the failover records.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from surgepress.accounts import StateStore
from surgepress.aws import WorkspaceClients
from surgepress.config import ENVIRONMENTS_DIR, ENVIRONMENTS_ENV, Workspace
from surgepress.drill.local import LocalSite
from surgepress.drill.probes import MarkerWriter, Prober
from surgepress.drill.report import StepResult, measure, write_report
from surgepress.drill.topology import Site, Topology, read_topology, require_site  # noqa: F401 (re-exported)
from surgepress.errors import UserError
from surgepress.targets import Target

KINDS = ("switchover", "failover", "failback")
WRITER_TIMEOUT_S = 900.0  # Aurora's switchover usually takes 1-2 minutes, a failover a few
VERIFY_TIMEOUT_S = 300.0
POLL_S = 0.5
OUTAGE_LAG_S = 2.0  # how long writes go on into a halted replication before the outage
# What the prober requests: a page the edge forwards to the origin uncached (PHP and the
# database), so probes see the origin's outage, not a cached copy; its redirect to the login
# counts as healthy. (wp-login.php itself is rate-limited by the web ACL.)
PROBE_PATH = "/wp-admin/"


class DrillRefused(UserError):
    """Preflight failed: nothing was changed."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Side:
    """One region of the site, with what the drill reads and changes there."""

    ws: Workspace
    clients: WorkspaceClients
    outputs: dict[str, Any]

    def out(self, name: str) -> Any:
        try:
            return self.outputs[name]["value"]
        except KeyError:
            raise UserError(f"{self.ws.name}: output {name!r} is missing; deploy it first") from None

    @property
    def resource_id(self) -> str:
        return f"service/{self.out('cluster_name')}/{self.out('service_name')}"

    def service(self) -> dict:
        services = self.clients.get("ecs").describe_services(
            cluster=self.out("cluster_name"), services=[self.out("service_name")]
        )["services"]
        return services[0] if services else {}

    def scalable_target(self) -> dict:
        found = self.clients.get("application-autoscaling").describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=[self.resource_id]
        )["ScalableTargets"]
        return found[0] if found else {}


@dataclass
class Plan:
    kind: str
    old: Side
    new: Side
    data_loss: bool
    steps: list[tuple[str, str, Callable[[], str]]] = field(default_factory=list)


class Drill:
    def __init__(
        self,
        session,
        kind: str,
        *,
        dry_run: bool = False,
        simulate_outage: bool = False,
        marker_grace_s: int | None = None,
        say: Callable[[str], None] | None = None,
    ) -> None:
        if kind not in KINDS:
            raise UserError(f"drill: expected one of {', '.join(KINDS)}, got {kind!r}")
        if simulate_outage and (kind != "failover" or session.target is not Target.LOCAL):
            raise UserError(
                "drill: --simulate-outage is for `failover` on the local target (it halts the "
                "emulator's replication and kills the primary's database)"
            )
        self.session, self.kind, self.dry_run, self.simulate_outage = session, kind, dry_run, simulate_outage
        self.say = say or session.say
        self.env, self.target, self.paths = session.env, session.target, session.paths
        self.site: Site = require_site(session.settings)
        failover = self.site.source.failover
        assert failover is not None, "a replicated site's source has its failover section (checked at load)"
        self.settings = failover
        self.marker_grace_s = self.settings.marker_grace_s if marker_grace_s is None else marker_grace_s
        self.local = LocalSite(session, self.site) if self.target is Target.LOCAL else None
        self.started = time.monotonic()

    # --- the plan ---------------------------------------------------------------------------

    def _sides(self, topology: Topology) -> tuple[Side, Side]:
        store = StateStore(self.session.settings, self.env)
        sides = {ws.name: Side(ws, WorkspaceClients(ws, self.env), store.outputs(ws)) for ws in self.site.sides}
        writer = topology.writer or self.site.recorded_primary.name
        old = sides[writer]
        if self.kind == "failback":
            if writer == self.site.source.name:
                raise DrillRefused(
                    f"drill failback: {writer} ({self.site.source.region}) writes already; nothing to fail back"
                )
            return old, sides[self.site.source.name]
        return old, sides[self.site.other(old.ws).name]

    def plan(self, topology: Topology) -> Plan:
        old, new = self._sides(topology)
        plan = Plan(self.kind, old, new, data_loss=self.kind == "failover")
        api = "FailoverGlobalCluster (AllowDataLoss)" if plan.data_loss else "SwitchoverGlobalCluster"
        source_file = self.source_file()
        plan.steps = [
            (
                f"scale up {new.ws.name}",
                f"application-autoscaling RegisterScalableTarget {new.resource_id} min "
                f"{self.floors(new.ws, serving=True)[0]}; ecs UpdateService desiredCount to the current writer's size; "
                "autoscaling UpdateAutoScalingGroup min hosts",
                lambda: self.scale(plan.old, plan.new, serving=True),
            ),
            (
                f"database: {'failover' if plan.data_loss else 'switchover'} to {new.ws.region}",
                f"rds {api} {topology.identifier} -> {topology.clusters.get(new.ws.name, '?')}",
                lambda: self.move_writer(plan),
            ),
            (
                "wait for the new writer",
                f"rds DescribeGlobalClusters until available with {new.ws.name} writing",
                lambda: self.wait_writer(plan),
            ),
            (
                f"point {new.ws.name}'s app at its writer",
                f"ssm PutParameter {new.out('app_setting_parameters')['db-host']} = {new.out('cluster_endpoint')}; "
                "ecs UpdateService forceNewDeployment",
                lambda: self.repoint(plan.new, writer=True),
            ),
            (
                f"fail DNS over to {new.ws.region}",
                f"route53 ChangeResourceRecordSets UPSERT {new.ws.region} PRIMARY, {old.ws.region} SECONDARY",
                lambda: self.fail_dns_over(plan),
            ),
            (
                f"verify {new.ws.region} serves",
                "probe the site until the new region answers healthy",
                lambda: self.verify(plan),
            ),
            (
                f"scale down {old.ws.name}",
                f"ssm PutParameter db-host = its reader endpoint; min {self.floors(old.ws, serving=False)[0]} tasks",
                lambda: self.scale_down_old(plan),
            ),
            (
                f"record {new.ws.region} as primary",
                f"{source_file}: failover.primary_region = {new.ws.region}",
                lambda: self.record(new.ws.region),
            ),
        ]
        if self.simulate_outage:
            plan.steps.insert(
                0,
                (
                    f"simulated outage of {old.ws.region}",
                    "halt database and bucket replication, "
                    f"write on for {OUTAGE_LAG_S:.0f}s, kill {old.ws.name}'s database",
                    lambda: self.local.outage(plan.old.ws, plan.new.ws, lag_s=OUTAGE_LAG_S),
                ),
            )
        return plan

    def floors(self, ws: Workspace, *, serving: bool) -> tuple[int, int]:
        """(tasks, hosts) floors: the source's configured ones where serving, the replica's where waiting."""
        source, replica = self.site.source.compute, self.site.replica.compute
        chosen = source if serving else replica
        return chosen.min_tasks, chosen.min_hosts

    def source_file(self) -> Path:
        directory = Path(os.environ.get(ENVIRONMENTS_ENV) or ENVIRONMENTS_DIR)
        return directory / Path(self.site.source.file).name

    # --- preflight --------------------------------------------------------------------------

    def preflight(self, topology: Topology, plan: Plan) -> list[Check]:
        checks = []
        for side in (plan.old, plan.new):
            try:
                side.clients.get("sts").get_caller_identity()
                status = side.service().get("status", "MISSING")
                checks.append(
                    Check(
                        f"{side.ws.name} reachable",
                        status == "ACTIVE",
                        f"{side.ws.region}: ECS service {side.out('service_name')} is {status}",
                    )
                )
            except Exception as exc:  # noqa: BLE001 - unreachable is the finding
                checks.append(Check(f"{side.ws.name} reachable", False, f"{side.ws.region}: {exc}"))
        recorded = self.site.recorded_primary.name
        checks.append(
            Check(
                "global database settled",
                topology.settled and len(topology.clusters) == 2,
                f"{topology.identifier} is {topology.status} with members "
                f"{', '.join(sorted(topology.clusters)) or 'none'}",
            )
        )
        checks.append(
            Check(
                "config agrees with the global database",
                topology.writer == recorded,
                f"the writer is {topology.writer}; {self.source_file().name} records "
                f"{self.site.recorded_primary.region} ({recorded})",
            )
        )
        needs_healthy = [plan.new] if plan.data_loss else [plan.old, plan.new]
        for side in needs_healthy:
            ok, detail = self.local.healthy(side.ws) if self.local else _targets_healthy(side)
            checks.append(Check(f"{side.ws.name} healthy", ok, detail))
        lag_ok, lag = self.replication_lag(plan)
        if plan.data_loss:
            checks.append(Check("replication lag (failover: reported, not required)", True, lag))
        else:
            checks.append(Check(f"replication lag under {self.settings.max_replication_lag_s}s", lag_ok, lag))
        checks.append(self.capacity(plan))
        return checks

    def replication_lag(self, plan: Plan) -> tuple[bool, str]:
        limit = self.settings.max_replication_lag_s
        if self.local:
            return self.local.replication_lag(plan.old.ws, plan.new.ws, limit)
        cloudwatch = plan.new.clients.get("cloudwatch")
        now = datetime.now(UTC)
        stats = cloudwatch.get_metric_statistics(
            Namespace="AWS/RDS",
            MetricName="AuroraGlobalDBReplicationLag",
            Statistics=["Maximum"],
            Period=60,
            Dimensions=[{"Name": "DBClusterIdentifier", "Value": plan.new.out("cluster_identifier")}],
            StartTime=now - timedelta(minutes=5),
            EndTime=now,
        )["Datapoints"]
        if not stats:
            return False, "no AuroraGlobalDBReplicationLag data in the last 5 minutes"
        worst = max(p["Maximum"] for p in stats) / 1000
        return worst <= limit, f"database {worst:.2f}s (AuroraGlobalDBReplicationLag, 5 min max)"

    def capacity(self, plan: Plan) -> Check:
        new, old = plan.new, plan.old
        try:
            service, target = new.service(), new.scalable_target()
            wanted = max(old.service().get("desiredCount", 0), self.floors(new.ws, serving=True)[0])
            groups = new.clients.get("elasticache").describe_replication_groups()["ReplicationGroups"]
            cache = next(
                (
                    g
                    for g in groups
                    if g["NodeGroups"][0]["PrimaryEndpoint"]["Address"] == new.out("cache_primary_endpoint_address")
                ),
                None,
            )
            problems = []
            if service.get("desiredCount", 0) < 1:
                problems.append(f"service runs {service.get('desiredCount', 0)} tasks (pilot light needs >= 1)")
            if not target or target["MaxCapacity"] < wanted:
                problems.append(f"scaling ceiling {target.get('MaxCapacity', 'missing')} < {wanted} tasks needed")
            if cache is None or cache.get("Status") != "available":
                problems.append(f"cache {cache.get('Status') if cache else 'missing'}")
            detail = "; ".join(problems) or (
                f"{service['desiredCount']} tasks running, ceiling "
                f"{target['MaxCapacity']} >= {wanted} needed, cache available"
            )
            return Check(f"{new.ws.name} capacity present", not problems, detail)
        except Exception as exc:  # noqa: BLE001
            return Check(f"{new.ws.name} capacity present", False, str(exc))

    # --- steps ------------------------------------------------------------------------------

    def scale(self, old: Side, side: Side, *, serving: bool) -> str:
        tasks, hosts = self.floors(side.ws, serving=serving)
        desired = max(old.service().get("desiredCount", 0), tasks) if serving else tasks
        target = side.scalable_target()
        side.clients.get("application-autoscaling").register_scalable_target(
            ServiceNamespace="ecs",
            ResourceId=side.resource_id,
            ScalableDimension="ecs:service:DesiredCount",
            MinCapacity=tasks,
            MaxCapacity=max(target.get("MaxCapacity", desired), desired),
        )
        side.clients.get("ecs").update_service(
            cluster=side.out("cluster_name"), service=side.out("service_name"), desiredCount=desired
        )
        hosts_note = ""
        group = side.outputs.get("host_group_name", {}).get("value")
        if group:
            asg = side.clients.get("autoscaling")
            current = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[group])["AutoScalingGroups"][0]
            capacity = max(current["DesiredCapacity"], hosts) if serving else hosts
            asg.update_auto_scaling_group(AutoScalingGroupName=group, MinSize=hosts, DesiredCapacity=capacity)
            hosts_note = f", hosts min {hosts} desired {capacity}"
        return f"{side.ws.name}: {desired} tasks (floor {tasks}){hosts_note}"

    def move_writer(self, plan: Plan) -> str:
        topology = read_topology(self.site, self.env)
        rds = plan.new.clients.get("rds")
        target = topology.clusters[plan.new.ws.name]
        if plan.data_loss:
            rds.failover_global_cluster(
                GlobalClusterIdentifier=topology.identifier, TargetDbClusterIdentifier=target, AllowDataLoss=True
            )
        else:
            rds.switchover_global_cluster(GlobalClusterIdentifier=topology.identifier, TargetDbClusterIdentifier=target)
        return f"{topology.identifier}: writer moving to {target}"

    def wait_writer(self, plan: Plan) -> str:
        deadline = time.monotonic() + WRITER_TIMEOUT_S
        caught_up = False
        while True:
            topology = read_topology(self.site, self.env)
            if self.local and not topology.settled and not caught_up:
                caught_up = self.local.fence_and_catch_up(plan.old.ws, plan.new.ws, wait=not plan.data_loss)
            if topology.settled and topology.writer == plan.new.ws.name:
                break
            if time.monotonic() > deadline:
                raise StepFailed(
                    f"{topology.identifier} still {topology.status} (writer {topology.writer}) after "
                    f"{WRITER_TIMEOUT_S:.0f}s"
                )
            time.sleep(POLL_S)
        note = ""
        if self.local:
            diverged = frozenset({plan.old.ws.name}) if plan.data_loss else frozenset()
            roles = self.local.reconcile(diverged=diverged)
            note = "; data plane: " + ", ".join(f"{k} {v}" for k, v in roles.items())
        self.current_writer = plan.new.ws
        return f"{plan.new.ws.name} writes ({topology.clusters[plan.new.ws.name]}){note}"

    def repoint(self, side: Side, *, writer: bool) -> str:
        parameters = side.out("app_setting_parameters")
        endpoint = side.out("cluster_endpoint" if writer else "cluster_reader_endpoint")
        ssm = side.clients.get("ssm")
        ssm.put_parameter(Name=parameters["db-host"], Value=endpoint, Type="String", Overwrite=True)
        ssm.put_parameter(
            Name=parameters["cache-host"],
            Value=side.out("cache_primary_endpoint_address"),
            Type="String",
            Overwrite=True,
        )
        side.clients.get("ecs").update_service(
            cluster=side.out("cluster_name"), service=side.out("service_name"), forceNewDeployment=True
        )
        rolled = f"; {self.local.refresh(side.ws, writer=writer)}" if self.local else ""
        return f"{side.ws.name}: db-host {endpoint}; service rolled{rolled}"

    def fail_dns_over(self, plan: Plan) -> str:
        from surgepress.dataplane.discover import failover_records

        origin = f"{self.site.source.dns.origin_host}.{self.site.source.dns.zone_name}"
        route53 = plan.new.clients.get("route53")
        zone_name = self.site.source.dns.zone_name + "."
        zone = next(
            (
                z
                for z in route53.list_hosted_zones_by_name(DNSName=zone_name)["HostedZones"]
                if z["Name"] == zone_name and not z.get("Config", {}).get("PrivateZone")
            ),
            None,
        )
        if zone is None:
            raise StepFailed(f"no public hosted zone {zone_name} in {plan.new.ws.name}'s account")
        records = route53.list_resource_record_sets(
            HostedZoneId=zone["Id"], StartRecordName=origin, StartRecordType="A"
        )["ResourceRecordSets"]
        changes = []
        for record in records:
            if record["Name"] != origin + "." or not record.get("Failover"):
                continue
            role = "PRIMARY" if record.get("SetIdentifier") == plan.new.ws.region else "SECONDARY"
            changes.append({"Action": "UPSERT", "ResourceRecordSet": {**record, "Failover": role}})
        if len(changes) != 2:
            raise StepFailed(f"{origin}: expected two failover records, found {len(changes)}")
        route53.change_resource_record_sets(
            HostedZoneId=zone["Id"],
            ChangeBatch={"Comment": f"surgepress drill {self.kind}: {plan.new.ws.region} serves", "Changes": changes},
        )
        answer = failover_records(plan.new.clients, origin)
        if self.local:
            self.local.refresh_edge()
        return f"{origin}: " + ", ".join(f"{r.set_identifier} {r.role}" for r in answer)

    def verify(self, plan: Plan) -> str:
        deadline = time.monotonic() + VERIFY_TIMEOUT_S
        while time.monotonic() < deadline:
            probe = self.prober.probe_once()
            if probe.healthy and probe.region == plan.new.ws.region:
                return f"HTTP {probe.status} from {probe.region} in {probe.latency_ms:.0f} ms"
            time.sleep(POLL_S)
        raise StepFailed(f"the site did not answer healthy from {plan.new.ws.region} within {VERIFY_TIMEOUT_S:.0f}s")

    def scale_down_old(self, plan: Plan) -> str:
        repointed = self.repoint(plan.old, writer=False)
        return f"{self.scale(plan.new, plan.old, serving=False)}; {repointed}"

    def record(self, region: str) -> str:
        path = self.source_file()
        before = path.read_text()
        path.write_text(set_primary_region(before, region))
        return f"{path.name}: failover.primary_region = {region}"

    # --- the run ----------------------------------------------------------------------------

    def clock(self) -> float:
        return time.monotonic() - self.started

    def run(self) -> int:
        if self.local:
            self.local.require_running()
        topology = read_topology(self.site, self.env)
        plan = self.plan(topology)
        checks = self.preflight(topology, plan)
        self.say(
            f"drill {self.kind}: {plan.old.ws.name} ({plan.old.ws.region}) -> {plan.new.ws.name} "
            f"({plan.new.ws.region}), target {self.target.value}{' (dry run)' if self.dry_run else ''}"
        )
        for check in checks:
            self.say(f"  preflight {'ok     ' if check.ok else 'REFUSED'} {check.name}: {check.detail}")
        failed = [c for c in checks if not c.ok]
        if self.dry_run:
            self.say("runbook:")
            for i, (name, calls, _) in enumerate(plan.steps, 1):
                self.say(f"  {i}. {name}: {calls}")
            self.say("dry run: nothing was changed")
        if failed:
            raise DrillRefused(
                f"drill {self.kind} refused by preflight ({len(failed)} check(s) failed: "
                f"{'; '.join(c.name for c in failed)}); nothing was changed"
            )
        if self.dry_run:
            return 0
        return self._execute(plan, checks)

    def _execute(self, plan: Plan, checks: list[Check]) -> int:
        run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + f"-{self.kind}"
        self.started = time.monotonic()
        self.current_writer = plan.old.ws
        site_domain = f"{self.site.source.dns.site_host}.{self.site.source.dns.zone_name}"
        url, host, ca = self.local.edge() if self.local else (f"https://{site_domain}", site_domain, None)
        url += PROBE_PATH
        self.prober = Prober(url, host, ca, self.settings.probe_interval_ms / 1000, self.clock)
        sides = {plan.old.ws.name: plan.old, plan.new.ws.name: plan.new}
        buckets = {name: (side.clients.get("s3"), side.out("media_bucket_name")) for name, side in sides.items()}
        markers = MarkerWriter(run_id, lambda: buckets[self.current_writer.name], self.clock)
        heartbeats = self.local.heartbeats(run_id, self.clock, lambda: self.current_writer) if self.local else None
        if heartbeats:
            heartbeats.prepare()
        for loop in (self.prober, markers, heartbeats):
            if loop:
                loop.start()
        time.sleep(1.0)  # a baseline of probes and writes before the first step
        steps: list[StepResult] = []
        for index, (name, calls, action) in enumerate(plan.steps, 1):
            started = self.clock()
            try:
                detail, ok = action(), True
            except StepFailed as exc:
                detail, ok = str(exc), False
            except Exception as exc:  # noqa: BLE001 - an API refusal mid-drill is a finding, recorded as such
                detail, ok = f"{type(exc).__name__}: {exc}", False
            steps.append(StepResult(index, name, calls, started, self.clock(), ok, detail))
            self.say(f"  step {index} {'ok    ' if ok else 'FAILED'} {self.clock() - started:6.1f}s  {name}: {detail}")
            if not ok:
                break
        cut_at = self.clock()
        for loop in (markers, heartbeats):
            if loop:
                loop.stop()
        present_markers, present_rows = self._wait_for_markers(plan, markers), None
        if heartbeats:
            present_rows = heartbeats.present(self.local.database_endpoint(plan.new.ws))
        self.prober.stop()
        if self.local and self.simulate_outage:
            self.say(self.local.end_outage())
        result = measure(
            kind=self.kind,
            target=self.target.value,
            old=plan.old.ws,
            new=plan.new.ws,
            checks=[c.__dict__ for c in checks],
            steps=steps,
            probes=self.prober.probes,
            cut_at=cut_at,
            markers=markers.writes,
            present_markers=present_markers,
            heartbeats=heartbeats.writes if heartbeats else None,
            present_rows=present_rows,
            settings=self.settings,
            local=self.local is not None,
        )
        directory = self.paths.build / "reports" / "drills" / run_id
        write_report(directory, result)
        self.say(result.summary())
        self.say(f"report: {directory / 'report.md'} (+ report.json, timeline.png)")
        return 0 if result.passed else 1

    def _wait_for_markers(self, plan: Plan, markers: MarkerWriter) -> set[int]:
        s3, bucket = plan.new.clients.get("s3"), plan.new.out("media_bucket_name")
        wanted = set(markers.writes.acknowledged)
        deadline = time.monotonic() + self.marker_grace_s
        while True:
            present = markers.present(s3, bucket)
            if wanted <= present or time.monotonic() >= deadline:
                return present
            time.sleep(POLL_S)


class StepFailed(Exception):
    pass


def _targets_healthy(side: Side) -> tuple[bool, str]:
    elb = side.clients.get("elbv2")
    groups = elb.describe_target_groups(
        LoadBalancerArn=next(
            lb["LoadBalancerArn"]
            for lb in elb.describe_load_balancers()["LoadBalancers"]
            if lb["DNSName"] == side.out("alb_dns_name")
        )
    )["TargetGroups"]
    healthy = sum(
        1
        for g in groups
        for t in elb.describe_target_health(TargetGroupArn=g["TargetGroupArn"])["TargetHealthDescriptions"]
        if t["TargetHealth"]["State"] == "healthy"
    )
    return healthy > 0, f"{healthy} healthy target(s) behind {side.out('alb_dns_name')}"


def set_primary_region(text: str, region: str) -> str:
    """The environment file with `failover.primary_region` set, comments and layout kept."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"failover:\s*(\{\s*\})?\s*(#.*)?$", line)), None)
    if start is None:
        raise UserError("drill: the source file has no `failover:` section to record the primary region in")
    if re.match(r"failover:\s*\{\s*\}", lines[start]):
        lines[start] = "failover:\n"
    end = start + 1
    while end < len(lines) and (lines[end].startswith((" ", "\t")) or not lines[end].strip()):
        found = re.match(r"(\s+primary_region:\s*)(\S+)(.*)", lines[end], re.S)
        if found:
            lines[end] = f"{found.group(1)}{region}{found.group(3)}"
            return "".join(lines)
        end += 1
    lines.insert(start + 1, f"  primary_region: {region}  # recorded by `python main.py drill`\n")
    return "".join(lines)

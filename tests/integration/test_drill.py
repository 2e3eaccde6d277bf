"""Stage drill: the replicated site's writer moves between regions and back, measured.

- A dry run changes nothing.
- A switchover then a failback leave the global database as it started, lose no heartbeat
  row or marker object and write a report each; between them, with the roles swapped, both
  workspaces' plans are clean.
- Each preflight refusal: replication lag, missing DR capacity, config that disagrees with
  the global database, an unhealthy region, an unreachable region.
- A failover with the primary's database killed mid-write reports RPO > 0 and exits 1;
  the region recovers (reseeded from the new writer) and fails back.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from surgepress.drill.topology import read_topology, replicated_site

pytestmark = [pytest.mark.integration, pytest.mark.stage("drill")]


@pytest.fixture(scope="module")
def site(deployed, local_only):
    found = replicated_site(deployed.settings)
    if found is None or not {found.source.name, found.replica.name} <= set(deployed.state.workspaces):
        pytest.skip("no replicated site (production + dr) in this run")
    return found


def _writer(deployed, site) -> str:
    return read_topology(site, deployed.environment()).writer


def _report(result) -> dict:
    found = re.search(r"report: (\S+)/report\.md", result.stdout)
    assert found, f"no report path in:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}"
    directory = Path(found.group(1))
    assert (directory / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "## Runbook" in (directory / "report.md").read_text()
    return json.loads((directory / "report.json").read_text())


def _lost(report: dict) -> dict[str, int]:
    return {item["kind"]: item["lost"] for item in report["losses"]}


def _primary_region(deployed) -> str:
    return re.search(r"primary_region:\s*(\S+)", (deployed.environments / "production.yaml").read_text()).group(1)


def _plan_is_clean(deployed, site) -> None:
    result = deployed.cli("plan", site.source.name, site.replica.name)
    assert result.returncode == 0, f"the drill left drift:\n{result.stdout[-5000:]}"


def test_a_dry_run_prints_the_runbook_and_changes_nothing(deployed, site):
    result = deployed.cli("drill", "switchover", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SwitchoverGlobalCluster" in result.stdout and "nothing was changed" in result.stdout
    assert _writer(deployed, site) == site.source.name and _primary_region(deployed) == site.source.region


def test_switchover_then_failback_leave_the_site_as_it_started(deployed, site, record_property):
    switchover = deployed.cli("drill", "switchover")
    assert switchover.returncode == 0, switchover.stdout[-5000:] + switchover.stderr
    report = _report(switchover)
    assert report["passed"] and report["rpo_s"] == 0
    assert _lost(report) == {"heartbeat rows": 0, "marker objects": 0}
    assert all(item["acknowledged"] > 0 for item in report["losses"])
    assert _writer(deployed, site) == site.replica.name and _primary_region(deployed) == site.replica.region
    assert [step["ok"] for step in report["steps"]] == [True] * 8
    # The drift trap: roles swapped live and recorded, nothing in Terraform wants them back.
    _plan_is_clean(deployed, site)

    failback = deployed.cli("drill", "failback")
    assert failback.returncode == 0, failback.stdout[-5000:] + failback.stderr
    back = _report(failback)
    assert back["passed"] and _lost(back) == {"heartbeat rows": 0, "marker objects": 0}
    # Back to the deployed settings, which the verify stage's plan found clean.
    assert _writer(deployed, site) == site.source.name and _primary_region(deployed) == site.source.region
    record_property(
        "detail",
        f"switchover RTO {report['rto_s']}s, failback RTO {back['rto_s']}s; "
        f"steps {[round(s['seconds'], 1) for s in report['steps']]}",
    )


def _refused(deployed, kind: str, expected: str) -> None:
    result = deployed.cli("drill", kind)
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr
    assert "refused by preflight" in result.stderr and "nothing was changed" in result.stderr
    assert re.search(r"REFUSED " + re.escape(expected), result.stdout), result.stdout


def test_preflight_refuses_while_bucket_replication_lags(deployed, site):
    from surgepress.drill.local import replication_control

    replication_control(deployed.environment(), halted=True)
    try:
        _refused(deployed, "switchover", "replication lag under")
    finally:
        replication_control(deployed.environment(), halted=False)
    assert _writer(deployed, site) == site.source.name


def test_preflight_refuses_without_dr_capacity(deployed, site, clients, outputs):
    ecs = clients(site.replica.name).get("ecs")
    cluster, service = outputs[site.replica.name]["cluster_name"], outputs[site.replica.name]["service_name"]
    before = ecs.describe_services(cluster=cluster, services=[service])["services"][0]["desiredCount"]
    ecs.update_service(cluster=cluster, service=service, desiredCount=0)
    try:
        _refused(deployed, "switchover", f"{site.replica.name} capacity present")
    finally:
        ecs.update_service(cluster=cluster, service=service, desiredCount=before)


def test_preflight_refuses_when_the_config_disagrees_with_the_global_database(deployed, site):
    from surgepress.drill import set_primary_region

    path = deployed.environments / "production.yaml"
    before = path.read_text()
    path.write_text(set_primary_region(before, site.replica.region))
    try:
        _refused(deployed, "failover", "config agrees with the global database")
    finally:
        path.write_text(before)


def test_preflight_refuses_an_unreachable_region(deployed, site, monkeypatch):
    """The replica's region answers nothing (its endpoint is a closed port): refused, not a traceback.
    One attempt per call (AWS_MAX_ATTEMPTS): botocore's backoff between retries of a refused
    connection is not what this checks, and would add some 15 s."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    from surgepress.drill import Drill
    from surgepress.targets import Paths, Target

    class Session:
        env, target, paths, settings = deployed.environment(), Target.LOCAL, Paths(deployed.build), deployed.settings

        def say(self, _message: str) -> None:
            pass

        def dataplane(self, ws):
            from surgepress.dataplane import DataPlane

            return DataPlane(self.paths, ws, self.env)

    drill = Drill(Session(), "switchover")
    topology = read_topology(site, Session.env)
    plan = drill.plan(topology)
    plan.new.clients.endpoint = "http://127.0.0.1:9"  # discard port: connection refused
    checks = {check.name: check for check in drill.preflight(topology, plan)}
    unreachable = checks[f"{site.replica.name} reachable"]
    assert not unreachable.ok and site.replica.region in unreachable.detail
    assert checks[f"{site.source.name} reachable"].ok


def test_failover_with_the_primary_killed_loses_writes_and_exits_non_zero(deployed, site, record_property):
    failover = deployed.cli("drill", "failover", "--simulate-outage", "--marker-grace", "5")
    assert failover.returncode == 1, failover.stdout[-5000:] + failover.stderr
    report = _report(failover)
    assert not report["passed"] and not report["rpo_met"] and report["rpo_s"] > 0
    lost = _lost(report)
    assert lost["heartbeat rows"] > 0 and lost["marker objects"] > 0
    assert all(step["ok"] for step in report["steps"])  # the runbook worked; the data loss is the finding
    assert _writer(deployed, site) == site.replica.name
    record_property("detail", f"failover RPO {report['rpo_s']}s, lost {lost}, RTO {report['rto_s']}s")

    # The old primary's region is down: failing back is refused until it recovers.
    _refused(deployed, "failback", f"{site.source.name} healthy")
    recovered = deployed.cli("dataplane", "up", site.source.name, site.replica.name)
    assert recovered.returncode == 0, recovered.stdout[-3000:] + recovered.stderr
    assert f"{site.source.name} replica of {site.replica.name} (reseeded)" in recovered.stdout
    failback = deployed.cli("drill", "failback")
    assert failback.returncode == 0, failback.stdout[-5000:] + failback.stderr
    assert _writer(deployed, site) == site.source.name and _primary_region(deployed) == site.source.region

"""Stage deploy: every workspace of the run (all of them on local), along the data graph, with
the run's own names; its outputs are saved for later stages and later runs."""

from __future__ import annotations

import re
import time

import pytest

from tests.integration.conftest import outputs_json, site_workspaces

pytestmark = [pytest.mark.integration, pytest.mark.stage("deploy")]


def test_deploy_every_workspace_of_the_run(harness, record_property):
    started = time.monotonic()
    harness.state.stages["deploy"] = {"status": "started"}
    harness.save()
    state_ws = harness.settings.state_workspace
    boot = harness.cli("bootstrap")
    assert boot.returncode == 0, boot.stdout[-3000:] + boot.stderr[-3000:]
    assert f"move state into s3://{state_ws.state.bucket}/{state_ws.state_key}" in boot.stdout
    again = harness.cli("bootstrap")
    assert again.returncode == 0 and "nothing to do" in again.stdout, "bootstrap is idempotent"
    result = harness.cli("deploy", *harness.workspace_args())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    names = harness.state.workspaces
    lines = result.stdout.splitlines()
    # Lines are prefixed by their workspace when several run ("[staging   ] ..."), bare when one does.
    prefix = r"(\[\S+\s*\] )?"
    began = {n: next(i for i, line in enumerate(lines) if re.match(rf"{prefix}==> deploy {n} \(", line)) for n in names}
    done = {
        n: next(i for i, line in enumerate(lines) if re.match(rf"{prefix}deploy {n}: done in ", line)) for n in names
    }
    for name in names:  # each starts once what it reads is deployed, or once that exists (and says so)
        for dep in harness.settings.needs(harness.settings.get(name)):
            early = [
                line
                for line in lines
                if re.match(
                    rf"\[{name}\s*\] starts before {dep} is done: what it "
                    rf"reads of {dep} exists \(",
                    line,
                )
            ]
            if dep in names and not early:
                assert done[dep] < began[name], f"{name} started before {dep} was deployed"
            if early:
                assert began[name] < done[dep], f"{name} said it started early, yet {dep} was done"
    summary = lines[lines.index("deploy summary:") + 2 :][: len(names)]
    assert [row.split()[:2] for row in summary] == [[n, "done"] for n in names]
    for name in names:
        assert f"\n{name} outputs ({harness.target}):" in result.stdout
    if harness.local:  # the data plane starts after the apply, on the local target only
        for name in site_workspaces(names, harness.settings):
            replica = harness.settings.get(name).replica_of is not None  # no edge; its data arrives by replication
            assert re.search(rf"dataplane {name}: {5 if replica else 7} started, 0 kept running", result.stdout), name
            installed = f"dataplane {name}: WordPress installed; admin surgepress-admin" in result.stdout
            assert installed != replica, name
        assert re.search(
            r"dataplane replication \(global cluster \S+, available\): \S+ writer; \S+ replica of "
            r"\S+ \(reseeded\)",
            result.stdout,
        ), result.stdout[-2000:]
    outputs = outputs_json(harness.cli("output", *harness.workspace_args(), "--json"))
    harness.state.outputs = outputs
    harness.state.stages["deploy"] = {"status": "passed", "seconds": round(time.monotonic() - started, 1)}
    harness.save()
    counts = dict(re.findall(r"deploy (\S+): done in [\d.]+s, (\d+) resources", result.stdout))
    record_property(
        "detail",
        ", ".join(f"{n} {c}" for n, c in counts.items()) + f" resources; names prefixed {harness.state.project}",
    )
    assert all(
        name.startswith(harness.state.project)
        for name in (outputs[ws]["cluster_identifier"] for ws in site_workspaces(names, harness.settings))
    )

"""The harness run shared by every integration test: its id and name suffix, its target and
workspaces, its own build directory and copy of environments/, and its saved state.

Teardown is registered before anything is deployed (the `harness` fixture's finalizer):
unless SKIP_TEARDOWN is set, whatever this run deployed is destroyed even when a verify
failed. With SKIP_DEPLOY, the run recorded in `<build>/harness/current` is picked up.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from surgepress.accounts import StateStore
from surgepress.aws import WorkspaceClients
from surgepress.config import ENVIRONMENTS_DIR, Settings, load_settings
from surgepress.dataplane import dataplane_workspaces
from surgepress.emulator.control import Emulator, EmulatorInfo
from surgepress.harness import (
    RUN_ID_ENV,
    TARGET_ENV,
    WORKSPACES_ENV,
    HarnessPaths,
    RunState,
    name_suffix,
    new_run_id,
    skipped,
)
from surgepress.harness.report import COLLECTOR, NOT_RUN
from surgepress.targets import Paths
from tests.conftest import edit_yaml, run_cli

DEPLOY_TIMEOUT_S = 1500
PROJECT = "surgepress"


@dataclass
class Harness:
    state: RunState
    paths: HarnessPaths
    settings: Settings

    @property
    def run_dir(self) -> Path:
        return self.paths.run_dir(self.state.run_id)

    @property
    def build(self) -> Path:
        return self.run_dir / "build"

    @property
    def environments(self) -> Path:
        return self.run_dir / "environments"

    @property
    def target(self) -> str:
        return self.state.target

    @property
    def local(self) -> bool:
        return self.state.target == "local"

    def save(self) -> None:
        self.state.save(self.paths.state_file(self.state.run_id))

    def cli(self, *args: str, timeout: float = DEPLOY_TIMEOUT_S) -> subprocess.CompletedProcess:
        return run_cli(
            *args, "--target", self.target, build=self.build, environments=self.environments, timeout=timeout
        )

    def workspace_args(self) -> list[str]:
        return ["--all"] if self.local else list(self.state.workspaces)

    @property
    def deployed(self) -> bool:
        return (
            self.state.stages.get("deploy", {}).get("status") == "passed"
            and self.state.stages.get("teardown", {}).get("status") != "passed"
        )

    def emulator(self) -> EmulatorInfo | None:
        status = Emulator(Paths(self.build)).status()
        return status.info if status.state == "running" else None

    def environment(self) -> dict[str, str]:
        """Credentials and endpoint the checks use: the run's emulator, or the real AWS's."""
        if not self.local:
            return dict(os.environ)
        info = self.emulator()
        if info is None:
            raise AssertionError(f"run {self.state.run_id}: its emulator is not running")
        return info.environment()

    def destroy(self) -> subprocess.CompletedProcess:
        """What an operator does to tear environments down for good: release their deletion
        protection and destroy them, in one command. The run's own applies and drills are all
        that changed its resources: the state is fresh (--no-refresh)."""
        approvals = [
            arg
            for name in self.state.workspaces
            if self.settings.get(name).protected
            for arg in ("--yes-destroy", name)
        ]
        result = self.cli("destroy", *self.workspace_args(), *approvals, "--release-protection", "--no-refresh")
        if result.returncode == 0:
            self.state.stages["teardown"] = {"status": "passed"}
            self.save()
        return result


def _start_run(paths: HarnessPaths) -> RunState:
    target = os.environ.get(TARGET_ENV, "local")
    requested = [w for w in os.environ.get(WORKSPACES_ENV, "").split(",") if w]
    base = load_settings()
    if target == "aws" and not requested:
        raise pytest.UsageError("the aws target needs its workspaces: --workspace staging (or production)")
    workspaces = [ws.name for ws in base.select(requested)] if requested else list(base.names)
    run_id = os.environ.get(RUN_ID_ENV) or new_run_id()
    state = RunState(run_id=run_id, target=target, workspaces=workspaces, project=f"{PROJECT}-{name_suffix(run_id)}")
    run_dir = paths.run_dir(run_id)
    environments = run_dir / "environments"
    shutil.copytree(ENVIRONMENTS_DIR, environments)
    # The run's own names: every resource, parameter path and bucket carries the suffix, and so
    # do the public zones (a CloudFront alias may belong to one distribution only).
    suffix = name_suffix(run_id)
    defaults = yaml.safe_load((environments / "defaults.yaml").read_text())
    state_bucket = defaults["state"]["bucket"].replace(PROJECT, state.project, 1)
    edit_yaml(
        environments / "defaults.yaml",
        lambda data: data.update(project=state.project, state={**data["state"], "bucket": state_bucket}),
    )
    apexes = [yaml.safe_load(p.read_text()).get("apex_zone", {}).get("zone_name") for p in environments.glob("*.yaml")]
    apex = next((a for a in apexes if a), None)

    def own_zone(zone: str) -> str:
        """`staging.example` -> `staging.<suffix>.example` under the run's own apex `<suffix>.example`."""
        if apex and (zone == apex or zone.endswith("." + apex)):
            return zone[: len(zone) - len(apex)] + f"{suffix}.{apex}"
        return f"{suffix}.{zone}"

    def own_zones(data: dict) -> None:
        for section in ("dns", "apex_zone"):
            if (data.get(section) or {}).get("zone_name"):
                data[section] = {**data[section], "zone_name": own_zone(data[section]["zone_name"])}

    for path in environments.glob("*.yaml"):
        edit_yaml(path, own_zones)
    state.save(paths.state_file(run_id))
    paths.current.write_text(run_id + "\n")
    return state


@pytest.fixture(scope="session")
def harness() -> Harness:
    paths = HarnessPaths(Paths.default().build)
    if skipped("deploy"):
        run_id = paths.current_run()
        if run_id is None:
            pytest.skip(f"{skipped('deploy')}, and no earlier run under {paths.current.parent} to pick up")
        state = RunState.load(paths.state_file(run_id))
    else:
        state = _start_run(paths)
    harness = Harness(state=state, paths=paths, settings=load_settings(paths.run_dir(state.run_id) / "environments"))
    COLLECTOR.run = {
        "run_id": state.run_id,
        "target": state.target,
        "workspaces": state.workspaces,
        "project": state.project,
    }
    yield harness
    # Registered before the deploy: tear down what this run deployed, unless told not to.
    if skipped("teardown") or not harness.state.stages.get("deploy"):
        return
    if harness.state.stages.get("teardown", {}).get("status") != "passed":
        harness.destroy()
    if harness.local:
        harness.cli("emulator", "down")  # stops the data planes too, and discards what a failed destroy left


@pytest.fixture(scope="session")
def settings(harness) -> Settings:
    """The run's settings (its own project name), not the repository's."""
    return harness.settings


@pytest.fixture(scope="session")
def deployed(harness) -> Harness:
    """The deployment verify checks: this run's, or the picked-up one's."""
    if not harness.deployed:
        stages = harness.state.stages
        if stages.get("teardown", {}).get("status") == "passed":
            why = "torn down"
        elif stages.get("deploy", {}).get("status") == "started":  # begun, never passed
            why = "deploy failed"
        else:
            why = "deploy did not run"
        pytest.skip(f"{NOT_RUN} ({why}): nothing deployed in run {harness.state.run_id}")
    if harness.local and harness.emulator() is None:
        pytest.fail(
            f"run {harness.state.run_id}: its emulator is not running, so its deployment is gone; "
            "run again without SKIP_DEPLOY",
            pytrace=False,
        )
    return harness


@pytest.fixture(scope="session")
def outputs(deployed) -> dict[str, dict]:
    return deployed.state.outputs


@pytest.fixture(scope="session")
def local_only(harness) -> None:
    if not harness.local:
        pytest.skip("local target only: it checks what the embedded AWS and the local data plane run")


@pytest.fixture(scope="session")
def emulator_info(deployed, local_only) -> EmulatorInfo:
    info = deployed.emulator()
    assert info is not None, "the run's emulator is not running"
    return info


@pytest.fixture(scope="session")
def clients(deployed):
    """WorkspaceClients for a workspace of the run, on its target."""
    env = deployed.environment()
    cache: dict[str, WorkspaceClients] = {}

    def get(name: str) -> WorkspaceClients:
        if name not in cache:
            cache[name] = WorkspaceClients(deployed.settings.get(name), env)
        return cache[name]

    return get


def state_document(deployed: Harness, workspace: str) -> str:
    """A workspace's Terraform state as the S3 backend keeps it (read through the state account)."""
    return StateStore(deployed.settings, deployed.environment()).document(deployed.settings.get(workspace))


def site_workspaces(harness_state_workspaces: list[str], settings: Settings) -> list[str]:
    return [ws.name for ws in dataplane_workspaces(settings.select(harness_state_workspaces))]


def outputs_json(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)

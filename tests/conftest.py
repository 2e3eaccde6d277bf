"""Shared fixtures: one synth per session, isolated build directories, a private emulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from surgepress.aws import base_session, role_session
from surgepress.aws import client as aws_client
from surgepress.config import ENVIRONMENTS_DIR, Settings, load_settings
from surgepress.emulator.control import Emulator, EmulatorInfo
from surgepress.targets import Paths, Target

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def synth_paths(tmp_path_factory) -> Paths:
    return Paths(tmp_path_factory.mktemp("build"))


def _synth(settings: Settings, paths: Paths, target: Target) -> dict[str, dict]:
    from surgepress.synth import mark, stale, synthesize

    workspaces = list(settings.workspaces.values())
    dirs = synthesize(settings, workspaces, target=target, paths=paths)
    mark(dirs, stale(workspaces, target=target, paths=paths)[1])  # a CLI run in this build finds them up to date
    return {name: json.loads((d / "cdk.tf.json").read_text()) for name, d in dirs.items()}


@pytest.fixture(scope="session")
def local_stacks(settings, synth_paths) -> dict[str, dict]:
    """Every workspace synthesized once for the local target: {workspace: cdk.tf.json}."""
    return _synth(settings, synth_paths, Target.LOCAL)


@pytest.fixture(scope="session")
def aws_stacks(settings, synth_paths) -> dict[str, dict]:
    return _synth(settings, synth_paths, Target.AWS)


def resources(stack: dict, rtype: str) -> dict[str, dict]:
    return stack.get("resource", {}).get(rtype, {})


@pytest.fixture
def env_dir(tmp_path) -> Path:
    """A writable copy of environments/ to break on purpose."""
    target = tmp_path / "environments"
    shutil.copytree(ENVIRONMENTS_DIR, target)
    return target


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text()) or {}
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def run_cli(
    *args: str, build: Path, environments: Path | None = None, timeout: float = 1800, stdin=subprocess.DEVNULL
) -> subprocess.CompletedProcess:
    env = {**os.environ, "SURGEPRESS_BUILD_DIR": str(build)}
    if environments is not None:
        env["SURGEPRESS_ENVIRONMENTS"] = str(environments)
    return subprocess.run(
        [sys.executable, str(REPO / "main.py"), *args],
        cwd=REPO,
        env=env,
        text=True,
        capture_output=True,
        timeout=timeout,
        stdin=stdin,
    )


@pytest.fixture(scope="session")
def emulator(tmp_path_factory, settings) -> EmulatorInfo:
    """A private emulator for this test session (never the developer's running one)."""
    paths = Paths(tmp_path_factory.mktemp("emulator-build"))
    control = Emulator(paths)
    info, _ = control.up(settings.operator_account_id, say=lambda _msg: None)
    yield info
    control.down()


def session_in(info: EmulatorInfo, account_id: str | None, region: str, role_name: str = "surgepress-deployer"):
    """A boto3 session on the emulator: the operator identity, or assumed into `account_id`."""
    env = info.environment()
    if account_id is None:
        return base_session(env, region)
    return role_session(env, f"arn:aws:iam::{account_id}:role/{role_name}", region, name="surgepress-tests")


def client(info: EmulatorInfo, session, service: str):
    """A client as the platform's own are made (S3 over the emulator's TLS endpoint)."""
    return aws_client(session, info.environment(), service)

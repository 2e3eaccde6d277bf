"""One deployment for the whole integration stage: every workspace deployed to a private
emulator in its own build directory, never a developer's. Teardown is registered before the
deploy starts; `test_teardown.py` (last by name) checks the destroy itself.
"""

from __future__ import annotations

import json
import shutil

import pytest

from surgepress.config import ENVIRONMENTS_DIR
from surgepress.emulator.control import Emulator
from surgepress.targets import Paths
from tests.conftest import destroy_all_args, edit_yaml, run_cli

DEPLOY_TIMEOUT_S = 1500


@pytest.fixture(scope="session")
def environments(tmp_path_factory):
    """A copy of the real environments, so teardown can release protection as an operator would."""
    directory = tmp_path_factory.mktemp("environments") / "environments"
    shutil.copytree(ENVIRONMENTS_DIR, directory)
    return directory


def release_protection(directory) -> None:
    """What an operator does before tearing an environment down for good: allow Terraform to
    delete buckets that hold objects (the emulator, like S3, writes access logs into them),
    clusters and load balancers that are deletion-protected."""
    def release(data: dict) -> None:
        if data.get("storage") is not None:
            data["storage"] = {**data["storage"], "enable_force_destroy": True}
        for section in ("database", "compute"):
            if data.get(section) is not None:
                data[section] = {**data[section], "enable_deletion_protection": False}

    for path in directory.glob("*.yaml"):
        edit_yaml(path, release)


@pytest.fixture(scope="session")
def cli(tmp_path_factory, environments):
    """Runs the CLI against this module's own build directory and environments."""
    build = tmp_path_factory.mktemp("integration-build")

    def run(*args: str, timeout: float = DEPLOY_TIMEOUT_S):
        return run_cli(*args, build=build, environments=environments, timeout=timeout)

    run.build = build
    run.environments = environments
    return run


@pytest.fixture(scope="session")
def build(cli, settings):
    yield cli.build
    # Registered before anything is deployed: destroy whatever exists, then stop the emulator
    # (which on the local target also discards anything a failed destroy left behind).
    release_protection(cli.environments)
    cli(*destroy_all_args(settings))
    Emulator(Paths(cli.build)).down()


@pytest.fixture(scope="session")
def deployed(build, cli):
    result = cli("deploy", "--all")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="session")
def emulator_info(build, deployed):
    status = Emulator(Paths(build)).status()
    assert status.state == "running"
    return status.info


@pytest.fixture(scope="session")
def outputs(cli, deployed):
    result = cli("output", "--all", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)

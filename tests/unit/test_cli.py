"""The CLI surface: help for every command, listing, and refusing what it must refuse."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from surgepress.cli import Session, _confirm_destroy
from surgepress.errors import UserError
from surgepress.targets import Paths, Target
from tests.conftest import edit_yaml, run_cli

pytestmark = pytest.mark.unit

COMMANDS = (
    "list",
    "bootstrap",
    "synth",
    "plan",
    "deploy",
    "destroy",
    "output",
    "policy",
    "emulator",
    "dataplane",
    "loadtest",
    "test",
    "env",
)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_a_target_option(command, tmp_path):
    result = run_cli(command, "--help", build=tmp_path / "b")
    assert result.returncode == 0
    assert "--target {local,aws}" in result.stdout


def test_list_shows_workspaces_in_dependency_order(tmp_path):
    result = run_cli("list", build=tmp_path / "b")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()[1:]]
    assert names.index("management") < names.index("production") < names.index("dr")
    assert "secondary" in next(line for line in result.stdout.splitlines() if line.startswith("dr "))


@pytest.mark.parametrize("workspace", ["production", "dr"])
def test_destroying_a_protected_workspace_without_a_terminal_is_refused(workspace, tmp_path):
    build = tmp_path / "b"
    result = run_cli("destroy", workspace, build=build)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"error: refusing to destroy protected workspace '{workspace}' without a "
        f"terminal; pass --yes-destroy {workspace}"
    )
    assert not build.exists(), "nothing may start or synthesize before the refusal"


def test_bad_target_is_refused_by_the_parser(tmp_path):
    result = run_cli("plan", "staging", "--target", "gcp", build=tmp_path / "b")
    assert result.returncode == 2
    assert "invalid choice: 'gcp'" in result.stderr


def test_names_and_all_together_are_refused(tmp_path):
    result = run_cli("deploy", "staging", "--all", build=tmp_path / "b")
    assert (result.returncode, result.stderr.strip()) == (2, "error: give workspace names or --all, not both")


def test_emulator_status_reports_stopped_with_its_own_exit_code(tmp_path):
    result = run_cli("emulator", "status", build=tmp_path / "b")
    assert (result.returncode, result.stdout.strip()) == (3, "emulator: stopped")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _session(settings):
    return Session(settings=settings, target=Target.LOCAL, paths=Paths(Path("/nonexistent")), out=io.StringIO())


def test_a_protected_workspace_is_destroyed_only_when_its_name_is_typed_back(settings):
    production = settings.get("production")
    _confirm_destroy(_session(settings), production, set(), _Terminal("production\n"))  # confirmed: no error
    with pytest.raises(UserError, match="destroy of 'production' not confirmed; nothing was destroyed"):
        _confirm_destroy(_session(settings), production, set(), _Terminal("yes\n"))


def test_an_unprotected_workspace_needs_no_confirmation(settings):
    _confirm_destroy(_session(settings), settings.get("staging"), set(), io.StringIO(""))


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("dataplane", "status", "--target", "aws"),
            "error: dataplane: only the local target has a data plane (on aws, ECS runs it)",
        ),
        (
            ("dataplane", "up", "management"),
            "error: dataplane: management run(s) no site (a data plane needs database, "
            "cache, compute and cdn sections)",
        ),
        (
            ("dataplane", "up", "nowhere"),
            "error: unknown workspace 'nowhere': no environments/nowhere.yaml "
            "(known: management, security, production, staging, dr)",
        ),
        (("loadtest", "staging", "--target", "aws"), "error: loadtest: on --target aws give the site's URL with --url"),
        (
            ("test", "integration", "--target", "aws"),
            "error: test integration --target aws: name the workspace(s) to test, e.g. --workspace staging",
        ),
        (
            ("test", "integration", "--workspace", "stagin"),
            "error: unknown workspace 'stagin': no "
            "environments/stagin.yaml (known: management, security, "
            "production, staging, dr)",
        ),
        (
            ("loadtest", "--url", "https://example.invalid", "--multiplier", "50"),
            "error: loadtest: expected --users >= 1, --duration > 0 and 1 <= --multiplier <= 20, got 10, 60.0, 50.0",
        ),
    ],
)
def test_dataplane_and_loadtest_refuse_bad_input_in_one_line(args, message, tmp_path):
    result = run_cli(*args, build=tmp_path / "b")
    assert (result.returncode, result.stderr.strip()) == (2, message)
    assert not (tmp_path / "b" / "dataplane").exists()


def test_status_of_a_data_plane_never_started_says_stopped_with_exit_3(tmp_path):
    result = run_cli("dataplane", "status", "staging", build=tmp_path / "b")
    assert result.returncode == 3
    lines = result.stdout.splitlines()[1:]
    services = [line for line in lines if not line.startswith("  unlike the image: ")]
    assert [line.split()[:2] for line in services] == [
        [name, "stopped"] for name in ("database", "cache", "app", "web", "lb", "s3-origin", "edge")
    ]
    # What the image fetches at build time and this data plane does not install is said with it.
    differences = [line.split(": ")[1] for line in lines if line not in services]
    assert differences == ["wp-content/plugins/s3-uploads", "phpredis"]


def test_loadtest_needs_a_running_local_edge(tmp_path):
    result = run_cli("loadtest", "staging", build=tmp_path / "b")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: loadtest: staging's data plane is not running; run `python main.py dataplane up staging`"
    )


def test_without_a_state_bucket_and_with_another_accounts_identity_nothing_is_synthesized(env_dir, tmp_path):
    build = tmp_path / "b"
    try:
        missing = run_cli("plan", "staging", build=build)
        assert missing.returncode == 2, missing.stderr
        assert missing.stderr.strip() == (
            "error: state bucket surgepress-tfstate-100000000001 does not exist in "
            "account 100000000001 (eu-west-1); run `python main.py bootstrap` first"
        )
        assert not (build / "synth").exists()
        # The running emulator's operator is in 100000000001; this configuration says 100000000009.
        edit_yaml(env_dir / "management.yaml", lambda d: d.update(account_id="100000000009"))
        edit_yaml(env_dir / "defaults.yaml", lambda d: d["state"].update(account_id="100000000009"))
        mismatch = run_cli("deploy", "staging", build=build, environments=env_dir)
        assert mismatch.returncode == 2
        assert mismatch.stderr.strip() == (
            "error: environments/management.yaml: state.account_id: the running emulator's operator identity is in "
            "account 100000000001; stop it (`python main.py emulator down`) or restore the account, "
            "got '100000000009'"
        )
        assert not (build / "synth").exists()
    finally:
        run_cli("emulator", "down", build=build)


def test_destroying_the_state_workspace_on_aws_is_refused_before_anything_runs(tmp_path):
    build = tmp_path / "b"
    result = run_cli("destroy", "management", "--target", "aws", build=build)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: refusing to destroy management on aws: it holds the state bucket surgepress-tfstate-100000000001"
    )
    assert not build.exists()


@pytest.mark.parametrize(
    "args, env, message",
    [
        (("deploy", "--all", "--jobs", "0"), {}, "error: --jobs: expected a whole number from 1 to 16, got '0'"),
        (("plan", "--all", "--jobs", "²"), {}, "error: --jobs: expected a whole number from 1 to 16, got '²'"),
        (
            ("destroy", "--all"),
            {"SURGEPRESS_JOBS": "many"},
            "error: SURGEPRESS_JOBS: expected a whole number from 1 to 16, got 'many'",
        ),
    ],
)
def test_a_bad_worker_count_is_one_line_before_anything_runs(args, env, message, tmp_path, monkeypatch):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = run_cli(*args, build=tmp_path / "b")
    assert (result.returncode, result.stderr.strip()) == (2, message)
    assert not (tmp_path / "b").exists(), "nothing started, synthesized or deployed"

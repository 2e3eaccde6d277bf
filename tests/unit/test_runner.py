"""The Terraform runner: its own CLI config, streaming, and a real `terraform validate`."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys

import pytest

from surgepress.runner import (
    MIRROR_ENV,
    PROVIDER_SOURCE,
    WorkspaceRunner,
    _merged_lines,
    find_provider_mirror,
    write_cli_config,
)
from surgepress.targets import Paths, Target

pytestmark = pytest.mark.unit


def test_cli_config_uses_a_found_mirror_for_aws_only(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    (mirror / PROVIDER_SOURCE / "5.100.0" / "linux_amd64").mkdir(parents=True)
    monkeypatch.setenv(MIRROR_ENV, str(mirror))
    text = write_cli_config(tmp_path / "tf").read_text()
    assert f'path    = "{mirror}"' in text
    assert f'exclude = ["{PROVIDER_SOURCE}"]' in text
    assert "plugin_cache_dir" in text


def test_cli_config_falls_back_to_the_registry_without_a_mirror(tmp_path, monkeypatch):
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path / "empty"))
    assert find_provider_mirror() is None
    assert "provider_installation" not in write_cli_config(tmp_path / "tf").read_text()


def test_merged_lines_stream_stdout_and_stderr_in_order_of_arrival():
    script = (
        "import sys,time\nprint('one',flush=True)\ntime.sleep(0.2)\nprint('two',file=sys.stderr,flush=True)\n"
        "time.sleep(0.2)\nprint('three',end='',flush=True)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert list(_merged_lines(proc)) == ["one", "two", "three"]
    assert proc.wait() == 0


def test_every_workspace_is_valid_terraform(settings, tmp_path):
    """`terraform init` + `terraform validate` against the provider mirror, per workspace (with
    local state, as while bootstrapping: validation needs no state bucket)."""
    from surgepress.synth import synthesize

    paths = Paths(tmp_path)
    synthesize(
        settings,
        list(settings.workspaces.values()),
        target=Target.LOCAL,
        paths=paths,
        local_state=frozenset(settings.names),
    )
    env = {"TF_CLI_CONFIG_FILE": str(write_cli_config(paths.terraform_dir))}
    for name in settings.names:
        out = io.StringIO()
        runner = WorkspaceRunner(name, paths.stack_dir(Target.LOCAL, name), env, out=out)
        assert runner.init() is True
        assert runner.init() is False, "an unchanged terraform block must not be initialised again"
        code, tail = runner._stream("validate")
        assert code == 0, f"{name}: {tail}"
        assert any("The configuration is valid" in line for line in tail)


def test_parallelism_defaults_to_terraforms_and_refuses_nonsense(monkeypatch):
    from surgepress.errors import UserError
    from surgepress.runner import PARALLELISM_ENV, parallelism

    monkeypatch.delenv(PARALLELISM_ENV, raising=False)
    assert parallelism() == 10 and parallelism(30) == 30
    monkeypatch.setenv(PARALLELISM_ENV, "24")
    assert parallelism() == 24
    for bad in ("0", "-3", "lots"):
        monkeypatch.setenv(PARALLELISM_ENV, bad)
        with pytest.raises(
            UserError, match=f"SURGEPRESS_PARALLELISM: expected a whole number of 1 or more, got '{bad}'"
        ):
            parallelism()


def test_a_terraform_working_in_a_workspace_directory_is_found_as_a_live_lock_holder(tmp_path):
    from surgepress.processes import terraform_in

    stack = tmp_path / "build" / "synth" / "local" / "stacks" / "staging"
    stack.mkdir(parents=True)
    fake = tmp_path / "terraform"  # a process named terraform, as a running apply is
    shutil.copy("/bin/sleep", fake)
    proc = subprocess.Popen([str(fake), "30"], cwd=stack)
    try:
        assert proc.pid in [p.pid for p in terraform_in("stacks/staging")]
        assert proc.pid not in [p.pid for p in terraform_in("stacks/production")]
    finally:
        proc.kill()
        proc.wait()
    assert proc.pid not in [p.pid for p in terraform_in("stacks/staging")]


def test_a_terraform_failure_names_terraform_s_first_error():
    from surgepress.runner import TerraformError

    tail = ["aws_lb.alb: Creating...", "╷", "│ Error: creating ELBv2 load balancer (alb): boom", "│ ", "╵"]
    assert str(TerraformError("production", "apply", 1, tail)) == (
        "terraform apply for production failed with exit code 1 (Error: creating ELBv2 load balancer (alb): boom)"
    )
    coloured = ["\x1b[31m╷\x1b[0m", "\x1b[31m│\x1b[0m \x1b[0m\x1b[1m\x1b[31mError: \x1b[0m\x1b[0m\x1b[1mboom\x1b[0m"]
    assert str(TerraformError("staging", "plan", 1, coloured)).endswith("(Error: boom)"), "a terminal's colours"
    assert str(TerraformError("production", "apply", 1, ["no box"])) == (
        "terraform apply for production failed with exit code 1"
    )

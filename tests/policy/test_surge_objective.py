"""The surge gate: every site with a `surge:` section absorbs its own surge, as synthesized, or
`make test` (and `python main.py policy`) fails with the figures and what held the fleet back."""

from __future__ import annotations

import pytest

from surgepress.surge import judge, load_calibration, scenario_for
from surgepress.surge.report import lines
from tests.conftest import edit_yaml, run_cli

pytestmark = pytest.mark.policy


def test_every_site_meets_its_surge_objective(local_stacks, settings, synth_paths):
    calibration, which = load_calibration(synth_paths)
    sites = [ws for ws in settings.workspaces.values() if ws.surge is not None]
    assert {ws.name for ws in sites} == {"staging", "production"}
    missed = []
    for ws in sites:
        outcome = judge(ws, local_stacks[ws.name], scenario_for(ws), calibration, which)
        if outcome.misses:
            missed.append("\n".join(lines(outcome)))
    assert not missed, "\n".join(missed)


def test_policy_fails_a_slow_configuration_saying_why(env_dir, tmp_path):
    def slow(data: dict) -> None:
        data["compute"] = {**data["compute"], "min_hosts": 1, "instance_warmup_s": 300, "requests_per_target": 900}

    edit_yaml(env_dir / "production.yaml", slow)
    result = run_cli("policy", "production", build=tmp_path, environments=env_dir)
    assert result.returncode == 1, result.stdout + result.stderr
    report = result.stdout[result.stdout.index("FAIL surge production:") :]
    assert "MISSES its objective: " in report
    assert "instance_warmup_s 300" in report and "min_hosts 1" in report, report

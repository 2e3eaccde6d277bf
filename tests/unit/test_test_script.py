"""scripts/test.sh (make test after ruff) against stub `python` and `mypy` on PATH.

The stub harness (`python main.py test integration`) runs until it is told to stop, like the
real one: on SIGINT it records that it tore down, after a moment (a teardown takes time), and
exits 130; otherwise it ends after STUB_HARNESS_S seconds with STUB_HARNESS_EXIT. The stub unit
tests (`python -m pytest`) and mypy print a line and exit with what they are told.

The script starts with SIGINT at its default, as under a terminal: a process started in the
background of a non-interactive shell (as CI may start this suite) inherits SIGINT ignored,
which no bash trap can undo. (The real harness, `cmd_test`, takes SIGINT back itself.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.unit

PYTHON = r"""#!/usr/bin/env bash
if [ "$1" = main.py ]; then
  trap 'sleep 0.5; echo "torn down" >> "$STUB_DIR/calls"; exit 130' INT
  exec >/dev/null 2>&1  # the script's pipes close when the script ends, not when the harness does
  echo "harness $*" >> "$STUB_DIR/calls"
  for ((i = 0; i < ${STUB_HARNESS_S:-1} * 10; i++)); do sleep 0.1; done
  echo "harness ended" >> "$STUB_DIR/calls"
  exit "${STUB_HARNESS_EXIT:-0}"
fi
echo "unit $*" >> "$STUB_DIR/calls"
echo "509 passed (stub)"
sleep "${STUB_UNIT_S:-0}"
exit "${STUB_UNIT_EXIT:-0}"
"""
MYPY = r"""#!/usr/bin/env bash
echo "mypy $*" >> "$STUB_DIR/calls"
# Not before the stub harness has its trap (the real harness takes far longer than mypy to start).
for ((i = 0; i < 50; i++)); do grep -q '^harness' "$STUB_DIR/calls" && break; sleep 0.1; done
if [ "${STUB_MYPY_EXIT:-0}" -ne 0 ]; then echo "surgepress/x.py:1: error: found by the stub"
else echo "Success: stub"; fi
exit "${STUB_MYPY_EXIT:-0}"
"""


@pytest.fixture
def stub_env(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in (("python", PYTHON), ("mypy", MYPY)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "STUB_DIR": str(tmp_path),
        "SURGEPRESS_BUILD_DIR": str(tmp_path / "build"),
    }


def _as_under_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run(env: dict[str, str], **stub: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    result = subprocess.run(
        [str(REPO / "scripts" / "test.sh")],
        env={**env, **stub},
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_as_under_a_terminal,
    )
    return result, (Path(env["STUB_DIR"]) / "calls").read_text().splitlines()


def test_all_passing_runs_mypy_and_the_unit_tests_beside_the_harness_and_exits_0(stub_env):
    result, calls = run(stub_env, STUB_HARNESS_S="2")
    assert result.returncode == 0, result.stderr
    assert set(calls[:3]) == {
        "harness main.py test integration",
        "mypy --no-incremental",
        "unit -m pytest -m unit or policy",
    }
    assert calls.index("mypy --no-incremental") < calls.index("unit -m pytest -m unit or policy")
    assert calls.index("harness ended") > calls.index("unit -m pytest -m unit or policy"), "both ran at once"
    assert "test: mypy: Success: stub" in result.stdout
    assert "509 passed (stub)" in result.stdout, "the unit log is printed"
    assert result.stdout.rstrip().endswith("test: unit and policy: exit 0; integration harness: exit 0")
    log = Path(stub_env["SURGEPRESS_BUILD_DIR"]) / "reports" / "unit-policy.log"
    assert log.read_text() == "509 passed (stub)\n"


@pytest.mark.parametrize(("unit", "harness"), [("1", "0"), ("0", "1")])
def test_either_failing_fails_the_run_and_both_are_reported(stub_env, unit, harness):
    result, calls = run(stub_env, STUB_UNIT_EXIT=unit, STUB_HARNESS_EXIT=harness)
    assert result.returncode == 1
    assert "harness ended" in calls, "a unit failure does not stop the harness"
    assert f"test: unit and policy: exit {unit}; integration harness: exit {harness}" in result.stdout
    assert ("unit and policy tests FAILED (exit 1)" in result.stderr) == (unit == "1")


def test_mypy_findings_are_printed_and_stop_the_harness_which_tears_down_first(stub_env):
    result, calls = run(stub_env, STUB_MYPY_EXIT="1", STUB_HARNESS_S="30")
    assert result.returncode == 1
    assert "surgepress/x.py:1: error: found by the stub" in result.stderr
    assert "mypy failed (exit 1" in result.stderr
    assert "torn down" in calls and "harness ended" not in calls
    assert not any(call.startswith("unit") for call in calls), "no unit tests after mypy's findings"


def test_an_interrupt_is_passed_to_the_harness_and_waits_for_its_teardown(stub_env):
    proc = subprocess.Popen(
        [str(REPO / "scripts" / "test.sh")],
        env={**stub_env, "STUB_HARNESS_S": "30", "STUB_UNIT_S": "30"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a group of its own, as a terminal's foreground job has
        preexec_fn=_as_under_a_terminal,
    )
    calls = Path(stub_env["STUB_DIR"]) / "calls"
    deadline = time.monotonic() + 20
    while "unit" not in (calls.read_text() if calls.exists() else "") and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the terminal signals its foreground group
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "test: interrupted: the harness has stopped (exit 130)" in err
    assert calls.read_text().splitlines()[-1] == "torn down", "the script waited for the harness's teardown"


def test_an_interrupt_while_waiting_for_the_harness_still_waits_for_its_teardown(stub_env):
    proc = subprocess.Popen(
        [str(REPO / "scripts" / "test.sh")],
        env={**stub_env, "STUB_HARNESS_S": "30"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_as_under_a_terminal,
    )
    for line in proc.stdout:  # the unit tests are done: the script is waiting for the harness
        if "unit and policy tests passed" in line:
            break
    os.killpg(proc.pid, signal.SIGINT)
    proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert (Path(stub_env["STUB_DIR"]) / "calls").read_text().splitlines()[-1] == "torn down"

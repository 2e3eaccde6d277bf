"""The synth child process: its answers, its refusals and failures as the parent sees them,
and that it never outlives the command (nor keeps the command waiting on a dead child)."""

from __future__ import annotations

import os

import pytest

from surgepress import synth
from surgepress.targets import Paths, Target

pytestmark = pytest.mark.unit


@pytest.fixture
def light(monkeypatch):
    """The child without the provider bindings' import (7 s): what is tested is the process."""
    monkeypatch.setattr(synth, "_preload", lambda: None)


def _synthesizer(settings, tmp_path) -> synth.Synthesizer:
    return synth.Synthesizer(settings, target=Target.LOCAL, paths=Paths(tmp_path))


def test_the_child_writes_what_it_is_asked_and_nothing_before(settings, tmp_path, monkeypatch, light):
    asked = tmp_path / "asked"

    def write(settings, workspaces, **kwargs):
        asked.write_text(",".join(ws.name for ws in workspaces))

    monkeypatch.setattr(synth, "synthesize", write)
    child = _synthesizer(settings, tmp_path)
    assert not asked.exists(), "nothing is written before the request"
    child.request([settings.get("staging"), settings.get("dr")])
    child.answer()
    assert asked.read_text() == "staging,dr"
    child.close()
    child._process.join(10)
    assert child._process.exitcode == 0


@pytest.mark.parametrize(
    ("raised", "seen", "pattern"),
    [
        # A construct's own check: the same ValueError, which the CLI makes one line.
        (ValueError("ComputeProps.name: expected 29 characters or fewer"), ValueError, "expected 29 characters"),
        # Anything else is a fault: it comes back with the child's traceback.
        (KeyError("kernel gone"), RuntimeError, r"(?s)synth process failed:.*KeyError: 'kernel gone'"),
    ],
)
def test_what_breaks_in_the_child_reaches_the_parent(settings, tmp_path, monkeypatch, light, raised, seen, pattern):
    def fail(*args, **kwargs):
        raise raised

    monkeypatch.setattr(synth, "synthesize", fail)
    child = _synthesizer(settings, tmp_path)
    child.request([settings.get("staging")])
    with pytest.raises(seen, match=pattern):
        child.answer()
    child.close()


def test_a_child_that_died_before_the_request_is_named_with_its_exit_code(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(synth, "_preload", lambda: os._exit(3))
    child = _synthesizer(settings, tmp_path)
    child._process.join(10)
    child.request([settings.get("staging")])  # the pipe is broken: no BrokenPipeError reaches the command
    with pytest.raises(RuntimeError, match=r"the synth process ended \(exit code 3\) without writing the stacks"):
        child.answer()


def test_the_child_leaves_when_the_parent_is_gone(settings, tmp_path, light):
    child = _synthesizer(settings, tmp_path)
    assert child._conn is not None
    child._conn.close()  # as a killed parent's end closes: no goodbye is sent
    child._process.join(10)
    assert child._process.exitcode == 0, "it saw the end of its pipe and left"

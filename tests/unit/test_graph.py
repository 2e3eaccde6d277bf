"""surgepress.graph: starts along the data graph, bounded concurrency, reverse order for
destroy, stop-on-first-failure and readable interleaved output."""

from __future__ import annotations

import io
import threading
import time

import pytest

from surgepress.errors import UserError
from surgepress.graph import GraphFailed, check_jobs, run_graph

pytestmark = pytest.mark.unit

# management <- security <- {staging, production} <- dr
NEEDS = {
    "management": [],
    "security": ["management"],
    "staging": ["management", "security"],
    "production": ["management", "security"],
    "dr": ["production"],
}
NAMES = list(NEEDS)


class Recorder:
    """A job that records when it started and ended, and how many ran at once."""

    def __init__(self, seconds: float = 0.05, fail: str | None = None):
        self.seconds, self.fail = seconds, fail
        self.events: list[tuple[str, str]] = []
        self.running = self.peak = 0
        self.lock = threading.Lock()

    def __call__(self, job) -> str:
        with self.lock:
            self.events.append(("start", job.name))
            self.running += 1
            self.peak = max(self.peak, self.running)
        job.phase("apply")
        job.say(f"working on {job.name}\nsecond line")
        time.sleep(self.seconds)
        with self.lock:
            self.running -= 1
            self.events.append(("end", job.name))
        if job.name == self.fail:
            job.detail = "3 resources in state"
            raise RuntimeError(f"apply of {job.name} broke")
        return f"{len(job.name)} resources"

    def index(self, kind: str, name: str) -> int:
        return self.events.index((kind, name))


def test_each_workspace_starts_after_what_it_reads_and_independent_ones_overlap():
    work, out = Recorder(), io.StringIO()
    outcomes = run_graph(NAMES, NEEDS, work, jobs=4, out=out)
    assert [o.status for o in outcomes] == ["done"] * 5
    for name, deps in NEEDS.items():
        for dep in deps:
            assert work.index("end", dep) < work.index("start", name), (dep, name)
    # staging and production wait only for security: both start before either ends.
    assert max(work.index("start", "staging"), work.index("start", "production")) < min(
        work.index("end", "staging"), work.index("end", "production")
    )
    assert work.peak == 2


def test_jobs_bounds_how_many_run_at_once():
    work = Recorder()
    run_graph(["a", "b", "c", "d"], {}, work, jobs=2, out=io.StringIO())
    assert work.peak == 2
    work = Recorder()
    run_graph(["a", "b", "c", "d"], {}, work, jobs=1, out=io.StringIO())
    assert work.peak == 1


def test_reverse_goes_once_everything_that_reads_it_is_gone():
    work = Recorder()
    run_graph(list(reversed(NAMES)), NEEDS, work, jobs=4, out=io.StringIO(), reverse=True)
    for name, deps in NEEDS.items():
        for dep in deps:  # name reads dep: name is destroyed before dep starts going
            assert work.index("end", name) < work.index("start", dep), (name, dep)


def test_a_prepare_step_runs_before_what_it_waits_for_is_gone_and_its_work_after():
    work, released = Recorder(seconds=0.1), Recorder(seconds=0.02)
    prepare = {"production": lambda job: released(job)}
    outcomes = run_graph(list(reversed(NAMES)), NEEDS, work, jobs=4, out=io.StringIO(), reverse=True, prepare=prepare)
    assert [o.status for o in outcomes] == ["done"] * 5
    # production's release overlaps dr's destroy (dr reads production); its destroy waits for dr.
    assert released.index("end", "production") < work.index("end", "dr")
    assert work.index("end", "dr") < work.index("start", "production")
    assert released.events == [("start", "production"), ("end", "production")]


def test_a_failed_prepare_fails_its_workspace_and_starts_nothing_after_it():
    def broken(job):
        raise RuntimeError("release of production refused")

    work, out = Recorder(seconds=0.05), io.StringIO()
    with pytest.raises(GraphFailed) as caught:
        run_graph(list(reversed(NAMES)), NEEDS, work, jobs=1, out=out, reverse=True, prepare={"production": broken})
    outcomes = {o.name: o for o in caught.value.outcomes}
    assert caught.value.first.name == "production"
    assert outcomes["production"].detail == "release of production refused"
    assert ("start", "production") not in work.events
    assert outcomes["dr"].status == "not run" and outcomes["dr"].detail == "not started: production failed"


def test_a_prepared_workspace_whose_work_never_starts_says_so():
    work, out = Recorder(seconds=0.05, fail="dr"), io.StringIO()
    with pytest.raises(GraphFailed) as caught:
        run_graph(
            ["dr", "production"], NEEDS, work, jobs=2, out=out, reverse=True, prepare={"production": lambda job: None}
        )
    outcomes = {o.name: o for o in caught.value.outcomes}
    assert outcomes["production"].detail == "prepared, then not started: dr failed"


def test_needs_outside_the_selection_do_not_block():
    work = Recorder()
    outcomes = run_graph(["production", "dr"], NEEDS, work, jobs=2, out=io.StringIO())
    assert [o.status for o in outcomes] == ["done", "done"]
    assert work.index("end", "production") < work.index("start", "dr")


def test_first_failure_stops_new_starts_lets_running_ones_finish_and_reports_all():
    work, out = Recorder(fail="staging", seconds=0.05), io.StringIO()
    with pytest.raises(GraphFailed) as caught:
        run_graph(NAMES, NEEDS, work, jobs=4, out=out)
    outcomes = {o.name: o for o in caught.value.outcomes}
    assert caught.value.first.name == "staging"
    assert str(caught.value.first.error) == "apply of staging broke"
    assert outcomes["production"].status == "done", "a run already going finishes"
    assert outcomes["dr"].status == "not run" and outcomes["dr"].detail == "not started: staging failed"
    assert outcomes["staging"].detail == "apply of staging broke; 3 resources in state"
    assert ("start", "dr") not in work.events
    table = out.getvalue().split("run summary:")[1].splitlines()
    assert [line.split()[:2] for line in table[2:]] == [
        ["management", "done"],
        ["security", "done"],
        ["staging", "failed"],
        ["production", "done"],
        ["dr", "not"],
    ]


def test_lines_are_prefixed_by_workspace_and_phases_are_logged_without_a_terminal():
    out = io.StringIO()
    run_graph(["management", "security"], NEEDS, Recorder(seconds=0), jobs=2, out=out, verb="deploy")
    lines = out.getvalue().splitlines()
    assert "[management] working on management" in lines
    assert "[security  ] second line" in lines
    assert "status: management apply | security waiting" in lines
    assert any(line.startswith("status: management done (") and line.endswith("| security waiting") for line in lines)
    rows = [line.split() for line in lines[lines.index("deploy summary:") + 2 :]]
    assert [(row[0], row[1], row[3:]) for row in rows] == [
        ("management", "done", ["10", "resources"]),
        ("security", "done", ["8", "resources"]),
    ]


def test_a_single_workspace_is_not_prefixed():
    out = io.StringIO()
    run_graph(["security"], NEEDS, Recorder(seconds=0), jobs=2, out=out)
    assert "working on security" in out.getvalue().splitlines()
    assert "status:" not in out.getvalue()


@pytest.mark.parametrize("value", ["0", "17", "two", "-1", "1.5", ""])
def test_jobs_must_be_a_whole_number_in_range(value):
    with pytest.raises(UserError, match=r"--jobs: expected a whole number from 1 to 16, got"):
        check_jobs(value, "--jobs")


def test_a_workspace_starts_early_once_what_it_reads_exists():
    # staging reads security's log archive: it exists early in security's apply, so staging need not wait.
    exists = threading.Event()
    work = Recorder(seconds=0.3)
    asked: list[tuple[str, str]] = []

    def ready(name: str, need: str) -> str | None:
        asked.append((name, need))
        if need == "security" and exists.is_set():
            return "the log archive exists"
        return None

    def apply(job):
        if job.name == "security":
            exists.set()
        return work(job)

    out = io.StringIO()
    run_graph(["security", "staging"], NEEDS, apply, jobs=2, out=out, ready=ready, poll_s=0.02)
    assert work.index("start", "staging") < work.index("end", "security"), "staging started while security applied"
    assert "[staging ] starts before security is done: the log archive exists" in out.getvalue().splitlines()
    assert ("staging", "security") in asked


def test_without_an_answer_from_ready_a_workspace_waits_for_the_whole_need():
    work = Recorder(seconds=0.05)
    run_graph(["production", "dr"], NEEDS, work, jobs=2, out=io.StringIO(), ready=lambda name, need: None, poll_s=0.01)
    assert work.index("end", "production") < work.index("start", "dr")


def test_a_probe_that_breaks_answers_not_yet_and_the_run_goes_on():
    def broken(name: str, need: str) -> str | None:
        raise RuntimeError("throttled")

    work = Recorder(seconds=0.02)
    outcomes = run_graph(["security", "staging"], NEEDS, work, jobs=2, out=io.StringIO(), ready=broken, poll_s=0.01)
    assert [o.status for o in outcomes] == ["done", "done"]
    assert work.index("end", "security") < work.index("start", "staging")

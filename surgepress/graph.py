"""Runs one job per workspace along the data graph, several at once, with readable output.

A workspace starts as soon as every workspace it reads (`depends_on`, within the selection)
has finished; for a destroy the graph is reversed, so a workspace goes once everything that
reads it has gone. At most `jobs` run at a time. Output stays readable with several
Terraform runs interleaved:

- each line a job prints is prefixed by its workspace (`[staging   ] …`);
- a one-line status says which workspace is in which phase: redrawn in place on a terminal,
  printed as a line whenever a phase changes otherwise (CI logs);
- a final table gives each workspace's result, seconds and detail (e.g. resources in state).

The first failure stops new starts; what is running finishes (interrupting Terraform
mid-apply would leave a half-applied workspace), and the table names every workspace that
failed, finished or never started. `GraphFailed` then carries the first failure.

Written here rather than taken from a library: `concurrent.futures` does the running, and
the scheduling (dependency-ordered starts, stop on first failure, a status line) is a few
dozen lines that no maintained package offers for threads with prefixed output.
"""

from __future__ import annotations

import io
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TextIO, cast

from surgepress.errors import UserError

JOBS_ENV = "SURGEPRESS_JOBS"
READY_POLL_S = 0.5  # how often a waiting workspace asks whether what it reads exists yet
MAX_JOBS = 16


def default_jobs() -> int:
    """Terraform runs at once: two per core, unless SURGEPRESS_JOBS says otherwise. A run spends
    most of its time waiting on AWS's answers and the provider's own waiters (S3 lifecycle,
    Aurora), not on a core: on 2 cores, 4 workspaces at once (bench/deploy_bench.py)."""
    value = os.environ.get(JOBS_ENV)
    if value is None or value == "":
        return min(MAX_JOBS, 2 * (os.cpu_count() or 1))
    return check_jobs(value, JOBS_ENV)


def check_jobs(value: object, where: str) -> int:
    text = str(value)
    if not re.fullmatch(r"[0-9]+", text) or not 1 <= int(text) <= MAX_JOBS:
        raise UserError(f"{where}: expected a whole number from 1 to {MAX_JOBS}, got {text!r}")
    return int(text)


@dataclass
class Outcome:
    name: str
    status: str = "not run"
    """done | failed | not run"""
    seconds: float = 0.0
    detail: str = ""
    error: BaseException | None = None


class GraphFailed(Exception):
    """A job failed; `first` is the first failure's exception, `outcomes` every workspace's."""

    def __init__(self, first: Outcome, outcomes: list[Outcome]):
        self.first = first
        self.outcomes = outcomes
        super().__init__(f"{first.name}: {first.error}")


class Console:
    """The shared terminal of concurrent jobs: prefixed lines and a status line, one lock."""

    def __init__(self, out: TextIO, names: Iterable[str], *, prefix: bool = True):
        self.out = out
        self.names = list(names)
        self.width = max((len(n) for n in self.names), default=0)
        self.prefix = prefix
        self.phases = {name: "waiting" for name in self.names}
        self.lock = threading.Lock()
        self.tty = bool(getattr(out, "isatty", lambda: False)())
        self._status_shown = False

    def status_text(self) -> str:
        return "status: " + " | ".join(f"{name} {self.phases[name]}" for name in self.names)

    def _clear_status(self) -> None:
        if self.tty and self._status_shown:
            self.out.write("\r\033[K")
            self._status_shown = False

    def _draw_status(self) -> None:
        if self.tty:
            self.out.write(
                self.status_text()[: os.get_terminal_size(self.out.fileno()).columns - 1]
                if hasattr(self.out, "fileno")
                else self.status_text()
            )
            self._status_shown = True
        self.out.flush()

    def line(self, name: str | None, text: str) -> None:
        with self.lock:
            self._clear_status()
            lead = f"[{name:<{self.width}}] " if self.prefix and name else ""
            self.out.write(f"{lead}{text}\n")
            self._draw_status()

    def phase(self, name: str, phase: str) -> None:
        with self.lock:
            if self.phases.get(name) == phase:
                return
            self.phases[name] = phase
            self._clear_status()
            if not self.tty and len(self.names) > 1:
                self.out.write(self.status_text() + "\n")
            self._draw_status()

    def finish(self) -> None:
        with self.lock:
            self._clear_status()
            self.out.flush()

    def writer(self, name: str) -> PrefixedWriter:
        return PrefixedWriter(self, name)


class PrefixedWriter(io.TextIOBase):
    """A file-like object for one job: complete lines go to the console with the job's prefix."""

    def __init__(self, console: Console, name: str):
        self.console = console
        self.name = name
        self._buffer = ""

    def write(self, text: str) -> int:
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            self.console.line(self.name, line)
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            self.console.line(self.name, self._buffer)
            self._buffer = ""

    def isatty(self) -> bool:
        return False  # Terraform's colours would interleave badly: -no-color


class Job:
    """What a job gets: its prefixed output and a way to name its phase."""

    def __init__(self, console: Console, name: str):
        self.name = name
        self.out: TextIO = cast(TextIO, console.writer(name))  # a TextIOBase: file-like for print()
        self.started = time.monotonic()
        self.detail = ""
        """Set by a failing job to say what it left (e.g. resources in state) in the table."""
        self._console = console

    def phase(self, phase: str) -> None:
        self._console.phase(self.name, phase)

    def say(self, message: str) -> None:
        print(message, file=self.out, flush=True)


def run_graph(
    names: list[str],
    needs: Mapping[str, Iterable[str]],
    work: Callable[[Job], str],
    *,
    jobs: int,
    out: TextIO = sys.stdout,
    reverse: bool = False,
    verb: str = "run",
    ready: Callable[[str, str], str | None] | None = None,
    poll_s: float = READY_POLL_S,
    prepare: Mapping[str, Callable[[Job], None]] | None = None,
) -> list[Outcome]:
    """Run `work(job)` for each name once its needs (restricted to `names`) are done; reversed:
    once everything that needs it is done. Returns the outcomes in `names` order, or raises
    GraphFailed after every started job has ended. `work` returns a detail for the table.

    `ready(name, need)`, when given, may let `name` start before `need` is done: it answers why
    (what `name` reads of `need` exists already) or None; it is asked every `poll_s` seconds.

    `prepare[name]`, when given, runs first for that name as soon as a slot is free, whatever
    its needs (e.g. releasing a workspace's deletion protection while what reads it is still
    being destroyed); its `work` then waits for its needs as any other. Both share one Job
    (prefix, phases, time in the table), and a slot is held only while one of them runs."""
    selected = set(names)
    waits_for = {name: {dep for dep in needs.get(name, ()) if dep in selected} for name in names}
    if reverse:
        waits_for = {name: {other for other in names if name in waits_for[other]} for name in names}
    console = Console(out, names, prefix=len(names) > 1)
    outcomes = {name: Outcome(name) for name in names}
    pending: list[str] = list(names)
    running: dict[Future[str], str] = {}
    first_failure: Outcome | None = None
    started_at: dict[str, float] = {}

    jobs_by_name: dict[str, Job] = {}
    to_prepare: list[str] = [name for name in names if prepare and name in prepare]
    preparing: set[str] = set(to_prepare)  # until their prepare has ended

    def job_of(name: str) -> Job:
        if name not in jobs_by_name:
            jobs_by_name[name] = Job(console, name)
        return jobs_by_name[name]

    def call(name: str) -> str:
        job = job_of(name)
        try:
            if name in preparing:
                assert prepare is not None
                prepare[name](job)
                return ""
            return work(job)
        finally:
            job.out.flush()

    def start(name: str) -> None:
        started_at.setdefault(name, time.monotonic())
        console.phase(name, "starting")
        running[pool.submit(call, name)] = name

    early: dict[str, dict[str, str]] = {name: {} for name in names}  # need -> why it need not be waited for

    def startable(name: str) -> bool:
        for need in waits_for[name]:
            if outcomes[need].status == "done" or need in early[name]:
                continue
            why = None
            if ready is not None and outcomes[need].status != "failed":
                try:
                    why = ready(name, need)
                except Exception:  # noqa: BLE001 - a probe that breaks answers "not yet", never ends the run
                    why = None
            if why is None:
                return False
            early[name][need] = why
        return True

    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="workspace") as pool:
        while pending or running:
            if first_failure is None:
                while to_prepare and len(running) < jobs:
                    start(to_prepare.pop(0))
                for name in list(pending):
                    if len(running) >= jobs:
                        break  # no free slot: no need to ask whether the rest could start
                    if name in preparing or not startable(name):
                        continue
                    # started at once, before the next candidate's probes are asked (they take a while)
                    pending.remove(name)
                    for need, why in early[name].items():
                        if outcomes[need].status != "done":
                            console.line(name, f"starts before {need} is done: {why}")
                    start(name)
            if not running:
                if first_failure is None and pending:  # cannot happen with a valid graph: say so, not "done"
                    stuck = outcomes[pending[0]]
                    stuck.status, stuck.error = (
                        "failed",
                        UserError(
                            f"{stuck.name} cannot start: it waits for {', '.join(sorted(waits_for[stuck.name]))}"
                        ),
                    )
                    stuck.detail = _first_line(stuck.error)
                    first_failure = stuck
                    pending.remove(stuck.name)
                break  # a failure stopped new starts
            probing = ready is not None and first_failure is None and pending
            finished, _ = wait(running, timeout=poll_s if probing else None, return_when=FIRST_COMPLETED)
            for future in finished:
                name = running.pop(future)
                outcome = outcomes[name]
                outcome.seconds = time.monotonic() - started_at[name]
                error = future.exception()
                if name in preparing:
                    preparing.discard(name)
                    if error is None:
                        console.phase(name, "prepared")
                        continue
                    pending.remove(name)
                if error is None:
                    outcome.status, outcome.detail = "done", future.result() or ""
                else:
                    outcome.status, outcome.error = "failed", error
                    left = jobs_by_name[name].detail if name in jobs_by_name else ""
                    outcome.detail = "; ".join(filter(None, (_first_line(error), left)))
                    if first_failure is None:
                        first_failure = outcome
                console.phase(name, f"{outcome.status} ({outcome.seconds:.0f}s)")
    console.finish()
    for name in pending:
        outcomes[name].detail = "{}: {}".format(
            "prepared, then not started" if name in started_at else "not started",
            f"{first_failure.name} failed" if first_failure else "what it waits for did not finish",
        )
    ordered = [outcomes[name] for name in names]
    print_table(ordered, out, verb=verb)
    if first_failure is not None:
        raise GraphFailed(first_failure, ordered)
    return ordered


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def print_table(outcomes: list[Outcome], out: TextIO, *, verb: str) -> None:
    width = max([len("workspace")] + [len(o.name) for o in outcomes])
    print(f"\n{verb} summary:", file=out)
    print(f"  {'workspace':<{width}}  {'result':<8} {'seconds':>8}  detail", file=out)
    for o in outcomes:
        seconds = f"{o.seconds:8.1f}" if o.status != "not run" else f"{'-':>8}"
        print(f"  {o.name:<{width}}  {o.status:<8} {seconds}  {o.detail}", file=out)
    out.flush()

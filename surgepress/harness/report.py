"""pytest plugin of the harness: stages in order, and a markdown summary per run.

Tests carry `@pytest.mark.stage("deploy" | "verify" | "drill" | "teardown")`; they run in
that order (by stage, then as collected). A stage skipped with SKIP_<STAGE>=1 skips its
tests with that reason. Each test's outcome is reported as pass, fail, not applicable with
its reason (pytest's skip), or not run when what it checks was never deployed (a skip whose
reason starts with NOT_RUN, e.g. after a failed deploy); `record_property("detail", …)` adds
what a check saw.
The summary (`summary.md` next to the JUnit XML that `--junitxml` writes) lists every
check and the time spent per stage.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from surgepress.harness import STAGES, skipped

SUMMARY_OPTION = "--harness-summary"
NOT_RUN = "not run"
"""Prefix of a skip reason that means the check never ran (what it checks was not deployed)."""
RESULTS = ("pass", "fail", "not applicable", NOT_RUN)


@dataclass
class Outcome:
    stage: str
    name: str
    result: str = "pass"  # pass | fail | not applicable | not run
    seconds: float = 0.0
    detail: str = ""


@dataclass
class Collector:
    run: dict = field(default_factory=dict)  # run id, target, workspaces (set by the harness fixture)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)


COLLECTOR = Collector()


def stage_of(item: pytest.Item) -> str:
    marker = item.get_closest_marker("stage")
    if marker is None or not marker.args or marker.args[0] not in STAGES:
        raise pytest.UsageError(f"{item.nodeid}: integration tests need @pytest.mark.stage(one of {STAGES})")
    return marker.args[0]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(SUMMARY_OPTION, default=None, help="write the harness's markdown summary here")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "stage(name): harness stage of an integration test: " + ", ".join(STAGES))


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    harness_items = [i for i in items if i.get_closest_marker("integration")]
    if not harness_items:
        return
    order = {name: index for index, name in enumerate(STAGES)}
    others = [i for i in items if not i.get_closest_marker("integration")]
    harness_items.sort(key=lambda i: order[stage_of(i)])  # stable: collection order within a stage
    items[:] = others + harness_items


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("integration"):
        reason = skipped(stage_of(item))
        if reason:
            pytest.skip(f"{reason}: stage {stage_of(item)} skipped")


def skip_outcome(reason: str) -> tuple[str, str]:
    """(result, detail) of a skipped check: not run (its subject was never deployed), or not applicable."""
    reason = reason.removeprefix("Skipped: ")
    if reason.startswith(NOT_RUN):
        return NOT_RUN, reason.removeprefix(NOT_RUN).strip()
    return "not applicable", reason


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    report = outcome.get_result()
    if not item.get_closest_marker("integration"):
        return
    entry = COLLECTOR.outcomes.setdefault(item.nodeid, Outcome(stage=stage_of(item), name=item.name))
    entry.seconds += report.duration
    if report.skipped:
        entry.result, entry.detail = skip_outcome(
            report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        )
    elif report.failed:
        entry.result = "fail"
        message = getattr(report.longrepr, "reprcrash", None)
        entry.detail = (message.message if message else str(report.longrepr)).splitlines()[0][:300]
    elif report.when == "call":
        details = [str(value) for name, value in item.user_properties if name == "detail"]
        entry.detail = "; ".join(details)


def summary_markdown(collector: Collector) -> str:
    by_stage: dict[str, list[Outcome]] = defaultdict(list)
    for entry in collector.outcomes.values():
        by_stage[entry.stage].append(entry)
    counts: defaultdict[str, int] = defaultdict(int)
    for entry in collector.outcomes.values():
        counts[entry.result] += 1
    run = collector.run
    lines = [
        f"# Integration run {run.get('run_id', '?')}",
        "",
        f"target **{run.get('target', '?')}**, workspaces {', '.join(run.get('workspaces', [])) or '?'}, "
        f"names suffixed `{run.get('project', '?')}`",
        "",
        f"**{counts['pass']} passed, {counts['fail']} failed, {counts['not applicable']} not applicable, "
        f"{counts['not run']} not run** in {time.monotonic() - collector.started:.1f}s",
        "",
        "| stage | seconds | passed | failed | not applicable | not run |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for stage in STAGES:
        entries = by_stage.get(stage, [])
        lines.append(
            f"| {stage} | {sum(e.seconds for e in entries):.1f} | "
            + " | ".join(str(sum(e.result == r for e in entries)) for r in RESULTS)
            + " |"
        )
    lines += ["", "| stage | check | result | seconds | detail |", "|---|---|---|---:|---|"]
    for stage in STAGES:
        for entry in by_stage.get(stage, []):
            detail = entry.detail.replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {stage} | {entry.name} | {entry.result} | {entry.seconds:.1f} | {detail} |")
    return "\n".join(lines) + "\n"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = session.config.getoption(SUMMARY_OPTION)
    if not target or not COLLECTOR.outcomes:
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(summary_markdown(COLLECTOR))


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    target = config.getoption(SUMMARY_OPTION)
    if target and COLLECTOR.outcomes:
        terminalreporter.write_line(f"harness summary: {target}")

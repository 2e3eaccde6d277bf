"""surge calibrate's arithmetic: the step it takes, and requests per php CPU second (the load
runs and php-fpm's CPU stood in for; the harness measures the real data plane)."""

from __future__ import annotations

import pytest

from surgepress.errors import UserError
from surgepress.load import PhaseResult, Report
from surgepress.surge import calibrate

pytestmark = pytest.mark.unit


def _phase(requests: int, seconds: float, p95: float, errors: float = 0.0, hits: float = 0.0) -> PhaseResult:
    return PhaseResult("steady", requests, seconds, requests / seconds, 0, p95, p95, errors, hits, 0, 0)


def test_the_busiest_step_within_the_objective_gives_requests_per_php_cpu_second(monkeypatch):
    # Steps of 2, 4 and 8 readers: 20, 40 and 80 requests in 10 s; php spends 1, 2.5 and 8 CPU seconds.
    # 8 readers miss the 500 ms objective, so 4 readers count: 40 requests / 2.5 CPU s = 16 per vCPU.
    phases = iter([_phase(20, 10, 100), _phase(40, 10, 300), _phase(80, 10, 900), _phase(50, 10, 20, hits=0.8)])
    cpu = iter([0.0, 1.0, 1.0, 3.5, 3.5, 11.5])
    monkeypatch.setattr(calibrate, "php_cpu_seconds", lambda _pid: next(cpu))
    seen: list[dict] = []

    def run(url: str, **options) -> Report:
        seen.append({"url": url, **options})
        return Report("steady", url, (next(phases),))

    result = calibrate.measure(
        run,
        ("http://task", "www.site", 42),
        ("https://edge", "www.site", "ca.pem"),
        max_p95_ms=500,
        workspace="staging",
        steps=(2, 4, 8, 16),
        step_s=10,
        say=lambda _line: None,
    )
    assert result["rps_per_1024_cpu"] == 16.0
    assert (result["idle_p95_ms"], result["at_capacity_p95_ms"], result["edge_hit_ratio"]) == (100, 300, 0.8)
    assert [p["readers"] for p in result["measured"]["points"]] == [2, 4, 8], "stops at the first miss"
    assert [p["php_cores"] for p in result["measured"]["points"]] == [0.1, 0.25, 0.8]
    assert [s["users"] for s in seen] == [2, 4, 8, 8] and seen[-1]["ca_file"] == "ca.pem", "then the edge"
    assert "4 readers" in result["source"] and "no step reached" not in result["source"]


def _measure_two_steps(monkeypatch, cpu: list[float], phases: list[PhaseResult]) -> dict:
    """measure() over steps of 2 and 4 readers (objective p95 500 ms), on these phases and CPU readings."""
    readings, answers = iter(cpu), iter(phases)
    monkeypatch.setattr(calibrate, "php_cpu_seconds", lambda _pid: next(readings))
    return calibrate.measure(
        lambda url, **o: Report("steady", url, (next(answers),)),
        ("u", "h", 1),
        ("e", "h", "c"),
        max_p95_ms=500,
        workspace="staging",
        steps=(2, 4),
        step_s=10,
        say=lambda _l: None,
    )


def test_a_load_that_never_reaches_the_objective_says_so_and_one_that_always_misses_is_refused(monkeypatch):
    result = _measure_two_steps(
        monkeypatch, [0.0, 1.0, 1.0, 2.0], [_phase(20, 10, 100), _phase(40, 10, 200), _phase(10, 10, 20)]
    )
    assert "no step reached the objective's p95" in result["source"]
    with pytest.raises(UserError, match="even 2 readers miss p95 500 ms or fail on staging's data plane"):
        _measure_two_steps(monkeypatch, [0.0, 1.0], [_phase(20, 10, 900)])


@pytest.mark.parametrize("readers", ["8,2", "0,4", "2,two", "2,2"])
def test_readers_that_do_not_rise_are_one_line(tmp_path, readers):
    from tests.conftest import run_cli

    result = run_cli("surge", "calibrate", "staging", "--readers", readers, build=tmp_path)
    assert (result.returncode, result.stderr.strip()) == (
        2,
        f"error: surge calibrate: --readers expects rising counts from 1 to 1000 such as 2,8,32, got {readers!r}",
    )

"""How a drill turns probes and writes into RTO and RPO, and its PNG timeline."""

from __future__ import annotations

import pytest

from surgepress.drill.probes import Probe, Writes
from surgepress.drill.report import loss, rto_seconds

pytestmark = pytest.mark.unit


def _probes(*spec: tuple[float, int, str]) -> list[Probe]:
    return [Probe(at, status, 10.0, region) for at, status, region in spec]


def test_rto_is_zero_when_no_probe_failed():
    assert rto_seconds(_probes((0, 200, "eu-west-1"), (1, 200, "eu-central-1")), "eu-central-1") == 0.0


def test_rto_runs_from_the_first_failure_to_the_new_region_answering_healthy():
    probes = _probes(
        (0, 200, "eu-west-1"),
        (1.5, 502, ""),
        (2.0, 0, ""),
        (2.5, 200, "eu-west-1"),
        (3.25, 200, "eu-central-1"),
        (4, 500, ""),
    )
    # A healthy answer from the old region does not end the outage; the new region's does.
    assert rto_seconds(probes, "eu-central-1") == pytest.approx(1.75)


def test_rto_is_missing_when_the_new_region_never_answers():
    assert rto_seconds(_probes((0, 503, ""), (1, 200, "eu-west-1")), "eu-central-1") is None


def _writes(times: dict[int, float]) -> Writes:
    return Writes(acknowledged={n: (at, "production") for n, at in times.items()})


def test_nothing_lost_is_rpo_zero():
    result = loss("heartbeat rows", _writes({1: 0.2, 2: 0.4, 3: 0.6}), {1, 2, 3}, before=10)
    assert (result.lost, result.rpo_s, result.acknowledged) == (0, 0.0, 3)


def test_lost_writes_give_the_span_from_the_last_kept_to_the_newest_lost():
    writes = _writes({1: 1.0, 2: 1.2, 3: 1.4, 4: 1.6, 5: 1.8})
    result = loss("marker objects", writes, {1, 2}, before=10)
    assert result.missing == (3, 4, 5) and result.rpo_s == pytest.approx(0.6)


def test_writes_after_the_cut_are_not_counted():
    result = loss("heartbeat rows", _writes({1: 1.0, 2: 5.0}), {1}, before=2.0)
    assert (result.acknowledged, result.lost) == (1, 0)


def test_the_timeline_names_each_step_on_its_bar_and_each_probe_row_by_region():
    import io

    from matplotlib.colors import to_rgb
    from PIL import Image

    from surgepress.plots import FAILED, OK, drill_figure, png

    steps = [("fence the old writer", 0.0, 2.0, True), ("promote the secondary", 2.0, 5.0, False)]
    probes = [(1.0, True, "eu-west-1"), (3.0, False, ""), (4.5, True, "eu-central-1")]
    figure = drill_figure(steps, probes, old_region="eu-west-1", new_region="eu-central-1")
    bars, answers = figure.axes
    named = [t.get_text() for t in bars.texts]
    assert named == [" 1. fence the old writer (2.0 s)", " 2. promote the secondary (3.0 s) FAILED"]
    assert [t.get_text() for t in answers.get_yticklabels()] == [
        "answered by eu-west-1",
        "answered by eu-central-1",
        "no region answered",
    ]
    assert answers.get_xlabel() == "seconds from the drill's start"
    healthy, unhealthy = (c.get_offsets().tolist() for c in answers.collections)
    assert healthy == [[1.0, 0.0], [4.5, 1.0]] and unhealthy == [[3.0, 2.0]], "each probe on its region's row"
    picture = Image.open(io.BytesIO(png(figure))).convert("RGB")
    assert picture.size == (1200, int(100 * (1.2 + 0.45 * 5)))
    ok, failed = (patch.get_facecolor()[:3] for patch in bars.patches)
    assert ok == pytest.approx(to_rgb(OK)) and failed == pytest.approx(to_rgb(FAILED)), "the failed step's bar is red"

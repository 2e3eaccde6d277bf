"""How a drill turns probes and writes into RTO and RPO, and its PNG timeline."""

from __future__ import annotations

import struct
import zlib

import pytest

from surgepress.drill.png import HEALTHY, UNHEALTHY, timeline
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


def _pixels(png: bytes) -> tuple[int, int, bytes]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    data, offset = b"", 8
    while offset < len(png):
        (length,), kind = struct.unpack(">I", png[offset : offset + 4]), png[offset + 4 : offset + 8]
        chunk = png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + chunk) & 0xFFFFFFFF == crc
        if kind == b"IDAT":
            data += chunk
        offset += 12 + length
    return width, height, zlib.decompress(data)


def test_the_timeline_is_a_valid_png_with_red_for_failed_and_green_for_healthy_probes():
    steps = [{"started_s": 0.0, "ended_s": 2.0, "ok": True}, {"started_s": 2.0, "ended_s": 5.0, "ok": False}]
    probes = [{"at": 1.0, "healthy": True, "region": "eu-west-1"}, {"at": 3.0, "healthy": False, "region": ""}]
    width, height, raw = _pixels(timeline(steps, probes, old_region="eu-west-1", new_region="eu-central-1"))
    assert width == 960 and len(raw) == height * (1 + 3 * width)
    assert bytes(HEALTHY) in raw and bytes(UNHEALTHY) in raw

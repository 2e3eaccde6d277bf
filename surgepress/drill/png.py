"""A drill's timeline as a PNG, drawn with the standard library only (zlib + struct).

Top: one bar per runbook step over its time span, labelled with its number. Below: one tick
per probe, green when healthy, red when not, and its row tells which region answered
(upper row: the old primary's region, lower row: the new one's, middle: none). A time axis
in seconds, with at most 15 labelled marks, closes it.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

WIDTH, MARGIN = 960, 20
STEP_H, PROBE_H, GAP = 18, 14, 6
BACKGROUND = (255, 255, 255)
STEP_COLOURS = [
    (66, 133, 244),
    (251, 188, 5),
    (171, 71, 188),
    (0, 172, 193),
    (255, 112, 67),
    (124, 179, 66),
    (92, 107, 192),
    (141, 110, 99),
    (236, 64, 122),
    (38, 166, 154),
]
FAILED_STEP = (183, 28, 28)
AXIS_STEPS_S = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 86400)
MAX_AXIS_MARKS = 15
HEALTHY, UNHEALTHY, AXIS, TEXT = (46, 125, 50), (211, 47, 47), (97, 97, 97), (33, 33, 33)
# 3x5 digits for the step numbers and the axis labels.
DIGITS = {
    "0": ("111", "101", "101", "101", "111"),
    "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"),
    "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"),
    "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"),
    "7": ("111", "001", "001", "001", "001"),
    "8": ("111", "101", "111", "101", "111"),
    "9": ("111", "101", "111", "001", "111"),
}


class Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = [bytearray(BACKGROUND * width) for _ in range(height)]

    def rect(self, x0: int, y0: int, x1: int, y1: int, colour: tuple[int, int, int]) -> None:
        for y in range(max(0, y0), min(self.height, y1)):
            row = self.pixels[y]
            for x in range(max(0, x0), min(self.width, x1)):
                row[3 * x : 3 * x + 3] = bytes(colour)

    def text(self, x: int, y: int, digits: str, colour: tuple[int, int, int], scale: int = 2) -> None:
        for i, char in enumerate(digits):
            glyph = DIGITS.get(char)
            if glyph is None:
                continue
            for gy, line in enumerate(glyph):
                for gx, bit in enumerate(line):
                    if bit == "1":
                        left, top = x + (i * 4 + gx) * scale, y + gy * scale
                        self.rect(left, top, left + scale, top + scale, colour)

    def png(self) -> bytes:
        raw = b"".join(b"\x00" + bytes(row) for row in self.pixels)

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
        )


def timeline(steps: Sequence[dict], probes: Sequence[dict], *, old_region: str, new_region: str) -> bytes:
    """`steps`: {started_s, ended_s, ok}; `probes`: {at, healthy, region}."""
    end = max([s["ended_s"] for s in steps] + [p["at"] for p in probes] + [1.0])
    scale = (WIDTH - 2 * MARGIN) / end
    height = MARGIN * 2 + len(steps) * (STEP_H + 2) + GAP + 3 * PROBE_H + GAP + 20
    canvas = Canvas(WIDTH, height)
    x = lambda seconds: MARGIN + int(seconds * scale)  # noqa: E731
    y = MARGIN
    for index, step in enumerate(steps, 1):
        colour = STEP_COLOURS[(index - 1) % len(STEP_COLOURS)] if step["ok"] else FAILED_STEP
        canvas.rect(x(step["started_s"]), y, max(x(step["ended_s"]), x(step["started_s"]) + 2), y + STEP_H, colour)
        canvas.text(x(step["started_s"]) + 3, y + 4, str(index), TEXT)
        y += STEP_H + 2
    y += GAP
    rows = {old_region: 0, "": 1, new_region: 2}
    for probe in probes:
        top = y + rows.get(probe["region"], 1) * PROBE_H
        canvas.rect(
            x(probe["at"]), top + 2, x(probe["at"]) + 2, top + PROBE_H - 2, HEALTHY if probe["healthy"] else UNHEALTHY
        )
    y += 3 * PROBE_H + GAP
    canvas.rect(MARGIN, y, WIDTH - MARGIN, y + 1, AXIS)
    axis_step = next(s for s in AXIS_STEPS_S if end / s <= MAX_AXIS_MARKS)
    for second in range(0, int(end) + 1, axis_step):
        canvas.rect(x(second), y, x(second) + 1, y + 5, AXIS)
        canvas.text(x(second) + 2, y + 7, str(second), AXIS, scale=1)
    return canvas.png()

#!/usr/bin/env python3
"""Cold `deploy --all` after bootstrap, one workspace at a time vs along the data graph, in one run.

Each mode gets a throwaway build directory and emulator of its own: bootstrap (which also
writes every other workspace's stack while its apply waits), then
`deploy --all --no-dataplane` (`--jobs 1`, then the default), timing the whole command and
reading each workspace's apply seconds and resources from the CLI's summary table. Prints
both (the whole command, and the applies alone: the CLI's "deployed … in", synth and outputs
excluded), the ratio serial/graph, and graph / the slowest single workspace apply of the
serial run (the issue's target: at most 1.7). Then stops each emulator (which discards its state).
Usage: pipenv run python bench/deploy_bench.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from common import REPO, cli

TARGET_RATIO = 1.7


def summary(out: str) -> dict[str, tuple[float, str]]:
    """{workspace: (seconds, detail)} from the `deploy summary:` table."""
    lines = out.splitlines()
    rows = lines[lines.index("deploy summary:") + 2 :]
    table = {}
    for row in rows:
        parts = row.split()
        if len(parts) < 4 or parts[1] != "done":
            break
        table[parts[0]] = (float(parts[2]), " ".join(parts[3:]))
    return table


def applies(out: str) -> float:
    """The CLI's own figure: from the first init to the last apply (synth and outputs excluded)."""
    return float(re.search(r"^deployed \d+ workspace\(s\) in ([\d.]+)s$", out, re.MULTILINE).group(1))


def run(jobs: str | None) -> tuple[float, float, float, dict[str, tuple[float, str]]]:
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp)
        try:
            boot, _ = cli(build, "bootstrap")
            seconds, out = cli(build, "deploy", "--all", "--no-dataplane", *(["--jobs", jobs] if jobs else []))
            return boot, seconds, applies(out), summary(out)
        finally:
            env = {**os.environ, "SURGEPRESS_BUILD_DIR": str(build)}
            subprocess.run([sys.executable, "main.py", "emulator", "down"], cwd=REPO, env=env, capture_output=True)


def main() -> None:
    serial_boot, serial, serial_applies, serial_rows = run("1")
    graph_boot, graph, graph_applies, graph_rows = run(None)
    slowest = max(serial_rows.items(), key=lambda item: item[1][0])
    print(f"{'workspace':<11} {'serial s':>9} {'graph s':>8}  resources")
    for name, (seconds, detail) in serial_rows.items():
        print(f"{name:<11} {seconds:9.1f} {graph_rows[name][0]:8.1f}  {detail}")
    print(f"bootstrap: {serial_boot:.1f}s / {graph_boot:.1f}s")
    print(
        f"deploy --all (the whole command; bootstrap wrote the stacks): serial {serial:.1f}s, graph {graph:.1f}s; "
        f"serial/graph {serial / graph:.2f}x"
    )
    print(
        f"applies only (init + apply, the CLI's 'deployed ... in'): serial {serial_applies:.1f}s, "
        f"graph {graph_applies:.1f}s"
    )
    for label, value in (("whole command", graph), ("applies only", graph_applies)):
        ratio = value / slowest[1][0]
        verdict = "meets" if ratio <= TARGET_RATIO else "misses"
        print(
            f"graph ({label}) / slowest single apply ({slowest[0]} {slowest[1][0]:.1f}s): {ratio:.2f}x "
            f"({verdict} <= {TARGET_RATIO}x)"
        )


if __name__ == "__main__":
    main()

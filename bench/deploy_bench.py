#!/usr/bin/env python3
"""Deploy of every workspace to a fresh embedded AWS: seconds and resource count.

Runs the real CLI (synth, init, apply per workspace) in a throwaway build directory with
its own emulator, then a no-change redeploy, then destroys and stops the emulator.
Usage: pipenv run python bench/deploy_bench.py
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from common import cli, tear_down

from surgepress.config import load_settings


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp)
        try:
            first, out = cli(build, "deploy", "--all")
            counts = {m[0]: int(m[1]) for m in re.findall(r"deploy (\S+): done in [\d.]+s, (\d+) resources", out)}
            steps = dict(re.findall(r"deploy (\S+): done in ([\d.]+)s", out))
            again, _ = cli(build, "deploy", "--all")
        finally:
            tear_down(build, load_settings())
    total = sum(counts.values())
    for name, count in counts.items():
        print(f"  {name:<11} {count:3d} resources  apply {float(steps[name]):6.1f}s")
    print(
        f"deploy --all (cold emulator, incl. synth + init): {first:6.1f}s for {total} resources "
        f"({first / total:.2f}s per resource)"
    )
    print(f"deploy --all again (no changes):                  {again:6.1f}s  ratio first/again {first / again:.2f}x")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Deploy of every workspace to a fresh embedded AWS: seconds and resource count.

Runs the real CLI (synth, init, apply per workspace) in a throwaway build directory with
its own emulator, then a no-change redeploy, then destroys and stops the emulator.
Usage: pipenv run python bench/deploy_bench.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from surgepress.config import load_settings  # noqa: E402


def cli(build: Path, *args: str) -> tuple[float, str]:
    env = {**os.environ, "SURGEPRESS_BUILD_DIR": str(build)}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "main.py", *args], cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp)
        try:
            first, out = cli(build, "deploy", "--all")
            counts = {m[0]: int(m[1]) for m in re.findall(r"deploy (\S+): done in [\d.]+s, (\d+) resources", out)}
            steps = dict(re.findall(r"deploy (\S+): done in ([\d.]+)s", out))
            again, _ = cli(build, "deploy", "--all")
        finally:
            protected = [a for ws in load_settings().workspaces.values() if ws.protected
                         for a in ("--yes-destroy", ws.name)]
            subprocess.run([sys.executable, "main.py", "destroy", "--all", *protected], cwd=REPO,
                           env={**os.environ, "SURGEPRESS_BUILD_DIR": tmp}, capture_output=True)
            subprocess.run([sys.executable, "main.py", "emulator", "down"], cwd=REPO,
                           env={**os.environ, "SURGEPRESS_BUILD_DIR": tmp}, capture_output=True)
    total = sum(counts.values())
    for name, count in counts.items():
        print(f"  {name:<11} {count:3d} resources  apply {float(steps[name]):6.1f}s")
    print(f"deploy --all (cold emulator, incl. synth + init): {first:6.1f}s for {total} resources "
          f"({first / total:.2f}s per resource)")
    print(f"deploy --all again (no changes):                  {again:6.1f}s  ratio first/again {first / again:.2f}x")


if __name__ == "__main__":
    main()

"""What the bench scripts share: the real CLI in a throwaway build directory, and its teardown."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from surgepress.config import Settings  # noqa: E402


def cli(build: Path, *args: str) -> tuple[float, str]:
    """Run `python main.py <args>` against `build`; (seconds, stdout); exits on failure."""
    env = {**os.environ, "SURGEPRESS_BUILD_DIR": str(build)}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "main.py", *args], cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def tear_down(build: Path, settings: Settings) -> None:
    """Destroy every workspace (protected ones approved) and stop the build's emulator."""
    protected = [a for ws in settings.workspaces.values() if ws.protected for a in ("--yes-destroy", ws.name)]
    env = {**os.environ, "SURGEPRESS_BUILD_DIR": str(build)}
    for args in (["destroy", "--all", *protected], ["emulator", "down"]):
        subprocess.run([sys.executable, "main.py", *args], cwd=REPO, env=env, capture_output=True)

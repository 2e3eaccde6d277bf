#!/usr/bin/env python3
"""A full local integration run (deploy -> verify -> drill -> teardown): seconds per stage.

Runs `python main.py test integration` in a throwaway build directory (its own emulator),
then reads the run's JUnit XML: time per stage, its share of the run, and check counts.
Usage: pipenv run python bench/harness_bench.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path

from common import REPO

STAGE_OF_FILE = {"test_deploy": "deploy", "test_drill": "drill", "test_teardown": "teardown"}  # the rest: verify
STAGES = ("deploy", "verify", "drill", "teardown")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "SURGEPRESS_BUILD_DIR": tmp}
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "main.py", "test", "integration", "--", "-q"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
        total = time.perf_counter() - started
        reports = sorted((Path(tmp) / "reports").glob("*/junit.xml"))
        if proc.returncode != 0 or not reports:
            sys.exit(f"the run failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
        cases = ElementTree.parse(reports[-1]).getroot().iter("testcase")
        seconds, counts = defaultdict(float), defaultdict(lambda: defaultdict(int))
        for case in cases:
            module = case.get("classname", "").rsplit(".", 1)[-1]
            stage = STAGE_OF_FILE.get(module, "verify")
            seconds[stage] += float(case.get("time", 0))
            outcome = (
                "skipped"
                if case.find("skipped") is not None
                else ("failed" if case.find("failure") is not None or case.find("error") is not None else "passed")
            )
            counts[stage][outcome] += 1
    measured = sum(seconds.values())
    print(f"local integration run: {total:.1f}s end to end (pytest start-up and fixtures: {total - measured:.1f}s)")
    for stage in STAGES:
        c = counts[stage]
        print(
            f"  {stage:<9} {seconds[stage]:7.1f}s  {seconds[stage] / total:6.1%}  "
            f"{c['passed']} passed, {c['failed']} failed, {c['skipped']} not applicable"
        )
    print(f"verify/deploy time ratio: {seconds['verify'] / seconds['deploy']:.2f}x")


if __name__ == "__main__":
    main()

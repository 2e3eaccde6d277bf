#!/usr/bin/env python3
"""Cold synth of every workspace in one process vs one empty stack, in the same run.

Each case runs in a fresh interpreter (cold: the jsii runtime and the provider bindings
are loaded from scratch), `--repeat` times; the median is reported with the ratio.
Usage: pipenv run python bench/synth_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CASES = {
    "empty stack (cdktf only)": """
from cdktf import App, TerraformStack
app = App(outdir=OUT); TerraformStack(app, "empty"); app.synth()
""",
    "empty stack + aws provider": """
from cdktf import App, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider
app = App(outdir=OUT); AwsProvider(TerraformStack(app, "empty"), "aws", region="eu-west-1"); app.synth()
""",
    "all workspaces (one process)": """
from surgepress.config import load_settings
from surgepress.synth import build_app
from surgepress.targets import Paths, Target
from pathlib import Path
s = load_settings()
build_app(s, list(s.workspaces.values()), target=Target.LOCAL, paths=Paths(Path(OUT)), outdir=Path(OUT)).synth()
""",
}


def run_case(code: str) -> float:
    with tempfile.TemporaryDirectory() as out:
        program = f"import surgepress\nOUT = {out!r}\n{code}"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", program], cwd=REPO, check=True)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    medians = {}
    for name, code in CASES.items():
        times = [run_case(code) for _ in range(args.repeat)]
        medians[name] = statistics.median(times)
        print(f"{name:<32} median {medians[name]:6.2f}s  (runs: {', '.join(f'{t:.2f}' for t in times)})")
    full, empty, provider = (
        medians["all workspaces (one process)"],
        medians["empty stack (cdktf only)"],
        medians["empty stack + aws provider"],
    )
    print(f"ratio all-workspaces / empty stack:          {full / empty:5.2f}x")
    print(f"ratio all-workspaces / empty stack+provider: {full / provider:5.2f}x")


if __name__ == "__main__":
    main()

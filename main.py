#!/usr/bin/env python3
"""surgepress entry point.

- `cdktf synth|diff|deploy|destroy <workspace>` runs this file with no arguments (see
  cdktf.json): it builds one App with one stack per workspace and synthesizes it.
- `python main.py <command> …` is the surgepress CLI (`python main.py --help`).
"""

import os
import sys
from pathlib import Path

from surgepress.errors import USAGE_EXIT_CODE, UserError


def cdktf_app() -> int:
    from surgepress.config import load_settings
    from surgepress.synth import build_app
    from surgepress.targets import Paths, Target

    try:
        settings = load_settings()
        target = Target.parse(None)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_EXIT_CODE
    from surgepress.runner import seed_lock_file

    outdir = Path(os.environ.get("CDKTF_OUTDIR", "cdktf.out"))
    build_app(settings, list(settings.workspaces.values()), target=target, paths=Paths.default(), outdir=outdir).synth()
    for name in settings.workspaces:
        seed_lock_file(outdir / "stacks" / name)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 1 and "CDKTF_OUTDIR" in os.environ:
        sys.exit(cdktf_app())
    from surgepress.cli import main

    sys.exit(main())

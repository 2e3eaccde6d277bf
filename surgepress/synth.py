"""Synthesis of workspace stacks into Terraform JSON, all in one process.

Importing the provider bindings costs most of a synth (the jsii runtime loads the whole
AWS schema), so every requested workspace is built in one `App` and paid for once.
"""

from __future__ import annotations

from pathlib import Path

from surgepress.config import Settings, Workspace
from surgepress.targets import Paths, Target


def build_app(settings: Settings, workspaces: list[Workspace], *, target: Target, paths: Paths,
              outdir: Path | None = None, local_state: frozenset[str] = frozenset()):
    """An App holding one stack per workspace (not yet synthesized); workspaces named in
    `local_state` keep their state in a local file (bootstrapping the state bucket)."""
    from cdktf import App  # jsii is quieted by importing the surgepress package

    from dr.stack import DrStack
    from surgepress.stacks import WorkspaceStack

    outdir = outdir or paths.synth_dir(target)
    outdir.mkdir(parents=True, exist_ok=True)
    app = App(outdir=str(outdir))
    for ws in workspaces:
        if ws.replica_of:
            DrStack(app, ws, source=settings.get(ws.replica_of), target=target, paths=paths,
                    organisation=settings.organisation, local_state=ws.name in local_state)
        else:
            WorkspaceStack(app, ws, target=target, paths=paths, organisation=settings.organisation,
                           local_state=ws.name in local_state)
    return app


def synthesize(settings: Settings, workspaces: list[Workspace], *, target: Target, paths: Paths,
               local_state: frozenset[str] = frozenset()) -> dict[str, Path]:
    """Write `<build>/synth/<target>/stacks/<ws>/cdk.tf.json`; returns each stack's directory."""
    app = build_app(settings, workspaces, target=target, paths=paths, local_state=local_state)
    app.synth()
    return {ws.name: paths.stack_dir(target, ws.name) for ws in workspaces}

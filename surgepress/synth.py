"""Synthesis of workspace stacks into Terraform JSON, all in one process.

Importing the provider bindings costs most of a synth (the jsii runtime loads the whole
AWS schema), so every requested workspace is built in one `App` and paid for once. A stack
whose inputs (the code that builds it, every environment file, target, backend) are those
of its last synth is not built again: `stale` names the ones that are out of date.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from surgepress.config import ENVIRONMENTS_DIR, ENVIRONMENTS_ENV, Settings, Workspace
from surgepress.targets import REPO_ROOT, Paths, Target

# What a synthesized stack is made from, besides the environment files.
SOURCES = ("main.py", "Pipfile.lock", "modules", "dr", "surgepress")
MARKER = ".surgepress-synth"


def build_app(
    settings: Settings,
    workspaces: list[Workspace],
    *,
    target: Target,
    paths: Paths,
    outdir: Path | None = None,
    local_state: frozenset[str] = frozenset(),
):
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
            DrStack(
                app,
                ws,
                source=settings.get(ws.replica_of),
                target=target,
                paths=paths,
                organisation=settings.organisation,
                local_state=ws.name in local_state,
            )
        else:
            WorkspaceStack(
                app,
                ws,
                target=target,
                paths=paths,
                organisation=settings.organisation,
                local_state=ws.name in local_state,
            )
    return app


def synthesize(
    settings: Settings,
    workspaces: list[Workspace],
    *,
    target: Target,
    paths: Paths,
    local_state: frozenset[str] = frozenset(),
) -> dict[str, Path]:
    """Write `<build>/synth/<target>/stacks/<ws>/cdk.tf.json`; returns each stack's directory."""
    app = build_app(settings, workspaces, target=target, paths=paths, local_state=local_state)
    app.synth()
    return {ws.name: paths.stack_dir(target, ws.name) for ws in workspaces}


def _inputs_digest() -> str:
    """The code and every environment file: a change to any of them may change any stack."""
    digest = hashlib.sha256()
    environments = Path(os.environ.get(ENVIRONMENTS_ENV) or ENVIRONMENTS_DIR)
    files = [REPO_ROOT / name for name in SOURCES if (REPO_ROOT / name).is_file()]
    for name in SOURCES:
        if (REPO_ROOT / name).is_dir():
            files += sorted(p for p in (REPO_ROOT / name).rglob("*") if p.is_file() and p.suffix in (".py", ".php"))
    files += sorted(environments.glob("*.yaml"))
    for path in files:
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _fingerprint(digest: str, ws: Workspace, target: Target, paths: Paths, local_state: frozenset[str]) -> str:
    backend = str(paths.local_state_file(ws.name)) if ws.name in local_state else "s3"
    return hashlib.sha256(f"{digest}|{ws.name}|{target.value}|{backend}".encode()).hexdigest()


def stale(
    workspaces: list[Workspace], *, target: Target, paths: Paths, local_state: frozenset[str] = frozenset()
) -> tuple[list[Workspace], dict[str, str]]:
    """(the workspaces whose stack is missing or out of date, every workspace's fingerprint)."""
    digest = _inputs_digest()
    prints = {ws.name: _fingerprint(digest, ws, target, paths, local_state) for ws in workspaces}
    out_of_date = []
    for ws in workspaces:
        directory = paths.stack_dir(target, ws.name)
        marker = directory / MARKER
        if not (directory / "cdk.tf.json").is_file() or not marker.is_file() or marker.read_text() != prints[ws.name]:
            out_of_date.append(ws)
    return out_of_date, prints


def mark(directories: dict[str, Path], prints: dict[str, str]) -> None:
    for name, directory in directories.items():
        (directory / MARKER).write_text(prints[name])

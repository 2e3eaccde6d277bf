"""Synthesis of workspace stacks into Terraform JSON, all in one process.

Importing the provider bindings costs most of a synth (about 7 s: the package imports its
~2,100 resource modules so that jsii knows their types), so every requested workspace is
built in one `App` and paid for once. A stack whose inputs (the code that builds it, every
environment file, target, backend) are those of its last synth is not built again: `stale`
names the ones that are out of date.

The CLI synthesizes in a child process of its own (`Synthesizer`), forked when a command
finds something out of date: the import then runs while the command does its preflight, one
import serves every synth of the command (bootstrap synthesizes twice), and the jsii
runtime's stop at exit (about 3.5 s) is never waited for. The child writes nothing until it
is asked to, after the preflight. `PendingSynth` is one command's synth as the CLI sees it:
prepared, started, then waited for.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from surgepress import image
from surgepress.config import ENVIRONMENTS_DIR, ENVIRONMENTS_ENV, Settings, Workspace
from surgepress.errors import UserError
from surgepress.targets import REPO_ROOT, Paths, Target

SYNTH_TIMEOUT_S = 600.0  # a synth takes seconds; a child silent this long is stuck
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
    digest.update(image.source_digest().encode())  # app/: the image tag a stack runs is derived from it
    return digest.hexdigest()


def _fingerprint(digest: str, ws: Workspace, target: Target, paths: Paths, local_state: frozenset[str]) -> str:
    backend = str(paths.local_state_file(ws.name)) if ws.name in local_state else "s3"
    # The workspace's settings as this command holds them: a command may change them in memory
    # (`deploy --image-tag`, `destroy --release-protection`), which no file's digest shows.
    return hashlib.sha256(f"{digest}|{target.value}|{backend}|{ws!r}".encode()).hexdigest()


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


class Synthesizer:
    """A child process that synthesizes what it is asked, one request at a time.

    Forked where the platform can fork (the child starts with the parent's settings and
    code, including what a test has patched); elsewhere the work is done in this process
    when the answer is asked for. A construct's refusal (ValueError) comes back as one;
    anything else that breaks the child comes back as a RuntimeError with its traceback."""

    def __init__(self, settings: Settings, *, target: Target, paths: Paths) -> None:
        self.settings, self.target, self.paths = settings, target, paths
        self._request: tuple[list[str], frozenset[str]] | None = None
        self._lock = threading.Lock()
        self._conn: Connection | None = None
        if "fork" not in multiprocessing.get_all_start_methods():
            return
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=self._serve, args=(child,), name="surgepress-synth", daemon=True)
        self._process.start()
        child.close()
        atexit.register(self.close)

    def request(self, workspaces: list[Workspace], *, local_state: frozenset[str] = frozenset()) -> None:
        self._request = ([ws.name for ws in workspaces], local_state)
        if self._conn is not None:
            with contextlib.suppress(OSError):  # the child has gone: answer() reads why, or says it ended
                self._conn.send(self._request)

    def answer(self) -> float:
        """Wait for the stacks of the last request to be written (not for the child to exit);
        returns the seconds the synth itself took."""
        assert self._request is not None, "answer() follows request()"
        with self._lock:
            names, local_state = self._request
            if self._conn is None:
                started = time.monotonic()
                self._synthesize(names, local_state)
                return time.monotonic() - started
            kind, text = self._receive()
        if kind == "done":
            return float(text)
        if kind == "refused":
            raise ValueError(text)
        raise RuntimeError(f"synth: the synth process failed:\n{text}")

    def _receive(self) -> tuple[str, str]:
        assert self._conn is not None
        deadline = time.monotonic() + SYNTH_TIMEOUT_S
        while not self._conn.poll(1.0):
            if not self._process.is_alive() or time.monotonic() > deadline:
                break
        with contextlib.suppress(EOFError, OSError):
            if self._conn.poll():
                return self._conn.recv()
        self._process.join(1)
        state = "did not answer in time" if self._process.is_alive() else f"ended (exit code {self._process.exitcode})"
        self._process.kill()
        raise RuntimeError(f"synth: the synth process {state} without writing the stacks")

    def close(self) -> None:
        """Let the child go; it leaves at once, without waiting for the jsii runtime to stop."""
        atexit.unregister(self.close)
        if self._conn is not None:
            with contextlib.suppress(OSError):  # the child may have gone already
                self._conn.send(None)
            self._conn.close()
            self._conn = None

    def _synthesize(self, names: list[str], local_state: frozenset[str]) -> None:
        workspaces = [self.settings.get(name) for name in names]
        synthesize(self.settings, workspaces, target=self.target, paths=self.paths, local_state=local_state)

    def _serve(self, conn: Connection) -> None:
        """The child: import the bindings at once, then answer requests until told to go (or
        until the parent has gone: the parent's end is closed here, so its death is an EOF)."""
        if self._conn is not None:
            self._conn.close()
        try:
            _preload()
            while (request := _receive(conn)) is not None:
                try:
                    started = time.monotonic()
                    self._synthesize(*request)
                    conn.send(("done", f"{time.monotonic() - started:.1f}"))
                except ValueError as exc:
                    conn.send(("refused", str(exc)))
        except BaseException:  # noqa: BLE001 - the parent says what broke; the child must not linger
            with contextlib.suppress(OSError):
                conn.send(("crashed", traceback.format_exc()))
        finally:
            conn.close()
            os._exit(0)  # the jsii runtime ends on its own when its stdin closes: not waited for


def _preload() -> None:
    """The provider bindings: the cost the child pays while the parent does its preflight."""
    import dr.stack  # noqa: F401
    import surgepress.stacks  # noqa: F401


def _receive(conn: Connection) -> tuple[list[str], frozenset[str]] | None:
    try:
        return conn.recv()
    except EOFError:  # the parent has gone
        return None


class PendingSynth:
    """One command's synth of the stacks that are out of date, as the CLI runs it: prepared
    (the stale check, and the child's import begun: nothing is written), `start`ed (the child
    writes), then `wait`ed for."""

    def __init__(
        self,
        synthesizer: Callable[[], Synthesizer],
        workspaces: list[Workspace],
        *,
        target: Target,
        paths: Paths,
        local_state: frozenset[str] = frozenset(),
        say: Callable[[str], None],
    ) -> None:
        self.todo, self._prints = stale(workspaces, target=target, paths=paths, local_state=local_state)
        self._names = {ws.name for ws in self.todo}
        self._target, self._paths, self._local_state, self._say = target, paths, local_state, say
        self._synthesizer = synthesizer() if self.todo else None
        self._done = False
        current = [ws.name for ws in workspaces if ws.name not in self._names]
        if current:
            say(f"synth: {', '.join(current)} up to date")

    def start(self) -> None:
        if self._synthesizer is None:
            return
        self._say(f"synth: {', '.join(ws.name for ws in self.todo)} ({self._target.value}) ...")
        self._synthesizer.request(self.todo, local_state=self._local_state)

    def wait(self, unless: str = "nothing was deployed") -> None:
        """Until every stack is written; a construct's refusal is one line, ending in what it stopped."""
        if self._synthesizer is None or self._done:
            return
        try:
            seconds = self._synthesizer.answer()
        except ValueError as exc:  # a construct's own check (the loader catches these first; this is the net)
            raise UserError(f"synth: {' '.join(str(exc).split())}; {unless}") from None
        mark({name: self._paths.stack_dir(self._target, name) for name in self._names}, self._prints)
        self._done = True
        self._say(f"synth: done in {seconds:.1f}s -> {self._paths.synth_dir(self._target)}")

"""Background processes the CLI starts and finds again later: the emulator and the data plane;
and the Terraform runs a state lock may belong to (psutil).

A process is started in its own session (so stopping it takes its children too), and is
recognised later by its pid *and* a marker in its command line, so a recycled pid is never
mistaken for ours.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

POLL_INTERVAL_S = 0.2
SHUTDOWN_TIMEOUT_S = 10.0


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def listening(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def is_running(pid: int | None, marker: str) -> bool:
    """Process `pid` is alive and `marker` is in its command line (any command line without /proc)."""
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True  # no /proc (macOS): the pid is alive; trust it
    if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[-1].startswith("Z"):
        return False  # a zombie waiting for its parent is not running
    return marker in cmdline


def spawn(argv: Sequence[str], *, log: Path, cwd: Path, env: Mapping[str, str]) -> subprocess.Popen:
    """Start `argv` detached from our terminal and session, output appended to `log`."""
    with open(log, "ab") as out:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop(pid: int | None, marker: str, timeout: float = SHUTDOWN_TIMEOUT_S) -> bool:
    """SIGTERM the process group of `pid`, then SIGKILL it after `timeout`; False if it was not ours."""
    if pid is None or not is_running(pid, marker):
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except OSError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and is_running(pid, marker):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        time.sleep(POLL_INTERVAL_S)
    if is_running(pid, marker):
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)
    return True


def terraform_in(directory_suffix: str) -> list[psutil.Process]:
    """Live `terraform` processes on this machine whose working directory ends with
    `directory_suffix` (e.g. `stacks/staging`, in any checkout or build directory)."""
    found = []
    for proc in psutil.process_iter(["name", "cwd"]):
        name, cwd = proc.info.get("name") or "", proc.info.get("cwd") or ""
        if name == "terraform" and cwd.rstrip("/").endswith(directory_suffix):
            found.append(proc)
    return found

"""Drives Terraform for one workspace through python-terraform.

python-terraform builds the command lines and runs them; this module adds what it lacks
for Terraform 1.x: live streaming of output while keeping a tail for error messages, a
project-owned CLI config (provider mirror, plugin cache), `-detailed-exitcode` plan
results, `destroy` without the removed `-force` flag, and JSON outputs and state listing.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import selectors
import shutil
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from python_terraform import IsFlagged, IsNotFlagged, Terraform

from surgepress.errors import UserError

PROVIDER_SOURCE = "registry.terraform.io/hashicorp/aws"
MIRROR_ENV = "SURGEPRESS_PROVIDER_MIRROR"
# Where Terraform itself looks for implied local mirrors, plus where this machine keeps one.
MIRROR_CANDIDATES = (
    "/opt/tf-plugins",
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
)
ERROR_TAIL_LINES = 30

PLAN_NO_CHANGES, PLAN_ERROR, PLAN_CHANGES = 0, 1, 2
# One `terraform init` at a time in this process: inits of several workspaces share the plugin
# cache, which Terraform does not guard against concurrent writers (hashicorp/terraform#31964).
PLUGIN_CACHE_LOCK = threading.Lock()
# How long a command waits for another run's state lock before giving up.
LOCK_TIMEOUT_ENV = "SURGEPRESS_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = "30s"
LOCK_ERROR = "Error acquiring the state lock"
# How many resource operations Terraform runs at once: Terraform's own 10 against AWS (API
# rate limits), 30 against the emulator (no limits; its waits overlap, ~10% off a deploy).
PARALLELISM_ENV = "SURGEPRESS_PARALLELISM"
DEFAULT_PARALLELISM = 10
LOCAL_PARALLELISM = 30


ANSI = re.compile(r"\x1b\[[0-9;]*m")


class TerraformError(Exception):
    """A Terraform command failed; carries its exit code and the last lines it printed."""

    def __init__(self, workspace: str, command: str, code: int, tail: list[str]):
        self.code = code
        self.tail = tail
        # The first "│ Error: …" box of the lines kept (the last ERROR_TAIL_LINES), so a summary
        # names the cause; colour codes (a terminal's) are not part of it.
        plain = [ANSI.sub("", line).lstrip("│ ") for line in tail]
        cause = next((line.strip() for line in plain if line.startswith("Error: ")), "")
        super().__init__(
            f"terraform {command} for {workspace} failed with exit code {code}" + (f" ({cause})" if cause else "")
        )


class StateLockedError(UserError):
    """Another run holds the workspace's state lock: nothing was changed."""

    def __init__(self, workspace: str, tail: list[str]):
        info = dict(re.findall(r"^\s*(ID|Operation|Who|Created):\s*(.*?)\s*$", "\n".join(tail), re.MULTILINE))
        self.lock_id = info.get("ID")
        super().__init__(
            f"{workspace}: state is locked by another run ({info.get('Operation', 'unknown operation')} by "
            f"{info.get('Who', 'unknown')} since {info.get('Created', 'unknown')}, lock ID {info.get('ID', '?')}); "
            f"nothing was changed. Wait for it, or if it died: python main.py unlock {workspace} "
            f"{info.get('ID', '<lock ID>')}"
        )


def lock_timeout() -> str:
    return os.environ.get(LOCK_TIMEOUT_ENV) or DEFAULT_LOCK_TIMEOUT


def parallelism(default: int = DEFAULT_PARALLELISM) -> int:
    value = os.environ.get(PARALLELISM_ENV) or str(default)
    if not re.fullmatch(r"[0-9]+", value) or int(value) < 1:
        raise UserError(f"{PARALLELISM_ENV}: expected a whole number of 1 or more, got {value!r}")
    return int(value)


def find_terraform() -> str:
    binary = shutil.which("terraform")
    if binary is None:
        raise TerraformError("(any)", "lookup", 127, ["terraform is not on PATH; install Terraform >= 1.10"])
    return binary


def find_provider_mirror() -> Path | None:
    """The filesystem mirror holding hashicorp/aws, from $SURGEPRESS_PROVIDER_MIRROR or a known place."""
    configured = os.environ.get(MIRROR_ENV)
    candidates = [configured] if configured else list(MIRROR_CANDIDATES)
    for candidate in candidates:
        root = Path(candidate).expanduser()
        if glob.glob(str(root / PROVIDER_SOURCE / "*" / "*")) or glob.glob(str(root / PROVIDER_SOURCE / "*.zip")):
            return root
    return None


def write_cli_config(terraform_dir: Path) -> Path:
    """Write the CLI config Terraform gets through TF_CLI_CONFIG_FILE (never the machine's)."""
    terraform_dir.mkdir(parents=True, exist_ok=True)
    cache = terraform_dir / "plugin-cache"
    cache.mkdir(exist_ok=True)
    lines = [f'plugin_cache_dir = "{cache}"', ""]
    mirror = find_provider_mirror()
    if mirror is not None:
        lines += [
            "provider_installation {",
            "  filesystem_mirror {",
            f'    path    = "{mirror}"',
            f'    include = ["{PROVIDER_SOURCE}"]',
            "  }",
            "  direct {",
            f'    exclude = ["{PROVIDER_SOURCE}"]',
            "  }",
            "}",
        ]
    path = terraform_dir / "terraformrc"
    text = "\n".join(lines) + "\n"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path


def seed_lock_file(directory: Path) -> bool:
    """Write a stack's `.terraform.lock.hcl` from the local mirror if it has none.

    cdktf-cli runs `terraform providers lock` after a first init, which asks the registry
    whatever the CLI config says; with a lock file already present it skips that step.
    Without a mirror there is nothing to do: the registry answers as usual.
    """
    mirror = find_provider_mirror()
    if mirror is None or (directory / ".terraform.lock.hcl").exists():
        return False
    platforms = sorted({p.name for p in mirror.glob(f"{PROVIDER_SOURCE}/*/*") if p.is_dir()})
    argv = [find_terraform(), "providers", "lock", f"-fs-mirror={mirror}", *(f"-platform={p}" for p in platforms)]
    proc = subprocess.run(argv, cwd=directory, capture_output=True, text=True)
    if proc.returncode != 0:
        raise TerraformError(
            directory.name, "providers lock", proc.returncode, proc.stderr.splitlines()[-ERROR_TAIL_LINES:]
        )
    return True


def _process_env(overrides: Mapping[str, str]) -> dict[str, str]:
    """os.environ with `overrides` applied; an empty override removes the variable."""
    env = {**os.environ, **overrides}
    return {key: value for key, value in env.items() if value != ""}


@dataclass
class WorkspaceRunner:
    """Terraform for one synthesized workspace directory."""

    workspace: str
    directory: Path
    env: Mapping[str, str]
    out: TextIO = sys.stdout
    parallelism: int = DEFAULT_PARALLELISM
    """Terraform's -parallelism unless SURGEPRESS_PARALLELISM says otherwise."""

    def __post_init__(self) -> None:
        self._tf = Terraform(working_dir=str(self.directory), terraform_bin_path=find_terraform())

    @property
    def _color(self):
        isatty = getattr(self.out, "isatty", lambda: False)
        return IsNotFlagged if isatty() else IsFlagged

    def _stream(self, command: str, *args: str, **options) -> tuple[int, list[str]]:
        """Run a Terraform command, echoing each line as it comes and keeping a tail.

        python-terraform's own `synchronous=False` leaks into the command line as
        `-synchronous`, so its command builder is used with our own process handling.
        """
        tail: deque[str] = deque(maxlen=ERROR_TAIL_LINES)
        argv = self._tf.generate_cmd_string(command, *args, **options)
        env = _process_env({**self.env, "TF_IN_AUTOMATION": "1"})
        proc = subprocess.Popen(
            argv, cwd=self.directory, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        # Terraform writes diagnostics to stderr; fold it into the same live stream.
        for line in _merged_lines(proc):
            print(line, file=self.out, flush=True)
            tail.append(line)
        return proc.wait(), list(tail)

    def _capture(self, command: str, *args: str, **options) -> tuple[int, str, str]:
        # The environment goes to the process, never into os.environ: runs of several
        # workspaces go on at once in threads (surgepress.graph).
        argv = self._tf.generate_cmd_string(command, *args, **options)
        proc = subprocess.run(
            argv,
            cwd=self.directory,
            env=_process_env({**self.env, "TF_IN_AUTOMATION": "1"}),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
        return proc.returncode, proc.stdout, proc.stderr

    def _check(self, command: str, code: int, tail: list[str], ok: tuple[int, ...] = (0,)) -> int:
        if code not in ok:
            if any(LOCK_ERROR in line for line in tail):
                raise StateLockedError(self.workspace, tail)
            raise TerraformError(self.workspace, command, code, tail)
        return code

    # --- commands -------------------------------------------------------------------------

    def init(self) -> bool:
        """`terraform init`, skipped when the terraform block is unchanged since the last one."""
        fingerprint = self._terraform_block_fingerprint()
        marker = self.directory / ".terraform" / "surgepress-init"
        if (
            marker.is_file()
            and marker.read_text() == fingerprint
            and (self.directory / ".terraform.lock.hcl").is_file()
        ):
            return False
        with PLUGIN_CACHE_LOCK:
            code, tail = self._stream("init", input=False, no_color=self._color, reconfigure=IsFlagged)
        self._check("init", code, tail)
        marker.write_text(fingerprint)
        return True

    def migrate_state(self) -> None:
        """`terraform init -migrate-state`: copy the state to the backend the config now names."""
        with PLUGIN_CACHE_LOCK:
            code, tail = self._stream(
                "init", input=False, no_color=self._color, migrate_state=IsFlagged, force_copy=IsFlagged
            )
        self._check("init -migrate-state", code, tail)
        (self.directory / ".terraform" / "surgepress-init").write_text(self._terraform_block_fingerprint())

    def plan(self) -> int:
        """0: no changes, 2: changes, 1 raises. Uses -detailed-exitcode."""
        code, tail = self._stream(
            "plan",
            input=False,
            no_color=self._color,
            detailed_exitcode=IsFlagged,
            lock_timeout=lock_timeout(),
            parallelism=parallelism(self.parallelism),
        )
        return self._check("plan", code, tail, ok=(PLAN_NO_CHANGES, PLAN_CHANGES))

    def apply(self, *, refresh: bool = True) -> None:
        """`refresh=False` (-refresh=false) trusts the state instead of reading every resource first."""
        self._change("apply", refresh)

    def destroy(self, *, refresh: bool = True) -> None:
        # python-terraform's destroy() adds -force, which Terraform 1.x no longer accepts.
        self._change("destroy", refresh)

    def force_unlock(self, lock_id: str) -> None:
        """`terraform force-unlock -force <id>` with the project's CLI config and environment."""
        code, tail = self._stream("force-unlock", lock_id, force=IsFlagged, no_color=self._color)
        self._check("force-unlock", code, tail)

    def _change(self, command: str, refresh: bool) -> None:
        code, tail = self._stream(
            command,
            input=False,
            no_color=self._color,
            auto_approve=IsFlagged,
            lock_timeout=lock_timeout(),
            parallelism=parallelism(self.parallelism),
            refresh=None if refresh else False,
        )
        self._check(command, code, tail)

    def outputs(self) -> dict[str, dict]:
        """`terraform output -json`: {name: {"value", "type", "sensitive"}}; {} without state."""
        code, out, err = self._capture("output", json=IsFlagged, no_color=IsFlagged)
        if code != 0:
            raise TerraformError(self.workspace, "output", code, err.splitlines()[-ERROR_TAIL_LINES:])
        return json.loads(out or "{}")

    def state(self) -> DeployedState:
        """One `terraform state pull` (no provider started): the managed resources' addresses
        and the outputs as `terraform output -json` has them. What a deploy reads after its apply."""
        code, out, err = self._capture("state pull")
        if code != 0:
            raise TerraformError(self.workspace, "state pull", code, err.splitlines()[-ERROR_TAIL_LINES:])
        document = json.loads(out) if out.strip() else {}
        resources = [
            address
            for resource in document.get("resources") or []
            if resource.get("mode") == "managed"
            for address in _addresses(resource)
        ]
        outputs = {
            name: {"sensitive": bool(o.get("sensitive", False)), "type": o.get("type"), "value": o.get("value")}
            for name, o in (document.get("outputs") or {}).items()
        }
        return DeployedState(resources, outputs)

    def resources(self) -> list[str]:
        """Addresses of managed resources in state (data sources excluded)."""
        code, out, err = self._capture("state list", no_color=IsFlagged)
        if code != 0:
            if "No state file was found" in err:
                return []
            raise TerraformError(self.workspace, "state list", code, err.splitlines()[-ERROR_TAIL_LINES:])
        return [line for line in out.splitlines() if line and not _is_data_source(line)]

    def _terraform_block_fingerprint(self) -> str:
        document = json.loads((self.directory / "cdk.tf.json").read_text())
        block = json.dumps(document.get("terraform", {}), sort_keys=True)
        env = json.dumps({k: self.env.get(k) for k in ("TF_CLI_CONFIG_FILE",)}, sort_keys=True)
        return hashlib.sha256((block + env).encode()).hexdigest()


@dataclass(frozen=True)
class DeployedState:
    resources: list[str]
    """Addresses of the managed resources in state (as `terraform state list` gives them)."""
    outputs: dict[str, dict]
    """{name: {"sensitive", "type", "value"}} (as `terraform output -json` gives them)."""


def _addresses(resource: dict) -> list[str]:
    """A state v4 resource's instance addresses: `[module.m.]type.name[key]`."""
    base = ".".join(filter(None, (resource.get("module"), resource.get("type"), resource.get("name"))))
    keys = [i.get("index_key") for i in resource.get("instances") or []]
    return [base if key is None else f"{base}[{json.dumps(key)}]" for key in keys]


def _is_data_source(address: str) -> bool:
    """`data.x.y` or `module.m.data.x.y`."""
    return address.startswith("data.") or ".data." in address


def _merged_lines(proc) -> Iterator[str]:
    """Lines from a process's stdout and stderr, in arrival order, as they arrive."""
    selector = selectors.DefaultSelector()
    buffers = {}
    for stream in (proc.stdout, proc.stderr):
        os.set_blocking(stream.fileno(), False)
        selector.register(stream, selectors.EVENT_READ)
        buffers[stream] = b""
    open_streams = 2
    while open_streams:
        for key, _ in selector.select():
            stream = key.fileobj
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not chunk:
                selector.unregister(stream)
                open_streams -= 1
                if buffers[stream]:
                    yield buffers[stream].decode(errors="replace")
                continue
            buffers[stream] += chunk
            *lines, buffers[stream] = buffers[stream].split(b"\n")
            for line in lines:
                yield line.decode(errors="replace")
    selector.close()

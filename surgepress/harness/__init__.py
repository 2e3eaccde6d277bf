"""The integration harness: staged runs that deploy, verify, drill and tear down.

Stages run in this order; each can be skipped with SKIP_<STAGE>=1 (say SKIP_TEARDOWN=1 to
keep a deployment, then SKIP_DEPLOY=1 to verify it again). A run has an id and a unique name
suffix (its resources are named `surgepress-<suffix>-<workspace>-…`), a directory of its own
under `<build>/harness/runs/<run id>/` (its build directory, its copy of environments/ and
its state), and reports under `<build>/reports/<run id>/`. `<build>/harness/current` names
the run a later invocation picks up.

Waiting and retrying go through `wait_for` and `retry` only, with the named constants and
the documented list of retryable errors below: no bare sleeps.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import botocore.exceptions
import requests

STAGES = ("deploy", "verify", "drill", "teardown")
TARGET_ENV = "SURGEPRESS_HARNESS_TARGET"
WORKSPACES_ENV = "SURGEPRESS_HARNESS_WORKSPACES"
RUN_ID_ENV = "SURGEPRESS_HARNESS_RUN_ID"  # the CLI names the run (and its reports directory)

# Retries: how many attempts, how long between them, and what is worth retrying.
MAX_RETRIES = 5
SLEEP_BETWEEN_S = 2.0
# AWS error codes that mean "try again" (throttling, eventual consistency, brief outages).
RETRYABLE_AWS_ERRORS = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "InternalError",
        "InternalFailure",
        "RequestTimeout",
        "PriorRequestNotComplete",
    }
)
# HTTP answers of a site that mean "not ready yet" (the origin or edge still starting).
RETRYABLE_HTTP_STATUSES = frozenset({502, 503, 504})
# Exceptions worth retrying besides those AWS errors: connections refused, reset or timed out.
RETRYABLE_EXCEPTIONS = (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError)

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A wait ran out of time; says what it waited for and what it last saw."""


def skipped(stage: str) -> str | None:
    """The reason a stage is skipped (SKIP_<STAGE>=1), or None."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    value = os.environ.get(f"SKIP_{stage.upper()}", "")
    return f"SKIP_{stage.upper()}={value}" if value not in ("", "0", "false", "no") else None


def is_retryable(error: BaseException) -> bool:
    if isinstance(error, botocore.exceptions.ClientError):
        return error.response.get("Error", {}).get("Code") in RETRYABLE_AWS_ERRORS
    if isinstance(error, (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError)):
        return True
    return isinstance(error, RETRYABLE_EXCEPTIONS)


def retry(
    call: Callable[[], T],
    what: str,
    *,
    attempts: int = MAX_RETRIES,
    pause_s: float = SLEEP_BETWEEN_S,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """`call()`, again after a retryable error (see the lists above), up to `attempts` times."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as error:  # noqa: BLE001 - filtered by is_retryable
            if attempt == attempts or not is_retryable(error):
                raise
            sleep(pause_s)
    raise AssertionError("unreachable")


def wait_for(
    what: str,
    probe: Callable[[], T],
    *,
    until: Callable[[T], bool] = bool,
    timeout_s: float,
    pause_s: float = SLEEP_BETWEEN_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `probe` until `until(answer)` holds; WaitTimeout (naming `what` and the last answer) after `timeout_s`."""
    deadline = clock() + timeout_s
    last: object = None
    while True:
        try:
            last = probe()
        except Exception as error:  # noqa: BLE001 - a retryable error is one more "not yet"
            if not is_retryable(error):
                raise
            last = error
        else:
            if until(last):
                return last
        if clock() >= deadline:
            raise WaitTimeout(f"waited {timeout_s:.0f}s for {what}; last saw {last!r}")
        sleep(pause_s)


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


def name_suffix(run_id: str) -> str:
    """Six hex characters: short enough for the tightest AWS name (ALB and target group, 32)."""
    return run_id.rsplit("-", 1)[-1]


@dataclass
class RunState:
    """What a later invocation needs to pick a run up."""

    run_id: str
    target: str
    workspaces: list[str]
    project: str
    stages: dict[str, dict] = field(default_factory=dict)  # stage -> {"status", "seconds"}
    outputs: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> RunState | None:
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")


@dataclass(frozen=True)
class HarnessPaths:
    build: Path

    @property
    def current(self) -> Path:
        return self.build / "harness" / "current"

    def run_dir(self, run_id: str) -> Path:
        return self.build / "harness" / "runs" / run_id

    def state_file(self, run_id: str) -> Path:
        return self.run_dir(run_id) / "state.json"

    def reports(self, run_id: str) -> Path:
        return self.build / "reports" / run_id

    def current_run(self) -> str | None:
        try:
            run_id = self.current.read_text().strip()
        except OSError:
            return None
        return run_id if self.state_file(run_id).is_file() else None

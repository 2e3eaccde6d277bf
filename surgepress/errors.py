"""Errors that are the user's to fix: the CLI prints them as one line and exits 2."""

from __future__ import annotations

USAGE_EXIT_CODE = 2


class UserError(Exception):
    """A mistake in input (config file, CLI argument) that the user can fix.

    Rendered as a single line; never with a traceback.
    """


class ConfigError(UserError):
    """A bad value in an environment file: names the file, the field and what was received."""

    def __init__(self, file: str, field: str, problem: str, received: object = None, *, show_received: bool = True):
        self.file = file
        self.field = field
        self.problem = problem
        self.received = received
        suffix = f", got {received!r}" if show_received else ""
        super().__init__(f"{file}: {field}: {problem}{suffix}")


class GateFailed(Exception):
    """A check of what is being released failed (the image's scan, a service's rollout): not
    the user's input, so exit 1, and one line saying what failed and why."""

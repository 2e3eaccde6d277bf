"""The role a module plays: the primary platform or its secondary (DR) copy."""

from __future__ import annotations

from enum import Enum


class PlatformRole(str, Enum):
    PRIMARY = "primary"
    SECONDARY = "secondary"

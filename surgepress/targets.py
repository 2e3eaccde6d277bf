"""Where a workspace deploys: real AWS or the embedded local AWS.

Both targets run the same synth -> init -> plan -> apply path and assume the same role in
the workspace's account; only the provider's endpoint, credentials, retry budget and the
state backend differ.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from surgepress.errors import UserError

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR_ENV = "SURGEPRESS_BUILD_DIR"
TARGET_ENV = "SURGEPRESS_TARGET"
# An emulator answers "not implemented" instantly; retrying it 25 times only hides that.
LOCAL_MAX_RETRIES = 2


class Target(str, Enum):
    LOCAL = "local"
    AWS = "aws"

    @classmethod
    def parse(cls, value: str | None) -> Target:
        value = value or os.environ.get(TARGET_ENV) or cls.LOCAL.value
        try:
            return cls(value)
        except ValueError:
            raise UserError(f"--target: expected local or aws, got {value!r}") from None


@dataclass(frozen=True)
class Paths:
    """Everything generated lives under one build directory (git-ignored)."""

    build: Path

    @classmethod
    def default(cls) -> Paths:
        return cls(Path(os.environ.get(BUILD_DIR_ENV) or REPO_ROOT / "build").resolve())

    def synth_dir(self, target: Target) -> Path:
        return self.build / "synth" / target.value

    def stack_dir(self, target: Target, workspace: str) -> Path:
        return self.synth_dir(target) / "stacks" / workspace

    @property
    def local_state_dir(self) -> Path:
        return self.build / "state" / "local"

    def local_state_file(self, workspace: str) -> Path:
        return self.local_state_dir / f"{workspace}.tfstate"

    @property
    def emulator_dir(self) -> Path:
        return self.build / "emulator"

    @property
    def terraform_dir(self) -> Path:
        return self.build / "terraform"

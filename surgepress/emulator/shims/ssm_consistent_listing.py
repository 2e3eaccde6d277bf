"""SSM: listing parameters while others are written.

moto iterates its parameter dict unlocked: a `DescribeParameters` (the provider reads each
parameter's metadata with it) racing the parallel `PutParameter`s of a fresh environment
fails with "dictionary changed size during iteration", a 500 the provider gives up on. AWS
answers consistently under concurrency. Writes and listings of the SSM backend take one lock
here; nothing else in the emulator is serialized.
"""

from __future__ import annotations

import threading
from typing import Any

_LOCK = threading.RLock()
GUARDED = ("put_parameter", "delete_parameter", "delete_parameters", "describe_parameters",
           "get_parameters_by_path", "label_parameter_version")


def install() -> None:
    from moto.ssm.models import SimpleSystemManagerBackend

    for name in GUARDED:
        original = getattr(SimpleSystemManagerBackend, name)

        def guarded(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _LOCK:
                return _original(self, *args, **kwargs)

        setattr(SimpleSystemManagerBackend, name, guarded)

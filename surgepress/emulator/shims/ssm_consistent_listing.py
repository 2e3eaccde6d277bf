"""SSM: listing parameters while others are written.

moto iterates its parameter dict unlocked: a `DescribeParameters` (the provider reads each
parameter's metadata with it) racing the parallel `PutParameter`s of a fresh environment
fails with "dictionary changed size during iteration", a 500 the provider gives up on. AWS
answers consistently under concurrency. Writes and listings of the SSM backend take one lock
here; nothing else in the emulator is serialized.

Once the public `/aws/service/…` parameters have been read (the ECS-optimized AMI), moto also
lists them among the account's own in `DescribeParameters`; AWS lists only the account's.
"""

from __future__ import annotations

import threading
from typing import Any

_LOCK = threading.RLock()
PUBLIC_PREFIX = "/aws/service/"
GUARDED = (
    "put_parameter",
    "delete_parameter",
    "delete_parameters",
    "describe_parameters",
    "get_parameters_by_path",
    "label_parameter_version",
)


def install() -> None:
    from moto.ssm.models import SimpleSystemManagerBackend

    for name in GUARDED:
        original = getattr(SimpleSystemManagerBackend, name)

        def guarded(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with _LOCK:
                return _original(self, *args, **kwargs)

        setattr(SimpleSystemManagerBackend, name, guarded)

    locked_describe = SimpleSystemManagerBackend.describe_parameters

    def describe_parameters(self: Any, *args: Any, **kwargs: Any) -> Any:
        return [p for p in locked_describe(self, *args, **kwargs) if not p.name.startswith(PUBLIC_PREFIX)]

    SimpleSystemManagerBackend.describe_parameters = describe_parameters

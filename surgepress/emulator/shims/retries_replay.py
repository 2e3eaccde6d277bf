"""A retried request is answered, not executed again.

Under Terraform's parallel applies a client now and then loses the emulator's answer on the
loopback connection (werkzeug's development server; seen about once per full deploy) and
retries. The retry of a create then meets the object its first attempt made: "already
exists", and the apply fails although nothing is wrong. AWS SDKs mark every attempt of one
call with the same `amz-sdk-invocation-id` header; here the first complete answer to an
invocation is kept and replayed to its later attempts, so each call acts once, as on AWS.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

INVOCATION_HEADER = "HTTP_AMZ_SDK_INVOCATION_ID"
KEPT_ANSWERS = 20_000  # far more than the calls in flight during one deploy


class _Answers:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: OrderedDict[str, tuple[str, list, list[bytes]]] = OrderedDict()
        self._running: dict[str, threading.Event] = {}

    def claim(self, key: str) -> tuple[str, list, list[bytes]] | None:
        """The kept answer; or None when this attempt is the one to execute (wait for a running one)."""
        while True:
            with self._lock:
                if key in self._done:
                    return self._done[key]
                running = self._running.get(key)
                if running is None:
                    self._running[key] = threading.Event()
                    return None
            running.wait()

    def finish(self, key: str, answer: tuple[str, list, list[bytes]] | None) -> None:
        with self._lock:
            if answer is not None:
                self._done[key] = answer
                while len(self._done) > KEPT_ANSWERS:
                    self._done.popitem(last=False)
            self._running.pop(key).set()


def install() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    answers = _Answers()
    original = DomainDispatcherApplication.__call__

    def __call__(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        key = environ.get(INVOCATION_HEADER)
        if not key:
            return original(self, environ, start_response)
        kept = answers.claim(key)
        if kept is not None:
            status, headers, body = kept
            start_response(status, headers)
            return body
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list, exc_info: Any = None) -> Any:
            captured.update(status=status, headers=headers)
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        answer = None
        try:
            body = list(original(self, environ, capture))
            if int(captured["status"].split()[0]) < 500:  # a server error may be retried for real
                answer = (captured["status"], captured["headers"], body)
            return body
        finally:
            answers.finish(key, answer)

    DomainDispatcherApplication.__call__ = __call__

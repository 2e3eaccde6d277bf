"""S3: cross-region replication, which moto stores but never performs.

- A new object version in a bucket with an enabled replication rule (matching prefix) is
  copied, asynchronously as on AWS, into the rule's destination bucket: same key, same
  bytes, re-encrypted with the rule's replica KMS key. With delete-marker replication on,
  a delete without a version id places a delete marker in the destination too. Replicas
  are not replicated again.
- The copy happens SURGEPRESS_EMULATOR_REPLICATION_DELAY_S (default 0.5 s) after the write,
  so replication has a lag a drill can measure.
- Replication can be halted and resumed, standing in for a region that stops replicating:
  `POST /_surgepress/s3-replication` with `{"halted": true|false}`; `GET` answers
  `{"halted": ..., "pending": <copies waiting>, "replicated": <copies done>}`. While halted,
  writes queue up; on resume they are copied in order.
- GetBucketReplication answers with the rules as they were put (moto reports delete-marker
  replication as Disabled whatever was asked, and drops the source selection criteria).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from typing import Any

CONTROL_PATH = "/_surgepress/s3-replication"
DELAY_ENV = "SURGEPRESS_EMULATOR_REPLICATION_DELAY_S"
DEFAULT_DELAY_S = 0.5


class _Replicator:
    def __init__(self) -> None:
        self.halted = False
        self.replicated = 0
        self.queue: deque = deque()
        self.lock = threading.Condition()
        self.thread: threading.Thread | None = None
        self.local = threading.local()

    def submit(
        self, backend: Any, action: str, destination: str, key: str, value: bytes | None, kms_key_id: str | None
    ) -> None:
        delay = float(os.environ.get(DELAY_ENV, DEFAULT_DELAY_S))
        with self.lock:
            self.queue.append((time.monotonic() + delay, backend, action, destination, key, value, kms_key_id))
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="s3-replication", daemon=True)
                self.thread.start()
            self.lock.notify_all()

    def _run(self) -> None:
        while True:
            with self.lock:
                while not self.queue or self.halted:
                    self.lock.wait()
                due = self.queue[0][0]
                wait = due - time.monotonic()
                if wait > 0:
                    self.lock.wait(wait)
                    continue
                item = self.queue.popleft()
            self._apply(*item[1:])

    def _apply(
        self, backend: Any, action: str, destination: str, key: str, value: bytes | None, kms_key_id: str | None
    ) -> None:
        self.local.replicating = True
        try:
            if action == "put":
                backend.put_object(
                    destination, key, value, encryption="aws:kms" if kms_key_id else None, kms_key_id=kms_key_id
                )
            else:
                backend.delete_object(destination, key)
        except Exception:  # noqa: BLE001 - a destination deleted meanwhile: AWS reports FAILED, we drop it
            pass
        finally:
            self.local.replicating = False
        with self.lock:
            self.replicated += 1

    def set_halted(self, halted: bool) -> None:
        with self.lock:
            self.halted = halted
            self.lock.notify_all()

    def status(self) -> dict:
        with self.lock:
            return {"halted": self.halted, "pending": len(self.queue), "replicated": self.replicated}


REPLICATOR = _Replicator()


def _rules(bucket: Any, key: str) -> list[dict]:
    replication = getattr(bucket, "replication", None) or {}
    rules = []
    for rule in replication.get("Rule", []):
        if rule.get("Status") != "Enabled":
            continue
        prefix = (rule.get("Filter") or {}).get("Prefix") or rule.get("Prefix") or ""
        if key.startswith(prefix):
            rules.append(rule)
    return rules


def _destination(rule: dict) -> tuple[str, str | None]:
    destination = rule.get("Destination", {})
    bucket = destination.get("Bucket", "").split(":::")[-1]
    kms = (destination.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
    return bucket, kms


def install() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.s3.models import S3Backend

    original_put, original_delete = S3Backend.put_object, S3Backend.delete_object

    def put_object(self: Any, bucket_name: str, key_name: str, value: bytes, *args: Any, **kwargs: Any) -> Any:
        key = original_put(self, bucket_name, key_name, value, *args, **kwargs)
        if not getattr(REPLICATOR.local, "replicating", False):
            for rule in _rules(self.get_bucket(bucket_name), key_name):
                destination, kms = _destination(rule)
                REPLICATOR.submit(self, "put", destination, key_name, bytes(key.value), kms)
        return key

    def delete_object(
        self: Any, bucket_name: str, key_name: str, version_id: str | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        result = original_delete(self, bucket_name, key_name, version_id, *args, **kwargs)
        if version_id is None and not getattr(REPLICATOR.local, "replicating", False):
            for rule in _rules(self.get_bucket(bucket_name), key_name):
                if (rule.get("DeleteMarkerReplication") or {}).get("Status") == "Enabled":
                    destination, _ = _destination(rule)
                    REPLICATOR.submit(self, "delete", destination, key_name, None, None)
        return result

    S3Backend.put_object, S3Backend.delete_object = put_object, delete_object

    original_call = DomainDispatcherApplication.__call__

    def call(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != CONTROL_PATH:
            return original_call(self, environ, start_response)
        if environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            try:
                body = json.loads(environ["wsgi.input"].read(length) or b"{}")
                halted = body["halted"]
                if not isinstance(halted, bool):
                    raise ValueError
            except (ValueError, KeyError, TypeError):
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return [b'{"error": "expected {\\"halted\\": true|false}"}']
            REPLICATOR.set_halted(halted)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(REPLICATOR.status()).encode()]

    DomainDispatcherApplication.__call__ = call
    install_answers()


def install_answers() -> None:
    """GetBucketReplication answers with the rules as they were put, as S3 does: moto reports every
    rule's delete-marker replication as Disabled and drops its source selection criteria, so each
    plan wants to enable them again."""
    from moto.core.responses import ActionResult
    from moto.s3.exceptions import ReplicationConfigurationNotFoundError
    from moto.s3.responses import S3Response

    def get_bucket_replication(self: Any) -> Any:
        self.data["Action"] = "GetBucketReplication"
        replication = self.backend.get_bucket_replication(self.bucket_name)
        if not replication:
            raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
        rules = []
        for rule in replication["Rule"]:
            answer = {
                "ID": rule["ID"],
                "Priority": rule["Priority"],
                "Status": rule["Status"],
                "DeleteMarkerReplication": rule.get("DeleteMarkerReplication") or {"Status": "Disabled"},
                "Filter": rule.get("Filter") or {"Prefix": rule.get("Prefix", "")},
                "Destination": rule["Destination"],
            }
            for optional in ("SourceSelectionCriteria", "ExistingObjectReplication"):
                if rule.get(optional):
                    answer[optional] = rule[optional]
            rules.append(answer)
        return self.serialized(
            ActionResult({"ReplicationConfiguration": {"Role": replication["Role"], "Rules": rules}})
        )

    S3Response.get_bucket_replication = get_bucket_replication

"""S3: cross-region replication, which moto stores but never performs.

- A new object version is replicated by the enabled rules that select it, as S3 selects:
  the rule's filter (prefix, tags, or both under `And`), and for an object encrypted with
  SSE-KMS only a rule whose `SourceSelectionCriteria.SseKmsEncryptedObjects` is Enabled.
  It is copied, asynchronously as on AWS, into the rule's destination bucket: same key, same
  bytes, re-encrypted with the rule's replica KMS key. With delete-marker replication on,
  a delete without a version id places a delete marker in the destination too. Replicas
  are not replicated again.
- S3 replicates as the configuration's role: unless that role's policies allow
  s3:GetObjectVersionForReplication on the source object, s3:ReplicateObject (for a delete
  marker s3:ReplicateDelete) on the destination key, kms:Decrypt on an SSE-KMS source's key
  and kms:Encrypt on the replica key, nothing is copied and the source object's
  `x-amz-replication-status` is FAILED. Otherwise it is PENDING, then COMPLETED, and the
  replica's is REPLICA (on GetObject and HeadObject, as S3 answers).
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
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

CONTROL_PATH = "/_surgepress/s3-replication"
DELAY_ENV = "SURGEPRESS_EMULATOR_REPLICATION_DELAY_S"
DEFAULT_DELAY_S = 0.5


class _Replicator:
    """Replication jobs, each run once its delay is over, in order, unless halted."""

    def __init__(self) -> None:
        self.halted = False
        self.replicated = 0
        self.queue: deque[tuple[float, Callable[[], object]]] = deque()
        self.lock = threading.Condition()
        self.thread: threading.Thread | None = None
        self.local = threading.local()

    def submit(self, job: Callable[[], object]) -> None:
        delay = float(os.environ.get(DELAY_ENV, DEFAULT_DELAY_S))
        with self.lock:
            self.queue.append((time.monotonic() + delay, job))
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
                _, job = self.queue.popleft()
            try:
                job()
            except Exception:  # noqa: BLE001 - e.g. the source bucket went away meanwhile: that copy is lost, not the thread
                logging.getLogger(__name__).exception("s3 replication job failed")

    def copy(
        self,
        backend: Any,
        action: str,
        destination: str,
        name: str,
        value: bytes | None,
        kms_key_id: str | None,
        source: Any,
    ) -> None:
        """Write the replica (or the delete marker) and mark the source version as S3 does."""
        self.local.replicating = True
        try:
            if action == "put":
                replica = backend.put_object(
                    destination, name, value, encryption="aws:kms" if kms_key_id else None, kms_key_id=kms_key_id
                )
                replica.surgepress_replication_status = "REPLICA"
            else:
                backend.delete_object(destination, name)
            status = "COMPLETED"
        except Exception:  # noqa: BLE001 - a destination deleted meanwhile: S3 reports FAILED
            status = "FAILED"
        finally:
            self.local.replicating = False
        if source is not None and getattr(source, "surgepress_replication_status", None) != "FAILED":
            source.surgepress_replication_status = status  # S3: FAILED when any destination failed
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


def _tags(value: Any) -> dict[str, str]:
    tags = value if isinstance(value, list) else [value] if value else []
    return {t["Key"]: t["Value"] for t in tags if isinstance(t, dict)}


def selects(rule: dict, key: str, tags: dict[str, str], kms_encrypted: bool) -> bool:
    """Whether an enabled rule replicates this object version (S3's rule selection)."""
    if rule.get("Status") != "Enabled":
        return False
    criteria = (rule.get("SourceSelectionCriteria") or {}).get("SseKmsEncryptedObjects") or {}
    if kms_encrypted and criteria.get("Status") != "Enabled":
        return False  # S3 replicates SSE-KMS objects only where the rule opts in
    selection = rule.get("Filter") or {}
    both = selection.get("And") or {}
    prefix = both.get("Prefix", selection.get("Prefix", rule.get("Prefix", ""))) or ""
    wanted = {**_tags(selection.get("Tag")), **_tags(both.get("Tag"))}
    return key.startswith(prefix) and all(tags.get(k) == v for k, v in wanted.items())


def _key_arn(key_id: str, region: str, account_id: str) -> str:
    return key_id if key_id.startswith("arn:") else f"arn:aws:kms:{region}:{account_id}:key/{key_id}"


def permitted(backend: Any, role: str, source_bucket: str, name: str, key: Any, action: str, rule: dict) -> bool:
    """Whether the replication role may read this version and write it to the rule's destination."""
    from surgepress.emulator.shims._iam import denied

    destination, replica_key = _destination(rule)
    wanted = [
        ("s3:GetObjectVersionForReplication", f"arn:aws:s3:::{source_bucket}/{name}"),
        ("s3:ReplicateObject" if action == "put" else "s3:ReplicateDelete", f"arn:aws:s3:::{destination}/{name}"),
    ]
    if key is not None and getattr(key, "encryption", None) == "aws:kms" and key.kms_key_id:
        region = backend.get_bucket(source_bucket).region_name
        wanted.append(("kms:Decrypt", _key_arn(key.kms_key_id, region, backend.account_id)))
    if action == "put" and replica_key:
        wanted.append(("kms:Encrypt", replica_key))
    return not denied(backend.account_id, role, wanted)


def _rules(backend: Any, bucket_name: str, name: str, key: Any) -> list[dict]:
    """The rules that select an object version (`key`; None for a delete marker)."""
    bucket = backend.get_bucket(bucket_name)
    replication = getattr(bucket, "replication", None) or {}
    tags = {t["Key"]: t["Value"] for t in backend.get_object_tagging(key).get("Tags", [])} if key else {}
    kms_encrypted = getattr(key, "encryption", None) == "aws:kms"
    return [rule for rule in replication.get("Rule", []) if selects(rule, name, tags, kms_encrypted)]


def _destination(rule: dict) -> tuple[str, str | None]:
    destination = rule.get("Destination", {})
    bucket = destination.get("Bucket", "").split(":::")[-1]
    kms = (destination.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
    return bucket, kms


def install() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication
    from moto.s3.models import FakeKey, S3Backend

    original_put, original_delete = S3Backend.put_object, S3Backend.delete_object

    def replicate(self: Any, bucket_name: str, name: str, key: Any, action: str, value: bytes | None) -> bool:
        """Run by the replicator after its delay: the request that wrote the version is done by
        then (moto tags an object after writing it), so the rules see what S3's would. Whether
        any rule selected it."""
        role = (getattr(self.get_bucket(bucket_name), "replication", None) or {}).get("Role", "")
        rules = _rules(self, bucket_name, name, key)
        for rule in rules:
            if action == "delete" and (rule.get("DeleteMarkerReplication") or {}).get("Status") != "Enabled":
                continue
            if not permitted(self, role, bucket_name, name, key, action, rule):
                if key is not None:
                    key.surgepress_replication_status = "FAILED"
                continue
            destination, kms = _destination(rule)
            REPLICATOR.copy(self, action, destination, name, value, kms if action == "put" else None, key)
        return bool(rules)

    def replicated_bucket(self: Any, bucket_name: str) -> bool:
        return bool((getattr(self.get_bucket(bucket_name), "replication", None) or {}).get("Rule"))

    def put_object(self: Any, bucket_name: str, key_name: str, value: bytes, *args: Any, **kwargs: Any) -> Any:
        key = original_put(self, bucket_name, key_name, value, *args, **kwargs)
        if not getattr(REPLICATOR.local, "replicating", False) and replicated_bucket(self, bucket_name):
            key.surgepress_replication_status = "PENDING"  # until the rules are read: cleared if none selects it
            data = bytes(key.value)

            def job() -> None:
                if not replicate(self, bucket_name, key_name, key, "put", data):
                    key.surgepress_replication_status = None  # no rule selects it: S3 gives it no status

            REPLICATOR.submit(job)
        return key

    def delete_object(
        self: Any, bucket_name: str, key_name: str, version_id: str | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        result = original_delete(self, bucket_name, key_name, version_id, *args, **kwargs)
        replicating = getattr(REPLICATOR.local, "replicating", False)
        if version_id is None and not replicating and replicated_bucket(self, bucket_name):
            REPLICATOR.submit(lambda: replicate(self, bucket_name, key_name, None, "delete", None))
        return result

    S3Backend.put_object, S3Backend.delete_object = put_object, delete_object
    original_headers = FakeKey.response_dict.fget

    def response_dict(self: Any) -> dict[str, Any]:
        headers = original_headers(self)
        status = getattr(self, "surgepress_replication_status", None)
        if status:
            headers["x-amz-replication-status"] = status
        return headers

    FakeKey.response_dict = property(response_dict)

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

"""PutBucketLogging: judge the target bucket's policy the way IAM reads it.

moto checks that the log target's policy lets `logging.s3.amazonaws.com` write, but it
crashes on a statement whose Principal is the string "*" (e.g. a TLS-only deny, which
every surgepress bucket has), and it only accepts a Resource equal to one of three exact
ARNs, where AWS accepts any Resource (string or list, with wildcards) that covers the
log objects. This shim evaluates Principal, Action and Resource as IAM does.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase

LOGGING_SERVICE = "logging.s3.amazonaws.com"


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def grants_log_delivery(policy_json: str, partition: str, bucket: str, prefix: str | None) -> bool:
    """Does this bucket policy allow S3 log delivery to write objects under `prefix`?"""
    sample_object = f"arn:{partition}:s3:::{bucket}/{prefix or ''}log-object"
    for stmt in json.loads(policy_json).get("Statement", []):
        principal = stmt.get("Principal")
        services = _as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
        if stmt.get("Effect") != "Allow" or LOGGING_SERVICE not in services:
            continue
        if not any(fnmatchcase("s3:PutObject", action) for action in _as_list(stmt.get("Action", []))):
            continue
        if any(fnmatchcase(sample_object, resource) for resource in _as_list(stmt.get("Resource", []))):
            return True
    return False


def install() -> None:
    from moto.s3.models import FakeBucket

    def _log_permissions_enabled_policy(target_bucket, target_prefix):
        policy = target_bucket.policy
        if not policy:
            return False
        return grants_log_delivery(policy.decode(), target_bucket.partition, target_bucket.name, target_prefix)

    FakeBucket._log_permissions_enabled_policy = staticmethod(_log_permissions_enabled_policy)

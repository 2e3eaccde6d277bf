"""State: the S3 bucket every workspace's Terraform state lives in.

What it creates
    A bucket (its name from `state.bucket`) with its own rotating KMS key, versioning, all
    public-access blocks, no ACLs, a TLS-only policy, an alias the S3 backend encrypts
    with (`alias/<bucket>`), and a lifecycle that keeps non-current versions (earlier states) for
    `noncurrent_version_expiration_days`. Locking is S3-native (`use_lockfile`: a
    `<key>.tflock` object written only if absent), so there is no DynamoDB table.

Assumptions
    `python main.py bootstrap` deploys the workspace holding this bucket with local state
    first and then migrates that state into the bucket; every workspace, this one included,
    then keeps its state under `<project>/<workspace>/terraform.tfstate`.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from constructs import Construct

from modules.buckets import bucket_policy, retention_lifecycle, secure_bucket
from modules.kms import customer_key
from modules.outputs import export
from modules.policy import skip_check


def state_key_alias(bucket_name: str) -> str:
    """The state key's alias: the S3 backend names it (`kms_key_id`) before the key exists."""
    return f"alias/{bucket_name}"


@dataclass(frozen=True)
class StateBucketProps:
    bucket_name: str
    """The state bucket's name (`state.bucket` in environments/)."""
    account_id: str
    """Account that holds the bucket and administers its key."""
    noncurrent_version_expiration_days: int = 365
    """How long earlier states stay recoverable."""


class StateBucket(Construct):
    def __init__(self, scope: Construct, id: str, *, props: StateBucketProps) -> None:
        super().__init__(scope, id)
        tags = {"Name": props.bucket_name, "Purpose": "terraform-state"}
        self.key = customer_key(
            self, "key", description=f"{props.bucket_name} Terraform state", account_id=props.account_id, tags=tags
        )
        self.bucket = secure_bucket(self, "bucket", name=props.bucket_name, kms_key_arn=self.key.arn, tags=tags)
        skip_check(
            self.bucket,
            {
                "CKV_AWS_18": "server access logs would need a second bucket here; no trail records this "
                "account's S3 data events yet either (the security account's trail covers its own account only)",
                "CKV_AWS_144": "versioning keeps every state's history in this region; a replica would need a "
                "second bucket and key in the DR region, and deploys stop with the region anyway",
                "CKV2_AWS_62": "nothing consumes events from the state bucket",
            },
        )
        KmsAlias(self, "key-alias", name=state_key_alias(props.bucket_name), target_key_id=self.key.key_id)
        bucket_policy(self, "policy", self.bucket, [])
        retention_lifecycle(self, "lifecycle", self.bucket, noncurrent_days=props.noncurrent_version_expiration_days)
        export(self, {"state_bucket_name": self.bucket.bucket, "state_bucket_kms_key_arn": self.key.arn})

"""S3: the versioning of an Object Lock bucket cannot be suspended.

Object Lock turns versioning on for good: AWS answers `PutBucketVersioning` with
`Suspended` on such a bucket with 409 `InvalidBucketState` ("An Object Lock configuration is
present on this bucket, so the versioning state cannot be changed"). moto suspends it, and
then refuses the lock configuration's removal instead — so code that would fail on AWS
passed here. (It is why the log archive leaves versioning to Object Lock.) moto's
serializer takes an error's HTTP status from the S3 model, which does not list this code,
so the status here is 400 where AWS sends 409; the code and message are AWS's.
"""

from __future__ import annotations

from typing import Any

MESSAGE = "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."


def install() -> None:
    from moto.s3.exceptions import InvalidBucketState
    from moto.s3.models import S3Backend

    original = S3Backend.put_bucket_versioning

    def put_bucket_versioning(self: Any, bucket_name: str, status: str) -> None:
        if status != "Enabled" and self.get_bucket(bucket_name).object_lock_enabled:
            raise InvalidBucketState(MESSAGE)
        original(self, bucket_name, status)

    S3Backend.put_bucket_versioning = put_bucket_versioning

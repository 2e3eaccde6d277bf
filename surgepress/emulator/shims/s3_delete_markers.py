"""S3: a bucket whose versioning is suspended can still be emptied when it holds delete markers.

Terraform destroys a bucket's versioning configuration (suspending it) before it empties the
bucket with `force_destroy`. moto then removes a key with all its versions, disposing each,
and crashed (a 500) on a delete marker, which has nothing to dispose. A marker has no data,
so disposing of it is nothing.
"""

from __future__ import annotations


def install() -> None:
    from moto.s3.models import FakeDeleteMarker

    if not hasattr(FakeDeleteMarker, "dispose"):
        FakeDeleteMarker.dispose = lambda self, garbage=False: None

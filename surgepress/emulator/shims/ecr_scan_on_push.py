"""ECR: a repository with scan on push scans what is pushed to it.

moto scans an image only when `StartImageScan` is called, so with scan on push (the
platform's setting) `DescribeImageScanFindings` answers ScanNotFoundException forever, and
a gate that waits for the scan never ends. AWS starts a basic scan of each image pushed to
such a repository; its findings are then read as moto answers them: results set through
moto's API (`/moto-api/static/ecr/scan-finding-results`, how the tests choose findings)
or, with none set, moto's legacy sample, which reports a HIGH finding in a package named
`moto_fake`. An image the local target records is a manifest whose one layer is a digest of
app/, not a file system: it has no packages to find anything in, so that sample is answered
as a scan with no findings.
"""

from __future__ import annotations

import datetime
from typing import Any

FAKE_PACKAGE = "moto_fake"


def _is_sample(result: dict[str, Any]) -> bool:
    findings = result.get("imageScanFindings", {}).get("findings", [])
    return any(
        attribute.get("key") == "package_name" and attribute.get("value") == FAKE_PACKAGE
        for finding in findings
        for attribute in finding.get("attributes", [])
    )


def install() -> None:
    from moto.ecr.models import ECRBackend

    put_image = ECRBackend.put_image
    describe = ECRBackend.describe_image_scan_findings

    def scanning_put_image(self: ECRBackend, repository_name: str, *args: Any, **kwargs: Any):
        image = put_image(self, repository_name, *args, **kwargs)
        repository = self.repositories[repository_name]
        if repository.image_scanning_configuration.get("scanOnPush") and getattr(image, "last_scan", 1) is None:
            image.last_scan = datetime.datetime.today()
        return image

    def findings(self: ECRBackend, *args: Any, **kwargs: Any) -> dict[str, Any]:
        result = describe(self, *args, **kwargs)
        if _is_sample(result):
            result = {**result, "imageScanFindings": {**result["imageScanFindings"], "findings": []}}
            result["imageScanFindings"].pop("findingSeverityCounts", None)
        return result

    ECRBackend.put_image = scanning_put_image
    ECRBackend.describe_image_scan_findings = findings

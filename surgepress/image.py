"""The WordPress image: its source (`app/`), its pinned base, and the tag a deploy runs.

- `base()`: the FROM line of `app/Dockerfile` (the one place the base is named), which must
  pin the official image by tag and digest.
- `source_files()`: every file of `app/`, as paths relative to it; `source_digest()`: their
  sha256 (names and contents).
- `default_tag()`: the tag a workspace runs unless a deploy names another
  (`deploy --image-tag`, or `compute.image_tag` in its settings): `<base tag>-<12 hex of the
  source digest>`. The same source always gives the same tag, and any change to `app/` (the
  Dockerfile included) gives a new one, which is what immutable tags need: a build of
  unchanged source finds its tag in the repository already and pushes nothing.
- `wordpress_files()` and `PHP_SETTINGS`: what the local data plane takes of `app/`, and
  `IMAGE_ONLY`: what only the image takes, each with the reason (tests hold them to the Dockerfile).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from surgepress.errors import GateFailed
from surgepress.targets import REPO_ROOT

APP_ENV = "SURGEPRESS_APP_DIR"
APP_DIR = Path(os.environ.get(APP_ENV) or REPO_ROOT / "app")
"""The image's source: `app/`, or where SURGEPRESS_APP_DIR says."""
DOCKERFILE = APP_DIR / "Dockerfile"
WORDPRESS_FILES = "wordpress"
"""Installed into WordPress's own tree: /usr/src/wordpress in the image, the docroot locally."""
PHP_SETTINGS = "php/surgepress.ini"
"""PHP's conf.d in the image; PHP_INI_SCAN_DIR of the local php-fpm."""
_APACHE = "the image's web server is Apache; the local one is nginx, rendered by surgepress.dataplane"
IMAGE_ONLY = {
    "Dockerfile": "the build itself",
    "checksums.sha256": "checks what the build fetches (S3-Uploads), which the local data plane does not install",
    "apache/ports.conf": _APACHE,
    "apache/000-default.conf": _APACHE,
}
FETCHED_AT_BUILD = {
    "wp-content/plugins/s3-uploads": "S3-Uploads, fetched and checked against checksums.sha256 at build time; "
    "here uploads stay in the docroot (the edge still serves media from the bucket)",
    "phpredis": "the redis extension, built by pecl at build time; here Debian's php-redis",
}
"""What the image gets at build time that the local data plane does not install (its status says so)."""

_FROM = re.compile(
    r"^FROM\s+(?P<repository>[a-z0-9./_-]+):(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]*)@(?P<digest>sha256:[0-9a-f]{64})\s*$"
)


@dataclass(frozen=True)
class Base:
    repository: str
    tag: str
    digest: str

    @property
    def reference(self) -> str:
        return f"{self.repository}:{self.tag}@{self.digest}"


def base(dockerfile: Path = DOCKERFILE) -> Base:
    """The one FROM line, pinned by tag and digest, or a ValueError naming what is wrong."""
    lines = [line for line in dockerfile.read_text().splitlines() if re.match(r"^FROM\s", line)]
    if len(lines) != 1:
        raise ValueError(f"{dockerfile}: expected exactly one FROM line, found {len(lines)}")
    found = _FROM.match(lines[0])
    if not found:
        raise ValueError(
            f"{dockerfile}: FROM must pin the base by tag and digest (name:tag@sha256:...), got {lines[0]!r}"
        )
    return Base(**found.groupdict())


def source_files(root: Path = APP_DIR) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def wordpress_files(root: Path = APP_DIR) -> list[str]:
    """The image's additions to WordPress's tree, relative to it (`wp-config.php`, `wp-content/…`)."""
    prefix = WORDPRESS_FILES + "/"
    return [name.removeprefix(prefix) for name in source_files(root) if name.startswith(prefix)]


@cache
def source_digest(root: Path = APP_DIR) -> str:
    digest = hashlib.sha256()
    for name in source_files(root):
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
    return digest.hexdigest()


def default_tag(root: Path = APP_DIR) -> str:
    """`<base tag>-<12 hex of app/'s digest>`: at most 128 characters, ECR's tag grammar."""
    return f"{base(root / 'Dockerfile').tag}-{source_digest(root)[:12]}"


def tag_for(ws) -> str:
    """The tag a site workspace runs: its settings' `compute.image_tag`, or the one built from app/."""
    return ws.compute.image_tag or default_tag()


def registers_filter(hook: str, root: Path = APP_DIR) -> bool:
    """Whether the image's WordPress files add a filter to `hook` (add_filter('hook', ...))."""
    call = re.compile(r"add_filter\(\s*['\"]" + re.escape(hook) + r"['\"]\s*,")
    return any(
        call.search((root / WORDPRESS_FILES / name).read_text())
        for name in wordpress_files(root)
        if name.endswith(".php")
    )


# --- the repository (ECR) --------------------------------------------------------------------

MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


@dataclass(frozen=True)
class Pushed:
    tag: str
    pushed_at: str
    scan: str
    """ECR's scan of it: COMPLETE (with its findings by severity), IN_PROGRESS, FAILED, or none."""


def listed(ecr, repository: str) -> list[Pushed]:
    """What `repository` holds, newest first: each tag, its push time and its scan result."""
    rows = []
    for page in ecr.get_paginator("describe_images").paginate(repositoryName=repository):
        for detail in page["imageDetails"]:
            status = detail.get("imageScanStatus", {}).get("status", "none")
            counts = detail.get("imageScanFindingsSummary", {}).get("findingSeverityCounts", {})
            scan = status + (f" ({', '.join(f'{k} {v}' for k, v in sorted(counts.items()))})" if counts else "")
            pushed = detail["imagePushedAt"]
            for tag in detail.get("imageTags") or ["<untagged>"]:
                rows.append(Pushed(tag, pushed.strftime("%Y-%m-%d %H:%M:%S %Z").strip(), scan))
    return sorted(rows, key=lambda row: row.pushed_at, reverse=True)


def holds(ecr, repository: str, tag: str) -> bool:
    try:
        ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except ecr.exceptions.ImageNotFoundException:
        return False
    return True


def recorded_manifest(root: Path = APP_DIR) -> str:
    """The manifest the local target records for the image built from `root` (it has no
    container runtime to build one): a config naming the pinned base and the source digest,
    and one layer whose digest is the source's. What a registry would need of the blobs is
    not there; the emulator's ECR, like ECR's API for a manifest, does not ask for them."""
    config = json.dumps(
        {
            "config": {
                "Labels": {
                    "surgepress.base": base(root / "Dockerfile").reference,
                    "surgepress.source": source_digest(root),
                }
            }
        },
        sort_keys=True,
    ).encode()
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": len(config),
                "digest": "sha256:" + hashlib.sha256(config).hexdigest(),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": sum((root / name).stat().st_size for name in source_files(root)),
                    "digest": "sha256:" + source_digest(root),
                }
            ],
        },
        sort_keys=True,
    )


def record(ecr, repository: str, tag: str, root: Path = APP_DIR) -> bool:
    """Put the recorded manifest under `tag` (local target); False if the tag is there already
    (tags are immutable: the same source is the same tag, so nothing needs pushing)."""
    if holds(ecr, repository, tag):
        return False
    ecr.put_image(
        repositoryName=repository,
        imageManifest=recorded_manifest(root),
        imageManifestMediaType=MANIFEST_TYPE,
        imageTag=tag,
    )
    return True


SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNDEFINED", "UNTRIAGED")
"""ECR's finding severities, worst first."""
SCAN_DONE = ("COMPLETE", "ACTIVE")  # basic scan, enhanced scan
SCAN_PAUSE_S = 5.0


def build_and_push(
    ecr, repository_url: str, tag: str, *, revision: str = "", root: Path = APP_DIR, run: Callable = subprocess.run
) -> None:
    """aws target (the pipeline's image stage): build `root` with Docker and push it as
    `repository_url:tag`. Docker logs in with a token from `ecr` (the deployer role's
    session), given on its standard input: the password is in no argument, log or layer."""
    reference = f"{repository_url}:{tag}"
    labels = ["--label", f"org.opencontainers.image.revision={revision}"] if revision else []
    run(["docker", "build", "--pull", *labels, "--tag", reference, str(root)], check=True)
    token = ecr.get_authorization_token()["authorizationData"][0]
    user, password = base64.b64decode(token["authorizationToken"]).decode().split(":", 1)
    endpoint = token["proxyEndpoint"]
    run(["docker", "login", "--username", user, "--password-stdin", endpoint], input=password, text=True, check=True)
    run(["docker", "push", reference], check=True)


def scan_findings(ecr, repository: str, tag: str, *, timeout_s: float, pause_s: float = SCAN_PAUSE_S) -> dict[str, int]:
    """ECR's scan of `repository:tag`, waited for (scan on push starts it): its findings by
    severity. GateFailed when the scan ends without findings to judge, or takes too long."""
    from surgepress.harness import WaitTimeout, wait_for

    def answer() -> dict | None:
        try:
            return ecr.describe_image_scan_findings(repositoryName=repository, imageId={"imageTag": tag})
        except ecr.exceptions.ScanNotFoundException:
            return None  # the scan is not registered yet

    def ended(found: dict | None) -> bool:
        # IN_PROGRESS (basic scanning) and PENDING (enhanced) are not yet an answer.
        return found is not None and found.get("imageScanStatus", {}).get("status") not in ("IN_PROGRESS", "PENDING")

    try:
        found = wait_for(f"the scan of {repository}:{tag}", answer, until=ended, timeout_s=timeout_s, pause_s=pause_s)
    except WaitTimeout:
        raise GateFailed(f"{repository}:{tag}: ECR's scan did not finish within {timeout_s:.0f}s") from None
    assert found is not None
    status = found["imageScanStatus"]
    if status.get("status") not in SCAN_DONE:
        why = status.get("description", "no reason given")
        raise GateFailed(
            f"{repository}:{tag}: ECR's scan ended {status.get('status')} ({why}): nothing says the image is safe"
        )
    findings = found.get("imageScanFindings", {})
    counts = dict(findings.get("findingSeverityCounts") or {})
    if not counts:
        for finding in findings.get("findings", []):
            counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
    return {severity: counts[severity] for severity in SEVERITIES if counts.get(severity)}


def blocking(counts: dict[str, int], block_severity: str) -> dict[str, int]:
    """The findings at or above `block_severity`."""
    worst = SEVERITIES[: SEVERITIES.index(block_severity) + 1]
    return {severity: n for severity, n in counts.items() if severity in worst}

"""hadolint and Checkov's dockerfile checks over the image's Dockerfile: zero findings, skips
only with their reasons, and each lint shown failing on a broken form."""

from __future__ import annotations

import pytest

from surgepress import image
from surgepress.policy import IMAGE, scan_image

pytestmark = pytest.mark.policy


def test_the_images_dockerfile_has_no_finding():
    report = scan_image(image.DOCKERFILE)
    assert [f.line() for f in report.failed] == []
    assert report.passed > 0 and report.workspaces[IMAGE].passed == report.passed
    # The one skip: PHP code in single quotes that the shell must not expand.
    assert [(f.check_id, f.reason) for f in report.skipped] == [
        ("SC2016", "The single quotes hold PHP code for php -r, not shell expansions.")
    ]


def test_a_root_user_and_an_unpinned_base_fail_both_lints(tmp_path):
    broken = image.DOCKERFILE.read_text().replace("USER 33:33", "USER root")
    broken = broken.replace(f"FROM {image.base().reference}", "FROM wordpress:latest")
    (tmp_path / "Dockerfile").write_text(broken)
    found = {f.check_id for f in scan_image(tmp_path / "Dockerfile").failed}
    assert {"DL3002", "DL3007"} <= found, found  # hadolint: last USER root; :latest
    assert "CKV_DOCKER_8" in found, found  # checkov: the last USER is root
    assert "CKV_DOCKER_7" in found, found  # checkov: the base's tag is latest


def test_a_skip_without_a_reason_is_refused(tmp_path):
    reason = "# The single quotes hold PHP code for php -r, not shell expansions.\n"
    text = image.DOCKERFILE.read_text().replace(reason, "")
    (tmp_path / "Dockerfile").write_text(text)
    with pytest.raises(RuntimeError, match="hadolint ignore without a reason"):
        scan_image(tmp_path / "Dockerfile")

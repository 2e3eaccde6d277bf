"""The WordPress image's source (app/): what the Dockerfile says, and that the image and the
local data plane take the same files from it."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from modules.compute import CONTAINER_PORT, CONTAINER_USER, WRITABLE_PATHS
from surgepress import image
from surgepress.dataplane import DataPlane
from surgepress.dataplane.packages import Toolchain
from surgepress.targets import Paths

pytestmark = pytest.mark.unit


def _instructions(dockerfile: Path = image.DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _copied() -> set[str]:
    """app/ files the Dockerfile COPYs into the image (a directory: every file under it)."""
    files = set(image.source_files())
    copied = set()
    for word, rest in _instructions():
        if word != "COPY":
            continue
        *sources, _ = [arg for arg in shlex.split(rest) if not arg.startswith("--")]
        for source in sources:
            source = source.rstrip("/")
            copied |= {f for f in files if f == source or f.startswith(source + "/")}
    return copied


def _installed_docroot(settings, tmp_path: Path, *, object_cache: bool) -> Path:
    """What the data plane really installs: its docroot, built from a stand-in of Debian's WordPress."""
    wordpress = tmp_path / "debian-wordpress"
    (wordpress / "wp-includes").mkdir(parents=True)
    (wordpress / "wp-includes" / "version.php").write_text("<?php $wp_version = '6.8.3';\n")
    plane = DataPlane(Paths(tmp_path / "build"), settings.get("staging"), {})
    plane._docroot(Toolchain(programs={}, wordpress=wordpress), object_cache=object_cache)
    return plane.layout.docroot


def test_the_base_is_pinned_by_tag_and_digest_on_the_one_from_line():
    base = image.base()
    assert base.repository == "wordpress"
    assert re.fullmatch(r"6\.\d+\.\d+-php8\.\d+-apache", base.tag)
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", base.digest)
    assert [rest for word, rest in _instructions() if word == "FROM"] == [base.reference]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("FROM wordpress:6.8.3-php8.3-apache", "pin the base by tag and digest"),
        ("FROM wordpress@sha256:" + "0" * 64, "pin the base by tag and digest"),
        ("FROM wordpress:latest@sha256:abc", "pin the base by tag and digest"),
    ],
)
def test_a_base_not_pinned_by_tag_and_digest_is_refused(tmp_path, line, expected):
    (tmp_path / "Dockerfile").write_text(f"{line}\nUSER www-data\n")
    with pytest.raises(ValueError, match=expected):
        image.base(tmp_path / "Dockerfile")
    (tmp_path / "Dockerfile").write_text("FROM a:1@sha256:" + "0" * 64 + "\nFROM b:2@sha256:" + "1" * 64 + "\n")
    with pytest.raises(ValueError, match="exactly one FROM line, found 2"):
        image.base(tmp_path / "Dockerfile")


def test_it_runs_as_the_task_definitions_non_root_user_on_its_port_with_its_writable_mounts():
    instructions = _instructions()
    users = [rest for word, rest in instructions if word == "USER"]
    assert users[-1] == CONTAINER_USER and CONTAINER_USER not in ("root", "0")
    assert [rest for word, rest in instructions if word == "EXPOSE"] == [str(CONTAINER_PORT)]
    (volume,) = [rest for word, rest in instructions if word == "VOLUME"]
    assert set(re.findall(r'"([^"]+)"', volume)) == set(WRITABLE_PATHS.values())
    assert f"Listen {CONTAINER_PORT}" in (image.APP_DIR / "apache" / "ports.conf").read_text()
    assert f"<VirtualHost *:{CONTAINER_PORT}>" in (image.APP_DIR / "apache" / "000-default.conf").read_text()


def test_its_healthcheck_asks_what_the_target_group_asks(settings):
    (check,) = [rest for word, rest in _instructions() if word == "HEALTHCHECK"]
    path = settings.get("production").compute.health_check_path
    assert f"http://127.0.0.1:{CONTAINER_PORT}{path}" in check


def test_no_secret_goes_into_a_layer_or_a_build_argument():
    for word, rest in _instructions():
        if word in ("ARG", "ENV"):
            name = re.split(r"[=\s]", rest, maxsplit=1)[0]
            assert not re.search(r"PASSWORD|SECRET|TOKEN|SALT|_KEY$|AUTH", name, re.IGNORECASE), rest
    wp_config = (image.APP_DIR / "wordpress" / "wp-config.php").read_text()
    assert not re.search(r"define\('(DB_PASSWORD|AUTH_KEY|WP_REDIS_PASSWORD)',\s*'[^']", wp_config)
    # No secret falls back to a value the world knows (the official image's placeholders).
    assert "put your unique phrase here" not in wp_config and "example password" not in wp_config
    for secret in ("DB_PASSWORD", "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "NONCE_SALT"):
        assert f"define('{secret}', getenv_required('WORDPRESS_{secret}'))" in wp_config, secret


def test_what_is_fetched_at_build_time_is_pinned_and_checked():
    text = image.DOCKERFILE.read_text()
    assert re.search(r"^ARG S3_UPLOADS_VERSION=\d+\.\d+\.\d+$", text, re.MULTILINE)
    assert re.search(r"^ARG PHPREDIS_VERSION=\d+\.\d+\.\d+$", text, re.MULTILINE)
    assert "sha256sum -c" in text and "checksums.sha256" in text
    assert "checksums.sha256" in _copied()


def test_the_image_and_the_local_data_plane_take_the_same_files_from_app(settings, tmp_path):
    docroot = _installed_docroot(settings, tmp_path, object_cache=True)
    installed = {
        f"{image.WORDPRESS_FILES}/{p.relative_to(docroot)}"
        for p in docroot.rglob("*")
        if p.is_file() and (image.APP_DIR / image.WORDPRESS_FILES / p.relative_to(docroot)).is_file()
    }
    # The PHP settings are not copied but read in place (php-fpm's PHP_INI_SCAN_DIR): that they
    # are in use is what the harness checks (a page without X-Powered-By, test_verify_http).
    installed.add(image.PHP_SETTINGS)
    for name in installed - {image.PHP_SETTINGS}:  # as they are in app/
        placed = docroot / name.removeprefix(image.WORDPRESS_FILES + "/")
        assert placed.read_bytes() == (image.APP_DIR / name).read_bytes()
    copied = _copied()
    assert copied - set(image.IMAGE_ONLY) == installed
    # Nothing in app/ is neither copied nor named as the build's own.
    assert set(image.source_files()) - copied == {"Dockerfile"}
    assert set(image.IMAGE_ONLY) <= copied | {"Dockerfile"}


def test_without_the_object_cache_the_drop_in_is_not_installed(settings, tmp_path):
    docroot = _installed_docroot(settings, tmp_path, object_cache=False)
    assert not (docroot / "wp-content" / "object-cache.php").exists()
    assert (docroot / "wp-content" / "mu-plugins" / "surgepress.php").is_file()


def test_the_tag_follows_the_source(tmp_path):
    import shutil

    app = tmp_path / "app"
    shutil.copytree(image.APP_DIR, app)
    before = image.default_tag(app)
    assert re.fullmatch(re.escape(image.base().tag) + r"-[0-9a-f]{12}", before)
    assert image.default_tag(app) == before  # the same source, the same tag
    image.source_digest.cache_clear()
    (app / "php" / "surgepress.ini").write_text((app / "php" / "surgepress.ini").read_text() + "; changed\n")
    assert image.default_tag(app) != before


def test_a_secret_the_task_does_not_give_stops_wordpress_before_it_starts(tmp_path):
    import subprocess

    config = image.APP_DIR / "wordpress" / "wp-config.php"
    given = {"WORDPRESS_DB_NAME": "wordpress", "WORDPRESS_DB_USER": "wp", "WORDPRESS_DB_HOST": "db"}
    done = subprocess.run(
        ["php", "-d", "log_errors=1", "-d", "error_log=", str(config)],
        env={"PATH": "/usr/bin:/bin", **given},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Service unavailable: the site is misconfigured." in done.stdout
    assert "WORDPRESS_DB_PASSWORD is not set" in done.stderr + done.stdout
    assert "wp-settings.php" not in done.stderr + done.stdout, "it stopped before loading WordPress"

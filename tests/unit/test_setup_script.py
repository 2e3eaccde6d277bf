"""scripts/setup.sh's package step against stub `dpkg-query`, `apt-get` and `sudo` on PATH.

The stubs keep a small package database in a directory: `dpkg-query -W` answers as dpkg does
(installed packages on stdout, "no packages found matching" on stderr and exit 1 when any
is absent); `apt-get` only records its arguments (it installs nothing, so dpkg-query goes on
reporting the packages missing, and setup must still succeed on apt-get's exit status).
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.unit

# The data plane's packages, restated here (not imported from the code under test).
EXPECTED = sorted(
    [
        "mariadb-server",
        "mariadb-client",
        "redis-server",
        "php-fpm",
        "php-cli",
        "php-mysql",
        "php-redis",
        "nginx",
        "openssl",
        "wordpress",
        "wordpress-theme-twentytwentythree",
    ]
)

DPKG_QUERY = r"""#!/usr/bin/env bash
# dpkg-query -W -f=FORMAT PKG...: one line per installed package; exit 1 if any is absent.
db="$STUB_DB"; status=0
for arg in "$@"; do
  case "$arg" in -W|-f=*) continue ;; esac
  if [ -e "$db/installed/$arg" ]; then printf '%s installed\n' "$arg"
  elif [ -e "$db/removed/$arg" ]; then printf '%s config-files\n' "$arg"  # removed, its config kept
  else echo "dpkg-query: no packages found matching $arg" >&2; status=1; fi
done
exit $status
"""
APT_GET = r"""#!/usr/bin/env bash
echo "$*" >> "$STUB_DB/apt-get.calls"
[ "$1" = update ] && [ -n "${STUB_FAIL_UPDATE:-}" ] && { echo "E: could not resolve deb.debian.org" >&2; exit 100; }
exit 0
"""
SUDO = '#!/usr/bin/env bash\nexec "$@"\n'


@pytest.fixture
def stubs(tmp_path: Path) -> Path:
    bin_dir, db = tmp_path / "bin", tmp_path / "db"
    bin_dir.mkdir()
    (db / "installed").mkdir(parents=True)
    (db / "removed").mkdir()
    for name, text in (("dpkg-query", DPKG_QUERY), ("apt-get", APT_GET), ("sudo", SUDO)):
        path = bin_dir / name
        path.write_text(text)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return tmp_path


def run_step(stubs: Path, *steps: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PATH": f"{stubs / 'bin'}:{os.environ['PATH']}", "STUB_DB": str(stubs / "db"), **env}
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "setup.sh"), *steps],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def apt_calls(stubs: Path) -> list[list[str]]:
    calls = stubs / "db" / "apt-get.calls"
    return [line.split() for line in calls.read_text().splitlines()] if calls.exists() else []


def test_none_installed_installs_every_package(stubs):
    result = run_step(stubs, "packages")
    assert result.returncode == 0, result.stderr
    calls = apt_calls(stubs)
    assert [call[0] for call in calls] == ["update", "install"]
    install = calls[1]
    assert install[:4] == ["install", "-y", "-q", "--no-install-recommends"]
    assert sorted(install[4:]) == EXPECTED
    assert "installing Debian packages for the local data plane" in result.stdout


def test_some_installed_installs_only_the_rest(stubs):
    for name in ("nginx", "openssl", "php-cli"):
        (stubs / "db" / "installed" / name).touch()
    result = run_step(stubs, "packages")
    assert result.returncode == 0, result.stderr
    assert sorted(apt_calls(stubs)[1][4:]) == sorted(set(EXPECTED) - {"nginx", "openssl", "php-cli"})


def test_a_removed_package_whose_config_is_left_counts_as_missing(stubs):
    for name in EXPECTED:
        (stubs / "db" / ("removed" if name in ("nginx", "mariadb-server") else "installed") / name).touch()
    result = run_step(stubs, "packages")
    assert result.returncode == 0, result.stderr
    assert sorted(apt_calls(stubs)[1][4:]) == ["mariadb-server", "nginx"]


def test_all_installed_installs_nothing(stubs):
    for name in EXPECTED:
        (stubs / "db" / "installed" / name).touch()
    result = run_step(stubs, "packages")
    assert result.returncode == 0, result.stderr
    assert apt_calls(stubs) == []
    assert result.stdout == ""


def test_a_failing_command_names_its_step_and_shows_why(stubs):
    result = run_step(stubs, "packages", STUB_FAIL_UPDATE="1")
    assert result.returncode != 0
    assert "E: could not resolve deb.debian.org" in result.stderr  # apt-get's own words
    assert "setup: error: [packages]" in result.stderr
    assert "apt-get update" in result.stderr
    assert [call[0] for call in apt_calls(stubs)] == ["update"], "no install after a failed update"


def test_an_unknown_step_is_refused(stubs):
    result = run_step(stubs, "nonsense")
    assert result.returncode != 0
    assert "setup: error: [arguments] unknown step 'nonsense'" in result.stderr

"""The programs the data plane runs, and the Debian packages they come from.

`scripts/setup.sh` installs the packages (apt-get, as root); here we only find the programs
and, when one is missing, say in one line which package to install.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# program -> (Debian package, where to look besides PATH)
PROGRAMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "mariadbd": ("mariadb-server", ("/usr/sbin/mariadbd",)),
    "mariadb-install-db": ("mariadb-server", ("/usr/bin/mariadb-install-db",)),
    "mariadb": ("mariadb-client", ("/usr/bin/mariadb",)),
    "mariadb-dump": ("mariadb-client", ("/usr/bin/mariadb-dump",)),
    "redis-server": ("redis-server", ("/usr/bin/redis-server",)),
    "php-fpm": ("php-fpm", ("/usr/sbin/php-fpm*",)),
    "php": ("php-cli", ("/usr/bin/php",)),
    "nginx": ("nginx", ("/usr/sbin/nginx",)),
    "openssl": ("openssl", ("/usr/bin/openssl",)),
}
# PHP extensions WordPress needs here, and their packages.
PHP_EXTENSIONS = {"mysqli": "php-mysql", "redis": "php-redis"}
WORDPRESS_DIR = Path("/usr/share/wordpress")
WORDPRESS_PACKAGES = ("wordpress", "wordpress-theme-twentytwentythree")
INSTALL_HINT = "run ./scripts/setup.sh (or: apt-get install -y {packages})"


class MissingPackage(Exception):
    """One line: what is missing and how to install it."""


@dataclass(frozen=True)
class Toolchain:
    programs: dict[str, str]
    wordpress: Path

    def __getitem__(self, program: str) -> str:
        return self.programs[program]


def _find(program: str, extra: tuple[str, ...]) -> str | None:
    found = shutil.which(program)
    if found:
        return found
    for pattern in extra:
        matches = sorted(glob.glob(pattern))
        if matches:
            return matches[-1]
    return None


def all_packages() -> list[str]:
    names = {package for package, _ in PROGRAMS.values()} | set(PHP_EXTENSIONS.values()) | set(WORDPRESS_PACKAGES)
    return sorted(names)


def php_modules(php: str) -> set[str]:
    proc = subprocess.run([php, "-m"], capture_output=True, text=True, check=False)
    return {line.strip().lower() for line in proc.stdout.splitlines()}


def find_toolchain() -> Toolchain:
    """Every program, or MissingPackage naming the missing Debian package(s)."""
    programs, missing = {}, []
    for program, (package, extra) in PROGRAMS.items():
        path = _find(program, extra)
        if path is None:
            missing.append(package)
        else:
            programs[program] = path
    if "php" in programs:
        loaded = php_modules(programs["php"])
        missing += [package for module, package in PHP_EXTENSIONS.items() if module not in loaded]
    if not (WORDPRESS_DIR / "wp-settings.php").is_file():
        missing.append("wordpress")
    if not any((WORDPRESS_DIR / "wp-content" / "themes").glob("*/style.css")):
        missing.append("wordpress-theme-twentytwentythree")
    if missing:
        packages = " ".join(dict.fromkeys(missing))
        raise MissingPackage(
            f"data plane: missing Debian package(s) {packages}: " + INSTALL_HINT.format(packages=packages)
        )
    return Toolchain(programs=programs, wordpress=WORDPRESS_DIR)


if __name__ == "__main__":  # scripts/setup.sh reads the list from here: one list, two readers
    print("\n".join(all_packages()))

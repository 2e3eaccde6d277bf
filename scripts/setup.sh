#!/usr/bin/env bash
# Installs whatever is missing for surgepress, and nothing that is already there:
# pipenv, the locked Python packages (.venv in the project), cdktf-cli from npm, and the
# Debian packages of the local data plane (as root, or through sudo).
# Checks (but cannot install) Terraform and Node. Idempotent; fast when warm.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*"; }
fail() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || fail "python3 (3.11) is required"
python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || fail "Python 3.11 is required (found $(python3 --version 2>&1)); see Pipfile [requires]"
command -v terraform >/dev/null || fail "terraform >= 1.10 is required on PATH (https://developer.hashicorp.com/terraform/install)"
command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm are required for cdktf (Node 20+)"

if ! python3 -m pipenv --version >/dev/null 2>&1; then
  say "installing pipenv"
  python3 -m pip install --quiet --disable-pip-version-check "pipenv==2026.10.3"
fi

export PIPENV_VENV_IN_PROJECT=1 PIPENV_YES=1 PIPENV_NOSPIN=1 PIPENV_VERBOSITY=-1
stamp=.venv/.surgepress-lock-sha256
want=$(sha256sum Pipfile.lock | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing Python packages from Pipfile.lock (first time: a few minutes)"
  python3 -m pipenv sync --dev
  echo "$want" > "$stamp"
fi

stamp=node_modules/.surgepress-lock-sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -x node_modules/.bin/cdktf ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "installing cdktf-cli from package-lock.json"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
# The local data plane's programs (surgepress/dataplane/packages.py names the same list).
DATAPLANE_PACKAGES="mariadb-server mariadb-client redis-server php-fpm php-cli php-mysql php-redis nginx openssl wordpress wordpress-theme-twentytwentythree"
missing=$(dpkg-query -W -f='${Package} ${Status}\n' $DATAPLANE_PACKAGES 2>/dev/null | awk '$4 == "installed" {print $1}' \
  | sort | comm -13 - <(printf '%s\n' $DATAPLANE_PACKAGES | sort) | tr '\n' ' ')
if [ -n "${missing// /}" ]; then
  command -v apt-get >/dev/null || fail "the data plane needs Debian packages: $missing (no apt-get here)"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    fail "the data plane needs Debian packages; as root run: apt-get install -y --no-install-recommends $missing"; fi
  say "installing Debian packages for the local data plane: $missing"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

say "ready ($(TF_CLI_CONFIG_FILE=/dev/null terraform version 2>/dev/null | head -1), $(.venv/bin/python --version), cdktf-cli $(node -p "require('./node_modules/cdktf-cli/package.json').version"))"

#!/usr/bin/env bash
# Installs whatever is missing for surgepress, and nothing that is already there:
# pipenv, the locked Python packages (.venv in the project), cdktf-cli from npm, and the
# Debian packages of the local data plane (as root, or through sudo).
# Checks (but cannot install) Terraform and Node. Idempotent; fast when warm.
#
#   scripts/setup.sh              every step
#   scripts/setup.sh STEP…        only these steps (tools python node packages), e.g. in tests
#
# Every failure names its step and the command that failed; no step exits silently.
set -Eeuo pipefail
cd "$(dirname "$0")/.."

STEP="start"
say() { printf 'setup: %s\n' "$*"; }
REPORTED=97  # inside $(…): the failure is explained already; the caller must not explain it again
leave() { if [ "$BASH_SUBSHELL" -gt 0 ]; then exit "$REPORTED"; else exit 1; fi; }
fail() { printf 'setup: error: [%s] %s\n' "$STEP" "$*" >&2; leave; }
# Any other command that fails under `set -e` lands here: name the step, the command and its
# status, once. (-E: also inside functions and command substitutions.)
on_error() {
  local status=$1 line=$2 command=$3
  if [ "$status" -ne "$REPORTED" ]; then
    printf 'setup: error: [%s] `%s` failed with exit code %s (line %s)\n' "$STEP" "$command" "$status" "$line" >&2
  fi
  leave
}
trap 'on_error $? $LINENO "$BASH_COMMAND"' ERR

# Run a noisy command quietly; on failure show its last lines, then fail naming it.
quietly() {
  local log
  log=$(mktemp)
  if ! "$@" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    rm -f "$log"
    fail "\`$*\` failed (its last lines are above)"
  fi
  rm -f "$log"
}

step_tools() {
  STEP="tools"
  command -v python3 >/dev/null || fail "python3 (3.11) is required"
  python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || fail "Python 3.11 is required (found $(python3 --version 2>&1)); see Pipfile [requires]"
  command -v terraform >/dev/null || fail "terraform >= 1.11 is required on PATH (https://developer.hashicorp.com/terraform/install)"
  local tf_version
  tf_version=$(TF_CLI_CONFIG_FILE=/dev/null terraform version 2>/dev/null | sed -n 's/^Terraform v\([0-9]*\.[0-9]*\).*/\1/p')
  printf '%s\n1.11\n' "$tf_version" | sort -V -C -r \
    || fail "terraform >= 1.11 is required (the write-only *_wo arguments), found '${tf_version:-unknown}'"
  command -v node >/dev/null && command -v npm >/dev/null || fail "node and npm are required for cdktf (Node 20+)"
  local node_major
  node_major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$node_major" -ge 20 ] || fail "Node 20 or newer is required for cdktf-cli, found $(node --version)"
}

step_python() {
  STEP="python"
  if ! python3 -m pipenv --version >/dev/null 2>&1; then
    say "installing pipenv"
    quietly python3 -m pip install --disable-pip-version-check "pipenv==2026.10.3"
  fi
  export PIPENV_VENV_IN_PROJECT=1 PIPENV_YES=1 PIPENV_NOSPIN=1 PIPENV_VERBOSITY=-1
  local stamp=.venv/.surgepress-lock-sha256 want
  want=$(sha256sum Pipfile.lock | cut -d' ' -f1)
  if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing Python packages from Pipfile.lock (first time: a few minutes)"
    python3 -m pipenv sync --dev || fail "pipenv sync --dev failed (its output is above)"
    echo "$want" > "$stamp"
  fi
}

step_node() {
  STEP="node"
  local stamp=node_modules/.surgepress-lock-sha256 want
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ ! -x node_modules/.bin/cdktf ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing cdktf-cli from package-lock.json"
    npm ci --no-audit --no-fund --loglevel=error || fail "npm ci failed (its output is above)"
    echo "$want" > "$stamp"
  fi
}

# The Debian packages of the local data plane that are not installed, one per line. The list
# is surgepress/dataplane/packages.py's (run as a script: it imports nothing of the project).
missing_packages() {
  local wanted installed
  wanted=$(python3 surgepress/dataplane/packages.py) || fail "could not read the package list from surgepress/dataplane/packages.py"
  # dpkg-query exits 1 when any package is unknown or absent; its answer for the others still counts.
  # shellcheck disable=SC2086
  installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' $wanted 2>/dev/null || true)
  comm -23 <(printf '%s\n' $wanted | sort -u) <(printf '%s\n' "$installed" | awk '$2 == "installed" {print $1}' | sort -u)
}

step_packages() {
  STEP="packages"
  local missing sudo=""
  missing=$(missing_packages | tr '\n' ' ')
  missing=${missing% }
  [ -n "$missing" ] || return 0
  command -v apt-get >/dev/null || fail "the data plane needs Debian packages: $missing (no apt-get here)"
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "the data plane needs Debian packages; as root run: apt-get install -y --no-install-recommends $missing"
    sudo="sudo"
  fi
  say "installing Debian packages for the local data plane: $missing"
  # shellcheck disable=SC2086
  quietly $sudo apt-get update -q
  # shellcheck disable=SC2086
  # apt-get's own exit status says whether the install worked (quietly shows its last lines if not).
  quietly $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
}

step_ready() {
  STEP="ready"
  say "ready ($(TF_CLI_CONFIG_FILE=/dev/null terraform version 2>/dev/null | sed -n 1p), $(.venv/bin/python --version), cdktf-cli $(node -p "require('./node_modules/cdktf-cli/package.json').version"))"
}

if [ "$#" -eq 0 ]; then
  set -- tools python node packages ready
fi
for name in "$@"; do
  case "$name" in
    tools|python|node|packages|ready) "step_$name" ;;
    *) STEP="arguments"; fail "unknown step '$name' (expected: tools python node packages ready)" ;;
  esac
done

#!/usr/bin/env bash
# The README's test command after set-up and ruff (make test): mypy, then the unit and policy
# tests, alongside the integration harness.
#
# The harness spends most of its time in the provider's own waiters (an S3 lifecycle rule, an
# Aurora instance, a CloudFront distribution: fixed delays no emulator answer shortens), so on
# 2 cores the checks that need only CPU run beside it instead of before it. The harness prints
# live; mypy's findings are printed as soon as it has them and stop the harness (which tears
# down what it deployed); the unit and policy tests' output goes to build/reports/unit-policy.log
# and is printed once they are done. Exit 0 only when all three pass.
set -uo pipefail
set -m # the harness gets a process group of its own: stopped as a whole, its teardown included
cd "$(dirname "$0")/.."

say() { printf 'test: %s\n' "$*"; }
mkdir -p build/reports
log=build/reports/unit-policy.log
findings=build/reports/mypy.log

python main.py test integration &
harness=$!
# Ctrl-C reaches this script only (the harness has its own group): pass it on, so that the
# harness's pytest runs its teardown.
trap 'kill -INT -- "-$harness" 2>/dev/null' INT TERM

if ! mypy --no-incremental >"$findings" 2>&1; then
  cat "$findings" >&2
  say "mypy has findings (above): stopping the harness; it tears down what it deployed" >&2
  kill -INT -- "-$harness" 2>/dev/null
  wait "$harness"
  exit 1
fi
say "mypy: $(tail -n 1 "$findings")"

say "unit and policy tests run beside the harness; their output: $log (printed when done)"
python -m pytest -m "unit or policy" >"$log" 2>&1
unit=$?
say "unit and policy tests: exit $unit"
wait "$harness"
integration=$?

say "unit and policy tests (exit $unit), from $log:"
cat "$log"
say "unit and policy: exit $unit; integration harness: exit $integration"
[ "$unit" -eq 0 ] && [ "$integration" -eq 0 ]

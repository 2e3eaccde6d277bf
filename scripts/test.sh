#!/usr/bin/env bash
# The README's test command after set-up and ruff (make test): mypy, then the unit and policy
# tests, beside the integration harness.
#
# The harness spends most of its time in the provider's own waiters (an S3 lifecycle rule, an
# Aurora instance, a CloudFront distribution: fixed delays no emulator answer shortens), so on
# 2 cores the checks that need only CPU run beside it instead of before it. The harness prints
# live. mypy's findings are printed as soon as mypy has them, and stop the harness: it stops
# after an interrupt as on Ctrl-C, tearing down what it deployed (a second Ctrl-C is not passed
# on). The unit and policy tests' output goes to <build>/reports/unit-policy.log; a failure is
# announced when they end, and the log is printed after the harness. Exit 0 only when all three
# pass; 130 when interrupted.
set -uo pipefail
cd "$(dirname "$0")/.."

say() { printf 'test: %s\n' "$*"; }
reports="${SURGEPRESS_BUILD_DIR:-build}/reports"
mkdir -p "$reports"
log="$reports/unit-policy.log"
findings="$reports/mypy.log"

interrupted=0 stopped=0 trapped=0 harness=""
# Stop the harness once: a second SIGINT would cut its teardown short (a repeated Ctrl-C is ignored).
stop_harness() {
  [ -n "$harness" ] && [ "$stopped" -eq 0 ] || return 0
  stopped=1
  kill -INT -- "-$harness" 2>/dev/null
}
# Wait until the harness has really ended: a trapped signal returns from `wait` early (its
# status then above 128), which is waited again; any other return is the harness's own status.
wait_harness() {
  local code
  while :; do
    trapped=0
    wait "$harness"
    code=$?
    [ "$trapped" -eq 1 ] && [ "$code" -gt 128 ] && continue
    return "$code"
  done
}
# Ctrl-C, TERM or a hangup reaches this script and what it runs in the foreground, not the
# harness's group: pass it on (once), then wait for the harness's teardown.
trap 'trapped=1; interrupted=1; stop_harness' INT TERM HUP

# The harness in a process group of its own (job control for this one command only), reading
# nothing from the terminal: it is stopped as a whole, by this script alone.
set -m
python main.py test integration </dev/null &
harness=$!
set +m
[ "$interrupted" -eq 1 ] && stop_harness

mypy --no-incremental >"$findings" 2>&1
typecheck=$?
unit=""
if [ "$interrupted" -eq 0 ] && [ "$typecheck" -ne 0 ]; then
  cat "$findings" >&2
  say "mypy failed (exit $typecheck; its output is above): stopping the harness, which tears down what it deployed" >&2
  stop_harness
elif [ "$interrupted" -eq 0 ]; then
  say "mypy: $(tail -n 1 "$findings")"
  say "unit and policy tests run beside the harness; their output: $log (printed after the harness)"
  python -m pytest -m "unit or policy" >"$log" 2>&1
  unit=$?
  if [ "$interrupted" -eq 0 ]; then
    if [ "$unit" -eq 0 ]; then say "unit and policy tests passed"; else say "unit and policy tests FAILED (exit $unit): $log" >&2; fi
  fi
fi
wait_harness
integration=$?
[ "$interrupted" -eq 1 ] && { say "interrupted: the harness has stopped (exit $integration)" >&2; exit 130; }
[ "$typecheck" -ne 0 ] && exit 1

say "unit and policy tests (exit $unit), from $log:"
cat "$log"
say "unit and policy: exit $unit; integration harness: exit $integration"
[ "$unit" -eq 0 ] && [ "$integration" -eq 0 ]

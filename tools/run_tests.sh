#!/usr/bin/env bash
# The whole check, as CI runs it: ruff, import-linter layer contracts, mypy, then pytest (offscreen Qt),
# then the real-window screenshot tests under Xvfb. Screenshots land in artifacts/screenshots/.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
status=0
step() { echo "== $*"; }

if [ -n "${CI:-}" ]; then
  # In CI every tool the tests use must be there, so that nothing is skipped for lack of it.
  for tool in xvfb-run ogrinfo pdftoppm; do
    command -v "$tool" >/dev/null || { echo "CI: required tool '$tool' is missing"; exit 1; }
  done
fi

step "ruff"; $BIN/ruff check . || status=1
step "import-linter"; $BIN/lint-imports || status=1
step "mypy"; $BIN/mypy || status=1
step "pytest"
export QT_QPA_PLATFORM=offscreen
$BIN/python -m pytest -q -m "not xvfb" "$@"; rc=$?
[ $rc -eq 0 ] || status=1
if command -v xvfb-run >/dev/null; then
  step "pytest (Xvfb screenshots)"
  QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1920x1080x24" $BIN/python -m pytest -q -m xvfb "$@"; rc=$?
  # exit 5 = no screenshot tests collected (e.g. a filtered run); not a failure
  if [ $rc -ne 0 ] && [ $rc -ne 5 ]; then status=1; fi
else
  echo "xvfb-run not available: screenshot tests skipped"
fi
exit $status

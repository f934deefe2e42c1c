# Helpers for the shell tests: each test script sources this, calls `check`
# for every assertion and `finish` at the end (prints the pass/fail line).
passed=0; failed=0
check() { # check DESCRIPTION COMMAND...
  local what="$1"; shift
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $what" >&2; fi
}
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; }

# Sourced by the container tests: a Catch2-style summary for scripts/test
# (check, begin/end around each case, skip WHY, summary at the end).
U=${PFD_TEST_USER:-pfdtest}
cases=0 failed=0 checks=0
summary() {
  if ((failed)); then
    echo "test cases: $cases | $((cases - failed)) passed | $failed failed"
    exit 1
  fi
  echo "All tests passed ($checks assertions in $cases test cases)"
  exit 0
}
skip() {
  echo "skipped: $*"
  cases=1
  summary
}

check() { # check WHAT EXPECTED ACTUAL
  checks=$((checks + 1))
  if [ "$2" != "$3" ]; then
    echo "FAILED: $1"
    echo "  expected: $(printf '%q' "$2")"
    echo "  actual:   $(printf '%q' "$3")"
    case_failed=1
  fi
}
begin() { cases=$((cases + 1)); case_failed=0; echo "== $1"; }
end() { ((case_failed)) && failed=$((failed + 1)); }

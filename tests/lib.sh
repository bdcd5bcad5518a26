# Shared helpers for the script tests (sourced, not run).
# Each test counts its checks and ends with "N passed, N failed".
set -u
PASS=0
FAIL=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
: "${NETAGM:?NETAGM must point at the netagm binary}"
: "${NETAGM_PCAPS:=$NETAGM_SRC/../shared/data/pcaps}"

ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
check() { # check "description" command...
    local d=$1; shift
    if "$@"; then ok "$d"; else bad "$d"; fi
}
finish() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ]
}

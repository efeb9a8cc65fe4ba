#!/bin/sh
# run.sh - the mapping tests in tests/mappings, through the ferry command:
# `ferry map test --suite` over this directory, and the single-record mode's
# output and exit codes.  Speaks TAP.
#
# Environment (set by `make check`): FERRY_BIN (the built ferry),
# FERRY_TOP_SRCDIR, FERRY_TOP_BUILDDIR, FERRY_DATADIR (share/ferry).
#
# Until core/cli.c dispatches `map`, the in-tree test driver
# tests/unit/test_cli_map (`--as-ferry map ...` calls ferry_cmd_map) stands in.
set -u

srcdir=${FERRY_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${FERRY_TOP_BUILDDIR:-.}
here="$srcdir/tests/mappings"
ferry=${FERRY_BIN:-$builddir/ferry}
if ! "$ferry" map --help >/dev/null 2>&1; then
    ferry="$builddir/tests/unit/test_cli_map --as-ferry"
fi
: "${FERRY_DATADIR:=$srcdir/share/ferry}"
export FERRY_DATADIR

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ferry-mappings.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

n=0
failed=0
# check NAME EXPECTED_EXIT PHRASE -- COMMAND...: the exit code, and PHRASE in stdout+stderr
check() {
    name=$1 want=$2 phrase=$3
    shift 4
    n=$((n + 1))
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -eq "$want" ] && grep -F -q -- "$phrase" "$tmp/out" "$tmp/err"; then
        echo "ok $n - $name"
    else
        failed=$((failed + 1))
        echo "not ok $n - $name"
        echo "# exit $got (wanted $want), looked for: $phrase"
        sed 's/^/# out: /' "$tmp/out" | head -40
        sed 's/^/# err: /' "$tmp/err" | head -20
    fi
}

echo "1..9"

# shellcheck disable=SC2086 # $ferry may be "driver --as-ferry"
check "the example suite passes" 0 "5 passed, 0 failed" -- $ferry map test --suite "$here"
check "the suite speaks TAP" 0 "ok 1 - canceled_order.test.json" -- $ferry map test --suite "$here" --tap
check "one record maps to a document" 0 '"terms_of_payment": "30"' -- \
    $ferry map test "$here/orders_basic.lua" --input "$here/records/paid_order.json" \
    --settings "$here/records/settings.json"
check "--json wraps the records" 0 '"status": "mapped"' -- \
    $ferry map test "$here/orders_basic.lua" --input "$here/records/paid_order.json" \
    --settings "$here/records/settings.json" --json

sed 's/"processing"/"canceled"/' "$here/records/paid_order.json" >"$tmp/canceled.json"
check "a skip prints the reason and exits 0" 0 "skipped: order 000000042 is canceled" -- \
    $ferry map test "$here/orders_basic.lua" --input "$tmp/canceled.json"

printf '{"number": "9", "status": "processing", "lines": []}\n' >"$tmp/empty.json"
check "a record error names file and line and exits 1" 1 "orders_basic.lua:15: order 9 has no lines" -- \
    $ferry map test "$here/orders_basic.lua" --input "$tmp/empty.json"

printf 'function map(r)\n  return {a = }\nend\n' >"$tmp/broken.lua"
check "a script that does not load exits 3" 3 "broken.lua:2:" -- \
    $ferry map test "$tmp/broken.lua" --input "$tmp/empty.json"

check "a missing --input is a usage error" 2 "missing --input" -- $ferry map test "$here/orders_basic.lua"

mkdir "$tmp/suite"
cp "$here/orders_basic.lua" "$tmp/suite/"
sed 's/"terms_of_payment": "30"/"terms_of_payment": "31"/' "$here/paid_order.test.json" >"$tmp/suite/paid_order.test.json"
check "a failing case fails the suite" 1 "0 passed, 1 failed" -- $ferry map test --suite "$tmp/suite"

[ "$failed" -eq 0 ]

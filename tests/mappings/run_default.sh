#!/bin/sh
# run_default.sh - the default mappings' own tests
# (share/ferry/mappings/tests/*.test.json, canonical records as the plugins
# read them) through `ferry map test --suite --tap`.  Speaks TAP.
#
# Environment (set by `make check`): FERRY_BIN, FERRY_TOP_SRCDIR,
# FERRY_TOP_BUILDDIR, FERRY_DATADIR.
set -u

srcdir=${FERRY_TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${FERRY_TOP_BUILDDIR:-.}
ferry=${FERRY_BIN:-$builddir/ferry}
: "${FERRY_DATADIR:=$srcdir/share/ferry}"
export FERRY_DATADIR

exec "$ferry" map test --suite "$srcdir/share/ferry/mappings/tests" --tap

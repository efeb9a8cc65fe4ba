#!/bin/sh
# The example out-of-tree plugin (doc/examples/jsonfile-plugin) builds with
# nothing but the installed headers and `pkg-config --cflags --libs
# ferry-plugin`, and ferry loads it.  The "install" is a scratch prefix laid
# out as `make install` lays it out (make installcheck repeats this against
# the real install).  TAP output.
set -u
SRC=${FERRY_TOP_SRCDIR:-..}
BUILD=${FERRY_TOP_BUILDDIR:-.}
FERRY=${FERRY_BIN:-./ferry}
PREFIX=${FERRY_INSTALLED_PREFIX:-}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ferry-example.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
n=0; failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

if [ -z "$PREFIX" ]; then
    PREFIX="$TMP/prefix"
    mkdir -p "$PREFIX/include/ferry" "$PREFIX/lib/pkgconfig"
    cp "$SRC/core/include/ferry/plugin.h" "$SRC/core/include/ferry/host.h" "$BUILD/core/include/ferry/version.h" "$PREFIX/include/ferry/"
    sed -e "s|^prefix=.*|prefix=$PREFIX|" -e "s|^exec_prefix=.*|exec_prefix=$PREFIX|" \
        -e "s|^libdir=.*|libdir=$PREFIX/lib|" -e "s|^includedir=.*|includedir=$PREFIX/include|" \
        "$BUILD/ferry-plugin.pc" >"$PREFIX/lib/pkgconfig/ferry-plugin.pc"
fi
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"

cflags=$(pkg-config --cflags ferry-plugin 2>"$TMP/pc.err")
if [ $? -eq 0 ]; then ok "pkg-config knows ferry-plugin"; else not_ok "pkg-config ferry-plugin"; sed 's/^/# /' "$TMP/pc.err"; fi
case "$cflags" in *"$PREFIX/include"*) ok "its cflags point at the installed headers" ;; *) not_ok "cflags: $cflags" ;; esac

# Build from a copy outside the source tree, so nothing of the tree can leak in.
cp "$SRC/doc/examples/jsonfile-plugin/jsonfile.c" "$SRC/doc/examples/jsonfile-plugin/Makefile" "$TMP/"
if make -s -C "$TMP" OUT="$TMP" CC="${CC:-cc}" >"$TMP/build.log" 2>&1; then ok "the example builds with the installed header only"
else not_ok "example build failed"; sed 's/^/# /' "$TMP/build.log"; fi

syms=$(nm -D --defined-only "$TMP/jsonfile.so" 2>/dev/null | awk '$2 == "T" {print $3}')
if [ "$syms" = "ferry_plugin_entry" ]; then ok "it exports only ferry_plugin_entry"; else not_ok "exported: $syms"; fi

export FERRY_DB="$TMP/ferry.db"
out=$(FERRY_PLUGIN_PATH="$TMP" "$FERRY" plugin list --json 2>"$TMP/err")
if echo "$out" | grep -q '"name": "jsonfile"'; then ok "ferry loads it"; else not_ok "ferry did not load it"; echo "$out" | sed 's/^/# /'; sed 's/^/# /' "$TMP/err"; fi

echo "1..$n"
[ "$failed" -eq 0 ]

#!/bin/sh
# CLI tests for the ferry command, in TAP: help, version, exit codes, bad
# arguments, plugin listing, connections with masked secrets, flow export and
# import, the store's refusal of a newer schema.
#
# Environment (set by make check): FERRY_BIN, FERRY_TEST_PLUGIN_DIR.
set -u

FERRY=${FERRY_BIN:-./ferry}
PLUGINS=${FERRY_TEST_PLUGIN_DIR:-tests/plugins/.libs}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ferry-cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export FERRY_DB="$TMP/store/ferry.db"
export FERRY_PLUGIN_PATH="$PLUGINS"
unset FERRY_LOG_LEVEL

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
# check NAME EXPECTED_RC COMMAND... : runs COMMAND, keeps stdout/stderr in $OUT/$ERR
check() {
    name=$1; want=$2; shift 2
    "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    OUT=$(cat "$TMP/out"); ERR=$(cat "$TMP/err")
    if [ "$got" -eq "$want" ]; then ok "$name"; else
        not_ok "$name (exit $got, wanted $want)"; sed 's/^/# /' "$TMP/err" | head -5; fi
}
contains() { # contains NAME HAYSTACK NEEDLE
    case "$2" in *"$3"*) ok "$1" ;; *) not_ok "$1"; echo "# '$3' not in: $(echo "$2" | head -3)" ;; esac
}
lacks() {
    case "$2" in *"$3"*) not_ok "$1"; echo "# '$3' found" ;; *) ok "$1" ;; esac
}

check "--help exits 0" 0 "$FERRY" --help
contains "--help shows usage and commands" "$OUT" "usage: ferry"
contains "--help documents exit codes" "$OUT" "Exit codes"
check "--version exits 0" 0 "$FERRY" --version
contains "--version names ferry and the ABI" "$OUT" "plugin ABI 1."
check "no command is a usage error" 2 "$FERRY"
check "unknown command exits 2" 2 "$FERRY" frobnicate
contains "unknown command is named" "$ERR" "unknown command 'frobnicate'"
check "unknown global option exits 2" 2 "$FERRY" --frob
for cmd in plugin connection flow run log dead purge map status alerts settings setup; do
    check "ferry $cmd --help exits 0" 0 "$FERRY" "$cmd" --help
    contains "ferry $cmd --help prints its usage" "$OUT" "usage: ferry $cmd"
done
check "flow add without a name is a usage error" 2 "$FERRY" flow add --kind orders
check "flow add with an unknown option is a usage error" 2 "$FERRY" flow add x --colour red
check "connection without subcommand is a usage error" 2 "$FERRY" connection
check "connection bogus subcommand exits 2" 2 "$FERRY" connection bogus

check "plugin list exits 0" 0 "$FERRY" plugin list
contains "plugin list shows the good test plugin" "$OUT" "testgood"
contains "plugin list names refused files with a reason" "$OUT" "wrong_abi.so: built for plugin ABI 99"
check "plugin list --json exits 0" 0 "$FERRY" plugin list --json
if echo "$OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); p=[x for x in d["plugins"] if x["name"]=="testgood"][0]; assert p["version"]=="1.2.3" and p["abi"].startswith("1.") and p["entities"][0]["name"]=="thing" and any(s["secret"] for s in p["settings"]); assert d["refused"]' 2>"$TMP/py"; then
    ok "plugin list --json has name, version, ABI, path, entities, settings, refusals"
else not_ok "plugin list --json content"; sed 's/^/# /' "$TMP/py"; fi
check "plugin show unknown exits 3" 3 "$FERRY" plugin show nosuch

check "connection add stores a connection" 0 "$FERRY" connection add shop --plugin testgood --set url=https://shop.example --set password=Sup3rSecretValue
echo "file-secret-value-42" >"$TMP/secret.txt"
check "connection add reads a secret from @file" 0 "$FERRY" connection add books --plugin testgood --set url=https://books.example --set "password=@$TMP/secret.txt"
check "connection add with a bad setting exits 3" 3 "$FERRY" connection add bad --plugin testgood --set url=ftp://x
contains "the bad setting is named" "$ERR" "url"
check "connection add with an unknown plugin exits 3" 3 "$FERRY" connection add x --plugin nosuch --set a=b
check "connection show exits 0" 0 "$FERRY" connection show shop
lacks "connection show never prints the secret" "$OUT" "Sup3rSecretValue"
contains "connection show masks it" "$OUT" "***"
check "connection show --json" 0 "$FERRY" connection show books --json
lacks "connection show --json never prints the secret" "$OUT" "file-secret-value-42"
check "connection list" 0 "$FERRY" connection list
contains "connection list shows both" "$OUT" "books"
mode=$(stat -c %a "$FERRY_DB")
if [ "$mode" = "600" ]; then ok "store file has mode 0600"; else not_ok "store file mode is $mode"; fi
if grep -q "Sup3rSecretValue" "$TMP/err" 2>/dev/null; then not_ok "secret leaked to stderr"; else ok "no secret on stderr"; fi

check "flow add" 0 "$FERRY" flow add orders --kind orders --source shop:thing --target books:thing \
    --set 'statuses=["processing"]' --set document_type=invoice --map payment_terms:checkmo=30
check "flow add with an unknown setting exits 3" 3 "$FERRY" flow add o2 --kind orders --source shop:thing --target books:thing --set colour=red
contains "the unknown setting's path is named" "$ERR" "\$.settings.colour"
check "flow export" 0 "$FERRY" flow export orders -o "$TMP/orders.json"
check "flow import of the export under --replace" 0 "$FERRY" flow import "$TMP/orders.json" --replace
check "flow export again" 0 "$FERRY" flow export orders -o "$TMP/orders2.json"
if cmp -s "$TMP/orders.json" "$TMP/orders2.json"; then ok "exported, imported and exported again is identical"; else not_ok "export round trip differs"; diff "$TMP/orders.json" "$TMP/orders2.json" | sed 's/^/# /'; fi
"$FERRY" flow export orders >"$TMP/orders3.json"
if cmp -s "$TMP/orders.json" "$TMP/orders3.json"; then ok "export -o FILE writes what export to stdout writes"; else not_ok "export -o differs from stdout"; fi
check "flow add with a mapping that does not exist exits 3" 3 "$FERRY" flow add o3 --kind orders --source shop:thing --target books:thing --mapping "$TMP/nosuch.lua"
contains "the missing mapping is named" "$ERR" "nosuch.lua"
check "flow add with a mapping found nowhere exits 3" 3 "$FERRY" flow add o3 --kind orders --source shop:thing --target books:thing --mapping nosuch.lua
contains "where it was looked for is said" "$ERR" "looked in ."
printf 'function map(r) return r end\n' >"$TMP/mine.lua"
check "flow add with a mapping relative to the current directory" 0 sh -c 'cd "$1" && "$2" flow add o4 --kind orders --source shop:thing --target books:thing --mapping mine.lua' sh "$TMP" "$FERRY"
check "flow show of it" 0 "$FERRY" flow show o4 --json
contains "the relative mapping is stored as an absolute path (a cron job runs elsewhere)" "$OUT" "\"$TMP/mine.lua\""
check "flow add with the name of a shipped mapping" 0 "$FERRY" flow add o5 --kind orders --source shop:thing --target books:thing --mapping orders.lua
mkdir -p "$TMP/elsewhere" && printf 'function map(r) return r end\n' >"$TMP/elsewhere/orders.lua"
check "flow set from a directory holding another orders.lua" 0 sh -c 'cd "$1" && "$2" flow set o5 comment_back=false' sh "$TMP/elsewhere" "$FERRY"
check "flow show o5" 0 "$FERRY" flow show o5 --json
contains "flow set keeps the stored mapping name (it resolves only a --mapping given to it)" "$OUT" '"mapping": "orders.lua"'
lacks "flow set did not pick up the other directory's file" "$OUT" "elsewhere"
check "flow remove o5" 0 "$FERRY" flow remove o5
check "flow remove o4" 0 "$FERRY" flow remove o4
sed 's/"enabled": true/"enabled": "yes"/' "$TMP/orders.json" >"$TMP/bad.json"
check "flow import of a wrong type exits 3" 3 "$FERRY" flow import "$TMP/bad.json" --replace
contains "the wrong type's path is named" "$ERR" "\$.enabled"
echo '{"name": "broken",' >"$TMP/broken.json"
check "flow import of broken JSON exits 3" 3 "$FERRY" flow import "$TMP/broken.json"
contains "broken JSON names file and line" "$ERR" "broken.json:"
check "flow disable" 0 "$FERRY" flow disable orders
check "flow list --json" 0 "$FERRY" flow list --json
contains "flow list shows it disabled" "$OUT" '"enabled": false'
check "flow set changes a setting" 0 "$FERRY" flow set orders totals_tolerance=0.10
check "flow show" 0 "$FERRY" flow show orders
contains "flow show has the new setting" "$OUT" '"totals_tolerance": 0.1'
check "connection remove refused while a flow uses it" 3 "$FERRY" connection remove shop
contains "the flow is named" "$ERR" "flow orders"
check "flow remove" 0 "$FERRY" flow remove orders
check "connection remove" 0 "$FERRY" connection remove shop

check "settings list" 0 "$FERRY" settings
contains "settings lists the retention" "$OUT" "log_retention_days"
check "settings set of an unknown name exits 3" 3 "$FERRY" settings set colour=red
check "settings set of a bad retention exits 3" 3 "$FERRY" settings set log_retention_days=0
check "settings set retention" 0 "$FERRY" settings set log_retention_days=30
check "settings get retention" 0 "$FERRY" settings get log_retention_days
contains "the new retention is kept" "$OUT" "30"
check "status with nothing run yet" 0 "$FERRY" status
contains "status shows the connections" "$OUT" "CONNECTIONS"
check "status --json" 0 "$FERRY" status --json
check "alerts with none" 0 "$FERRY" alerts
check "run of an unknown flow exits 3" 3 "$FERRY" run nosuchflow
check "run without a flow is a usage error" 2 "$FERRY" run
check "log with no runs" 0 "$FERRY" log
check "dead list empty" 0 "$FERRY" dead list
check "purge --older-than abc is refused, not taken as 0 days" 2 "$FERRY" purge --older-than abc
contains "the bad value is named" "$ERR" "invalid value 'abc' for --older-than"
check "purge --older-than 5x is refused" 2 "$FERRY" purge --older-than 5x
check "log --limit 0 is refused" 2 "$FERRY" log --limit 0
check "a global option without its value is a usage error" 2 "$FERRY" --db
contains "the missing value is said" "$ERR" "option '--db' needs a value"
check "a command option without its value is a usage error" 2 "$FERRY" log --kind
contains "the missing value is said for a command option" "$ERR" "option '--kind' needs a value"
check "purge --older-than 30" 0 "$FERRY" purge --older-than 30
check "purge --matching too short is refused" 3 "$FERRY" purge --matching ab

sqlite3 "$FERRY_DB" "PRAGMA user_version=999" 2>/dev/null || python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('PRAGMA user_version=999'); c.commit()" "$FERRY_DB"
check "a store from a newer ferry is refused with exit 5" 5 "$FERRY" connection list
contains "the refusal says why" "$ERR" "newer ferry"
check "--db overrides FERRY_DB" 0 "$FERRY" --db "$TMP/other.db" connection list

echo "1..$n"
[ "$failed" -eq 0 ]

/*
 * The Lua sandbox under attack: escape and exhaustion attempts, each refused
 * with a clear error, and after each one the very same runtime maps the
 * next good record exactly as a fresh runtime does.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "lua_runtime.h"
#include "testing.h"
#include "util.h"

/*
 * One script holds every attack; map() runs attacks[record.attack] first,
 * then builds the good result.  Line numbers matter to one test below.
 */
static const char script[] =
    "local attacks = {}\n"
    "attacks['io.open'] = function() return io.open('/etc/passwd') end\n"
    "attacks['os.execute'] = function() return os.execute('id') end\n"
    "attacks['os.getenv'] = function() return os.getenv('HOME') end\n"
    "attacks['os.exit'] = function() os.exit(1) end\n"
    "attacks['os.remove'] = function() os.remove('/tmp/x') end\n"
    "attacks['bytecode'] = function()\n"
    "  local f, e = load(string.dump(function() return 1 end), 'dumped', 'b')\n"
    "  assert(f, e)\n"
    "end\n"
    "attacks['loadstring'] = function() return loadstring('return 1') end\n"
    "attacks['dofile'] = function() return dofile('/etc/passwd') end\n"
    "attacks['loadfile'] = function() return loadfile('/etc/passwd') end\n"
    "attacks['load io'] = function() return load('return io.open')()('/etc/passwd') end\n"
    "attacks['require C module'] = function() return require('socket.core') end\n"
    "attacks['require absolute'] = function() return require('/etc/passwd') end\n"
    "attacks['require parent'] = function() return require('../../etc/passwd') end\n"
    "attacks['require dotdot'] = function() return require('a..b') end\n"
    "attacks['package.loadlib'] = function() return package.loadlib('libc.so.6', 'system') end\n"
    "attacks['debug.getregistry'] = function() return debug.getregistry() end\n"
    "attacks['string.rep bomb'] = function() return string.rep('x', 2^40) end\n"
    "attacks['string.rep many'] = function() local t = {} for i = 1, 1e6 do t[i] = string.rep('y', 4096) end end\n"
    "attacks['table growth'] = function() local t = {} for i = 1, 1e9 do t[i] = {i, i, i, i} end end\n"
    "attacks['infinite loop'] = function()\n"
    "  while true do end\n"
    "end\n"
    "attacks['loop in pcall'] = function()\n"
    "  for i = 1, 3 do pcall(function() while true do end end) end\n"
    "  return 'swallowed'\n"
    "end\n"
    "attacks['loop in xpcall handler'] = function()\n"
    "  xpcall(function() error('x') end, function() while true do end end)\n"
    "  return 'swallowed'\n"
    "end\n"
    "attacks['deep recursion'] = function() local function f(n) return f(n + 1) + 1 end return f(1) end\n"
    "attacks['coroutine loop'] = function()\n"
    "  local co = coroutine.wrap(function() while true do coroutine.yield() end end)\n"
    "  while true do co() end\n"
    "end\n"
    "attacks['loop inside a coroutine'] = function()\n"
    "  coroutine.resume(coroutine.create(function() while true do end end))\n"
    "  return 'swallowed'\n"
    "end\n"
    "attacks['string metatable'] = function() getmetatable('').__index.upper = function() return 'pwned' end end\n"
    "attacks['setmetatable ferry'] = function() setmetatable(ferry, {__index = function() return 'pwned' end}) end\n"
    "attacks['assign into ferry'] = function() ferry.round = function() return 'pwned' end end\n"
    "attacks['rawset ferry'] = function() rawset(ferry, 'round', function() return 'pwned' end) end\n"
    "attacks['rawset string'] = function() rawset(string, 'upper', function() return 'pwned' end) end\n"
    "attacks['rawset ferry.str'] = function() rawset(ferry.str, 'upper', function() return 'pwned' end) end\n"
    "attacks['table.insert into library'] = function() table.insert(math, 'pwned') end\n"
    "attacks['pairs leaks the real table'] = function()\n"
    "  local _, state = pairs(string)\n"
    "  state.upper = function() return 'pwned' end\n"
    "end\n"
    "attacks['_G and _ENV tampering'] = function()\n"
    "  _G.ferry = nil; string = nil\n"
    "  _ENV = setmetatable({}, {__index = function() error('hijacked') end})\n"
    "end\n"
    "attacks['set a global'] = function() leaked = 'secret from an earlier record'; counter = 99 end\n"
    "attacks['collectgarbage stop'] = function() collectgarbage('stop') end\n"
    "attacks['collectgarbage collect'] = function() collectgarbage() end\n"
    "attacks['math.randomseed'] = function() math.randomseed(42) end\n"
    "attacks['table.move bomb'] = function() table.move({}, 1, math.maxinteger - 1, 2) end\n"
    "attacks['table.insert with a lying __len'] = function()\n"
    "  table.insert(setmetatable({}, {__len = function() return 2^62 end}), 1, 'x')\n"
    "end\n"
    "attacks['table.concat with __index'] = function()\n"
    "  table.concat(setmetatable({}, {__index = rawlen}), '', 1, math.maxinteger)\n"
    "end\n"
    "attacks['table.sort with metamethods'] = function()\n"
    "  table.sort(setmetatable({}, {__len = function() return 2^31 - 2 end, __index = rawlen}))\n"
    "end\n"
    "attacks['pattern backtracking bomb'] = function() return string.find(string.rep('a', 30000), '.-.-.-.-b') end\n"
    "attacks['gsub backtracking bomb'] = function() return (string.rep('a', 20000)):gsub('(.-)b', '%1') end\n"
    "attacks['__gc finalizer'] = function() setmetatable({}, {__gc = function() while true do end end}) end\n"
    "attacks['error object with a looping __tostring'] = function()\n"
    "  error(setmetatable({}, {__tostring = function() while true do end end}))\n"
    "end\n"
    "attacks['memory in a coroutine'] = function()\n"
    "  local cos = {} for i = 1, 1e6 do cos[i] = coroutine.create(function() end) end\n"
    "end\n"
    "attacks['load with a reader that never ends'] = function() return load(function() return 'x = 1 ' end) end\n"
    "attacks['require a missing module'] = function() return require('no_such_module_here') end\n"
    "attacks['gsub bomb'] = function() local s = string.rep('a', 20000) return (s:gsub('.', s)) end\n"
    "attacks['concat bomb'] = function() local s, t = string.rep('c', 1000000), {} for i = 1, 12 do t[i] = s end "
    "return table.concat(t) end\n"
    "\n"
    "function map(r, ctx)\n"
    "  local result\n"
    "  if r.attack then result = attacks[r.attack]() end\n"
    "  return {key = r.key, total = ferry.round(r.total, 2), upper = ferry.str.upper('åäö') .. ('x'):upper(),\n"
    "          dice = math.random(1000000), leaked = leaked, counter = counter, result = result,\n"
    "          parts = #ferry.str.split('a,b,c', ','), mt = getmetatable('')}\n"
    "end\n";

static const json_t *good_record(void)
{
    static json_t *rec;
    if (rec == NULL) {
        rec = json_pack("{s:s, s:f}", "key", "good-1", "total", 12.345);
    }
    return rec;
}

static void quiet_log(void *ud, int level, const char *message)
{
    (void)ud;
    (void)level;
    (void)message;
}

static ferry_lua *new_runtime(ferry_lua_options *extra, ferry_error *err)
{
    ferry_lua_options o;
    if (extra != NULL) {
        o = *extra;
    } else {
        memset(&o, 0, sizeof(o));
    }
    o.flow = "sandbox-test";
    o.log = quiet_log;
    if (o.memory_limit == 0) {
        o.memory_limit = 16u * 1024u * 1024u;
    }
    if (o.instruction_limit == 0) {
        o.instruction_limit = 2000000;
    }
    ferry_lua *lua = ferry_lua_create(&o, err);
    if (lua != NULL && ferry_lua_load_buffer(lua, "sandbox.lua", script, strlen(script), NULL, err) != FERRY_OK) {
        printf("# load failed: %s\n", err->message);
    }
    return lua;
}

/* What a fresh runtime makes of the good record. */
static json_t *expected_good(void)
{
    ferry_error err;
    ferry_lua_result res;
    ferry_error_clear(&err);
    ferry_lua *lua = new_runtime(NULL, &err);
    if (lua == NULL || ferry_lua_map(lua, good_record(), NULL, &res, &err) != FERRY_OK) {
        printf("# the good record failed in a fresh runtime: %s\n", err.message);
        ferry_lua_destroy(lua);
        return NULL;
    }
    json_t *r = json_incref(json_array_get(res.records, 0));
    ferry_lua_result_clear(&res);
    ferry_lua_destroy(lua);
    return r;
}

TEST(a_fresh_runtime_maps_the_good_record)
{
    json_t *good = expected_good();
    CHECK(good != NULL);
    CHECK(json_real_value(json_object_get(good, "total")) == 12.35);
    CHECK_STR_EQ(json_string_value(json_object_get(good, "upper")), "ÅÄÖX");
    CHECK_INT_EQ(json_integer_value(json_object_get(good, "parts")), 3);
    CHECK_STR_EQ(json_string_value(json_object_get(good, "mt")), "ferry.string");
    CHECK(json_object_get(good, "leaked") == NULL);
    json_decref(good);
}

/* Every attack is refused with a message containing its phrase; NULL: the attack may "succeed" but must not stick. */
static const char *const attacks[][2] = {
    {"io.open", "io is not available in the ferry sandbox"},
    {"os.execute", "os.execute is not available in the ferry sandbox"},
    {"os.getenv", "os.getenv is not available in the ferry sandbox"},
    {"os.exit", "os.exit is not available in the ferry sandbox"},
    {"os.remove", "os.remove is not available in the ferry sandbox"},
    {"bytecode", "attempt to load a binary chunk (mode is 't')"},
    {"loadstring", "loadstring is not available in the ferry sandbox"},
    {"dofile", "dofile is not available in the ferry sandbox"},
    {"loadfile", "loadfile is not available in the ferry sandbox"},
    {"load io", "io is not available in the ferry sandbox"},
    {"require C module", "module 'socket.core' not found"},
    {"require absolute", "module name '/etc/passwd' is not allowed"},
    {"require parent", "module name '../../etc/passwd' is not allowed"},
    {"require dotdot", "module name 'a..b' is not allowed"},
    {"package.loadlib", "package is not available in the ferry sandbox"},
    {"debug.getregistry", "debug is not available in the ferry sandbox"},
    {"string.rep bomb", "would exceed the memory limit"},
    {"string.rep many", "sandbox.lua:22: memory limit of 16 MiB exceeded"},
    {"table growth", "sandbox.lua:23: memory limit of 16 MiB exceeded"},
    {"infinite loop", "sandbox.lua:25: instruction limit of 2000000 per record exceeded"},
    {"loop in pcall", "instruction limit of 2000000 per record exceeded"},
    {"loop in xpcall handler", "instruction limit of 2000000 per record exceeded"},
    {"deep recursion", "stack overflow|memory limit of 16 MiB exceeded"},
    {"coroutine loop", "instruction limit of 2000000 per record exceeded"},
    {"loop inside a coroutine", "instruction limit of 2000000 per record exceeded"},
    {"string metatable", "attempt to index a nil value (field '__index')"},
    {"setmetatable ferry", "cannot change a protected metatable"},
    {"assign into ferry", "attempt to modify read-only table 'ferry' (field 'round')"},
    {"rawset ferry", "rawset: table 'ferry' is read-only"},
    {"rawset string", "rawset: table 'string' is read-only"},
    {"rawset ferry.str", "rawset: table 'ferry.str' is read-only"},
    {"table.insert into library", "attempt to modify read-only table 'math'"},
    {"pairs leaks the real table", "attempt to index a nil value (local 'state')"},
    {"_G and _ENV tampering", NULL},
    {"set a global", NULL},
    {"collectgarbage stop", "collectgarbage('stop') is not available in the ferry sandbox"},
    {"collectgarbage collect", "collectgarbage('collect') is not available in the ferry sandbox"},
    {"math.randomseed", "math.randomseed is not available in the ferry sandbox"},
    {"table.move bomb", "instruction limit of 2000000 per record exceeded"},
    {"table.insert with a lying __len", "instruction limit of 2000000 per record exceeded"},
    {"table.concat with __index", "instruction limit of 2000000 per record exceeded"},
    {"table.sort with metamethods", "tables with __index, __newindex or __len are not supported"},
    {"pattern backtracking bomb", "instruction limit of 2000000 per record exceeded"},
    {"gsub backtracking bomb", "instruction limit of 2000000 per record exceeded"},
    {"__gc finalizer", "__gc is not available in the ferry sandbox"},
    {"error object with a looping __tostring", "error object is a table value"},
    {"memory in a coroutine", "limit"},
    {"load with a reader that never ends", "limit"},
    {"require a missing module", "module 'no_such_module_here' not found"},
    {"gsub bomb", "sandbox.lua:84: string.gsub: the result"},
    {"concat bomb", "sandbox.lua:85: table.concat: the result"},
};

/* True when text contains one of the '|'-separated phrases. */
static int contains_one_of(const char *text, const char *phrases)
{
    char buf[256];
    ferry_strlcpy(buf, phrases, sizeof(buf));
    for (char *p = buf, *bar; p != NULL; p = bar != NULL ? bar + 1 : NULL) {
        bar = strchr(p, '|');
        if (bar != NULL) {
            *bar = '\0';
        }
        if (strstr(text, p) != NULL) {
            return 1;
        }
    }
    return 0;
}

TEST(every_attack_is_refused_and_the_same_runtime_maps_the_next_record)
{
    ferry_error err;
    ferry_error_clear(&err);
    json_t *good = expected_good();
    ferry_lua *lua = new_runtime(NULL, &err);
    CHECK(lua != NULL && good != NULL);
    if (lua == NULL || good == NULL) {
        json_decref(good);
        ferry_lua_destroy(lua);
        return;
    }
    ferry_lua_stats st;
    ferry_lua_get_stats(lua, &st);
    size_t baseline = st.memory_used;
    size_t n = sizeof(attacks) / sizeof(attacks[0]);
    CHECK(n >= 40);
    for (size_t i = 0; i < n; i++) {
        json_t *rec = json_pack("{s:s, s:s, s:f}", "key", attacks[i][0], "attack", attacks[i][0], "total", 1.0);
        ferry_lua_result res;
        ferry_error_clear(&err);
        long long t0 = ferry_monotonic_ms();
        int rc = ferry_lua_map(lua, rec, NULL, &res, &err);
        long long took = ferry_monotonic_ms() - t0;
        if (attacks[i][1] != NULL) {
            CHECK_MSG(rc == FERRY_RECORD_ERROR, "attack '%s' was not refused (rc %d)", attacks[i][0], rc);
            CHECK_MSG(contains_one_of(err.message, attacks[i][1]), "attack '%s': message \"%s\" lacks \"%s\"",
                      attacks[i][0], err.message, attacks[i][1]);
            CHECK_MSG(strcmp(err.record, attacks[i][0]) == 0, "attack '%s': record key '%s'", attacks[i][0],
                      err.record);
            CHECK_MSG(strcmp(err.flow, "sandbox-test") == 0, "attack '%s': flow '%s'", attacks[i][0], err.flow);
        }
        CHECK_MSG(took < 5000, "attack '%s' took %lld ms", attacks[i][0], took);
        printf("# %-40s -> %s\n", attacks[i][0], rc == FERRY_OK ? "(mapped; must not stick)" : err.message);
        ferry_lua_result_clear(&res);
        json_decref(rec);

        /* the engine goes on: the same runtime maps the good record exactly as a fresh one */
        ferry_error_clear(&err);
        rc = ferry_lua_map(lua, good_record(), NULL, &res, &err);
        CHECK_MSG(rc == FERRY_OK, "after '%s' the good record failed: %s", attacks[i][0], err.message);
        if (rc == FERRY_OK) {
            json_t *got = json_array_get(res.records, 0);
            if (!json_equal(got, good)) {
                char *a = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
                char *b = json_dumps(good, JSON_COMPACT | JSON_SORT_KEYS);
                CHECK_MSG(0, "after '%s' the good record differs:\n#   got      %s\n#   expected %s", attacks[i][0], a,
                          b);
                free(a);
                free(b);
            }
        }
        ferry_lua_result_clear(&res);
    }
    /* nothing an attack left behind stays: the state is back near its size after loading */
    ferry_lua_get_stats(lua, &st);
    CHECK_MSG(st.memory_used < baseline + 512 * 1024, "memory %zu after the attacks, %zu before", st.memory_used,
              baseline);
    /* the state may pass its 16 MiB limit by the 1 MiB reserve (limit / 16) until the hook stops it */
    CHECK_MSG(st.memory_peak <= 17u * 1024u * 1024u, "peak %zu over the cap and its reserve", st.memory_peak);
    ferry_lua_destroy(lua);
    json_decref(good);
}

TEST(the_memory_limit_error_names_script_and_line_and_pcall_cannot_swallow_it)
{
    /* A script that grows its state past the limit inside a pcall: the record stops with the line
     * where the limit was passed (Lua's own out-of-memory error carries no position), the pcall
     * does not swallow it, and a script that only makes garbage beyond the limit is not stopped. */
    static const char src[] = "function map(r)\n"
                              "  if r.kind == 'garbage' then\n"
                              "    local n = 0\n"
                              "    for i = 1, 20000 do n = n + #(string.rep('g', 4096) .. i) end\n"
                              "    r.n = n\n"
                              "    return r\n"
                              "  end\n"
                              "  local ok = pcall(function()\n"
                              "    local t = {}\n"
                              "    for i = 1, 1e9 do t[i] = string.rep('m', 1000) .. i end\n"
                              "  end)\n"
                              "  r.swallowed = true\n"
                              "  return r\n"
                              "end\n";
    ferry_lua_options o;
    ferry_error err;
    ferry_lua_result res;
    memset(&o, 0, sizeof(o));
    o.memory_limit = 8u * 1024u * 1024u;
    o.log = quiet_log;
    ferry_error_clear(&err);
    ferry_lua *lua = ferry_lua_create(&o, &err);
    CHECK(lua != NULL);
    if (lua == NULL) {
        return;
    }
    CHECK_INT_EQ(ferry_lua_load_buffer(lua, "grow.lua", src, strlen(src), NULL, &err), FERRY_OK);
    json_t *grow = json_pack("{s:s, s:s}", "key", "k1", "kind", "grow");
    CHECK_INT_EQ(ferry_lua_map(lua, grow, NULL, &res, &err), FERRY_RECORD_ERROR);
    CHECK(res.records == NULL);
    CHECK_STR_EQ(err.where, "grow.lua");
    CHECK_INT_EQ(err.line, 10);
    CHECK_STR_CONTAINS(err.message, "grow.lua:10: memory limit of 8 MiB exceeded");
    ferry_lua_result_clear(&res);
    /* 80 MB of short-lived strings through an 8 MiB state: collected, never stopped */
    json_t *garbage = json_pack("{s:s, s:s}", "key", "k2", "kind", "garbage");
    ferry_error_clear(&err);
    CHECK_MSG(ferry_lua_map(lua, garbage, NULL, &res, &err) == FERRY_OK, "garbage record: %s", err.message);
    if (res.records != NULL) {
        CHECK(json_integer_value(json_object_get(json_array_get(res.records, 0), "n")) > 20000 * 4096);
    }
    ferry_lua_result_clear(&res);
    ferry_lua_stats st;
    ferry_lua_get_stats(lua, &st);
    CHECK_MSG(st.memory_peak <= o.memory_limit + o.memory_limit / 16, "peak %zu", st.memory_peak);
    json_decref(grow);
    json_decref(garbage);
    ferry_lua_destroy(lua);
}

TEST(the_instruction_limit_error_names_script_and_line_and_pcall_cannot_swallow_it)
{
    ferry_error err;
    ferry_error_clear(&err);
    ferry_lua *lua = new_runtime(NULL, &err);
    json_t *rec = json_pack("{s:s, s:s, s:f}", "key", "k", "attack", "loop in pcall", "total", 1.0);
    ferry_lua_result res;
    CHECK_INT_EQ(ferry_lua_map(lua, rec, NULL, &res, &err), FERRY_RECORD_ERROR);
    CHECK(res.records == NULL);
    CHECK_STR_EQ(err.where, "sandbox.lua");
    CHECK_INT_EQ(err.line, 28);
    CHECK_STR_CONTAINS(err.message, "sandbox.lua:28: instruction limit");
    json_decref(rec);
    ferry_lua_destroy(lua);
}

/* `return pcall(f)` returns straight to the runtime: no instruction of the script runs after the limit */
TEST(a_limit_swallowed_by_a_tail_called_pcall_still_fails_the_record)
{
    static const char src[] = "function map(r)\n  return pcall(function() while true do end end)\nend\n";
    ferry_error err;
    ferry_lua_result res;
    ferry_lua_options o;
    memset(&o, 0, sizeof(o));
    o.instruction_limit = 100000;
    ferry_error_clear(&err);
    ferry_lua *lua = ferry_lua_create(&o, &err);
    CHECK_INT_EQ(ferry_lua_load_buffer(lua, "tail.lua", src, strlen(src), NULL, &err), FERRY_OK);
    json_t *rec = json_object();
    CHECK_INT_EQ(ferry_lua_map(lua, rec, NULL, &res, &err), FERRY_RECORD_ERROR);
    CHECK_STR_CONTAINS(err.message, "tail.lua");
    CHECK_STR_CONTAINS(err.message, "instruction limit of 100000 per record exceeded");
    CHECK_STR_NOT_CONTAINS(err.message, ":0:");
    json_decref(rec);
    ferry_lua_destroy(lua);
}

TEST(the_time_limit_stops_a_loop_when_the_instruction_budget_is_huge)
{
    ferry_error err;
    ferry_lua_options o;
    memset(&o, 0, sizeof(o));
    o.instruction_limit = 1000000000000LL;
    o.time_limit_ms = 200;
    ferry_error_clear(&err);
    ferry_lua *lua = new_runtime(&o, &err);
    json_t *rec = json_pack("{s:s, s:s, s:f}", "key", "k", "attack", "infinite loop", "total", 1.0);
    ferry_lua_result res;
    long long t0 = ferry_monotonic_ms();
    CHECK_INT_EQ(ferry_lua_map(lua, rec, NULL, &res, &err), FERRY_RECORD_ERROR);
    long long took = ferry_monotonic_ms() - t0;
    CHECK_STR_CONTAINS(err.message, "time limit of 200 ms per record exceeded");
    CHECK_MSG(took >= 150 && took < 3000, "took %lld ms", took);
    json_decref(rec);
    ferry_lua_destroy(lua);
}

TEST(string_rep_of_an_empty_string_returns_at_once)
{
    static const char src[] =
        "function map(r) return {n = #string.rep('', math.maxinteger), m = #('' ):rep(1e18, '')} end";
    ferry_error err;
    ferry_lua_result res;
    ferry_error_clear(&err);
    ferry_lua *lua = ferry_lua_create(NULL, &err);
    CHECK_INT_EQ(ferry_lua_load_buffer(lua, "rep.lua", src, strlen(src), NULL, &err), FERRY_OK);
    long long t0 = ferry_monotonic_ms();
    json_t *rec = json_object();
    CHECK_INT_EQ(ferry_lua_map(lua, rec, NULL, &res, &err), FERRY_OK);
    CHECK(ferry_monotonic_ms() - t0 < 1000);
    CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(res.records, 0), "n")), 0);
    ferry_lua_result_clear(&res);
    json_decref(rec);
    ferry_lua_destroy(lua);
}

TEST(what_the_sandbox_offers_is_there_and_what_it_removes_is_gone)
{
    static const char src[] =
        "function map(r)\n"
        "  local have = {}\n"
        "  for _, name in ipairs{'assert','error','getmetatable','ipairs','next','pairs','pcall','rawequal',\n"
        "      'rawget','rawlen','rawset','select','setmetatable','tonumber','tostring','type','xpcall','load',\n"
        "      'print','collectgarbage','require','string','table','math','utf8','coroutine','os','ferry','_G'} do\n"
        "    if _ENV[name] == nil then error('missing ' .. name) end\n"
        "  end\n"
        "  for _, name in ipairs{'time','date','clock','difftime'} do assert(os[name], name) end\n"
        "  assert(type(collectgarbage('count')) == 'number')\n"
        "  assert(_VERSION == 'Lua 5.4')\n"
        "  assert(getmetatable(_ENV) == 'ferry.env' and getmetatable(ferry) == 'ferry.readonly')\n"
        "  assert(_G == _ENV)\n"
        "  local f = load('return 1 + ...'); assert(f(41) == 42)\n"
        "  local g = load('x = 5', 'chunk', 't', {}); g()\n"
        "  local n = 0; for k in pairs(string) do n = n + 1 end; assert(n > 10)\n"
        "  assert(#'abc' == 3 and ('%d'):format(7) == '7')\n"
        "  assert(select('#', string.find('hello world', 'o w')) == 2)\n"
        "  return {ok = true, n = n, t = os.time{year = 2024, month = 1, day = 1, hour = 0}}\n"
        "end\n";
    ferry_error err;
    ferry_lua_result res;
    ferry_error_clear(&err);
    ferry_lua *lua = ferry_lua_create(NULL, &err);
    CHECK_INT_EQ(ferry_lua_load_buffer(lua, "offers.lua", src, strlen(src), NULL, &err), FERRY_OK);
    json_t *rec = json_object();
    int rc = ferry_lua_map(lua, rec, NULL, &res, &err);
    CHECK_MSG(rc == FERRY_OK, "%s", err.message);
    ferry_lua_result_clear(&res);
    json_decref(rec);
    ferry_lua_destroy(lua);
}

TEST(globals_and_top_level_locals_do_not_leak_between_records)
{
    static const char src[] =
        "local seen = 0\n"
        "function map(r)\n"
        "  seen = seen + 1\n"
        "  local before = previous\n"
        "  previous = r.key\n"
        "  return {key = r.key, before = before or 'none', seen = seen, dice = math.random(1e9)}\n"
        "end\n";
    ferry_error err;
    ferry_lua_result res;
    ferry_error_clear(&err);
    ferry_lua *lua = ferry_lua_create(NULL, &err);
    CHECK_INT_EQ(ferry_lua_load_buffer(lua, "leak.lua", src, strlen(src), NULL, &err), FERRY_OK);
    json_int_t first_dice = 0;
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof(key), "r%d", i);
        json_t *rec = json_pack("{s:s}", "key", key);
        CHECK_INT_EQ(ferry_lua_map(lua, rec, NULL, &res, &err), FERRY_OK);
        json_t *out = json_array_get(res.records, 0);
        CHECK_STR_EQ(json_string_value(json_object_get(out, "before")), "none");
        CHECK_INT_EQ(json_integer_value(json_object_get(out, "seen")), 1);
        if (i == 0) {
            first_dice = json_integer_value(json_object_get(out, "dice"));
        } else {
            CHECK_INT_EQ(json_integer_value(json_object_get(out, "dice")), first_dice); /* deterministic */
        }
        ferry_lua_result_clear(&res);
        json_decref(rec);
    }
    ferry_lua_destroy(lua);
}

/* Lua's own memerr idea: every allocation failure must be survivable - no crash, a clear error. */
TEST(every_memory_limit_from_tiny_to_enough_fails_cleanly_or_works)
{
    static const char src[] = "function map(r) local t = {} for i = 1, 50 do t[i] = r.name .. i end\n"
                              "  return {name = r.name, n = #t, list = t, up = ferry.str.upper(r.name)} end\n";
    json_t *rec = json_pack("{s:s, s:[i,i,i], s:{s:n}}", "name", "anna", "list", 1, 2, 3, "o", "x");
    int created = 0, loaded = 0, mapped = 0;
    for (size_t limit = 4096; limit < 400 * 1024; limit += 1536) {
        ferry_lua_options o;
        ferry_error err;
        ferry_lua_result res;
        memset(&o, 0, sizeof(o));
        o.memory_limit = limit;
        o.log = quiet_log;
        ferry_error_clear(&err);
        ferry_lua *lua = ferry_lua_create(&o, &err);
        if (lua == NULL) {
            CHECK_MSG(err.status == FERRY_FATAL && err.message[0], "limit %zu: create failed without a message", limit);
            continue;
        }
        created++;
        if (ferry_lua_load_buffer(lua, "mem.lua", src, strlen(src), NULL, &err) != FERRY_OK) {
            CHECK_MSG(err.status == FERRY_CONFIG_ERROR && strstr(err.message, "memory limit") != NULL,
                      "limit %zu: load failed with '%s'", limit, err.message);
            ferry_lua_destroy(lua);
            continue;
        }
        loaded++;
        for (int i = 0; i < 3; i++) {
            ferry_error_clear(&err);
            int rc = ferry_lua_map(lua, rec, NULL, &res, &err);
            if (rc == FERRY_OK) {
                mapped++;
                CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(res.records, 0), "n")), 50);
            } else {
                CHECK_MSG(rc == FERRY_RECORD_ERROR && strstr(err.message, "memory limit") != NULL,
                          "limit %zu: map failed with '%s'", limit, err.message);
            }
            ferry_lua_result_clear(&res);
        }
        ferry_lua_destroy(lua);
    }
    CHECK(created > 0 && loaded > 0 && mapped > 0);
    json_decref(rec);
}

int main(void)
{
    ferry_log_set_level(-1);
    RUN_TEST(a_fresh_runtime_maps_the_good_record);
    RUN_TEST(every_attack_is_refused_and_the_same_runtime_maps_the_next_record);
    RUN_TEST(the_memory_limit_error_names_script_and_line_and_pcall_cannot_swallow_it);
    RUN_TEST(the_instruction_limit_error_names_script_and_line_and_pcall_cannot_swallow_it);
    RUN_TEST(a_limit_swallowed_by_a_tail_called_pcall_still_fails_the_record);
    RUN_TEST(the_time_limit_stops_a_loop_when_the_instruction_budget_is_huge);
    RUN_TEST(string_rep_of_an_empty_string_returns_at_once);
    RUN_TEST(what_the_sandbox_offers_is_there_and_what_it_removes_is_gone);
    RUN_TEST(globals_and_top_level_locals_do_not_leak_between_records);
    RUN_TEST(every_memory_limit_from_tiny_to_enough_fails_cleanly_or_works);
    TEST_MAIN_END();
}

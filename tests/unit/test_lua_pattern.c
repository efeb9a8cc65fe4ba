/*
 * lua_pattern.c against Lua's own string library: the same answers (and the
 * same errors) for find, match, gmatch and gsub over hand-picked and 20,000
 * random patterns - and, inside the sandbox, a step budget that stops
 * catastrophic backtracking.
 */
#include "config.h"

#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua_pattern.h"
#include "lua_runtime.h"
#include "testing.h"

/* Runs in a plain state: `lua` is Lua's string library, `ours` ours. */
static const char differential[] =
    "local lua, ours = string, ...\n"
    "local function pack(ok, ...) return {ok = ok, n = select('#', ...), ...} end\n"
    "local function show(r)\n"
    "  local parts = {tostring(r.ok)}\n"
    "  for i = 1, r.n do\n"
    "    local v = r[i]\n"
    "    if type(v) == 'string' and not r.ok then v = v:gsub('^[^:]*:%d+: ', ''):gsub(\" to '[^']*'\", \" to '?'\") "
    "end\n"
    "    parts[#parts + 1] = type(v) .. ':' .. tostring(v)\n"
    "  end\n"
    "  return table.concat(parts, '|')\n"
    "end\n"
    "local function all(lib, fn, ...)\n"
    "  if fn == 'gmatch' then\n"
    "    local s, p, init = ...\n"
    "    return pack(pcall(function()\n"
    "      local out = {}\n"
    "      for a, b in lib.gmatch(s, p, init) do out[#out + 1] = tostring(a) .. '/' .. tostring(b)\n"
    "        if #out > 200 then break end end\n"
    "      return table.concat(out, ',')\n"
    "    end))\n"
    "  end\n"
    "  return pack(pcall(lib[fn], ...))\n"
    "end\n"
    "local mismatches, first, checked = 0, nil, 0\n"
    "local function compare(fn, ...)\n"
    "  checked = checked + 1\n"
    "  local a, b = show(all(lua, fn, ...)), show(all(ours, fn, ...))\n"
    "  if a ~= b then\n"
    "    mismatches = mismatches + 1\n"
    "    if os.getenv('PATTERN_DEBUG') and mismatches < 15 then print(fn, string.format('%q %q %q', ...), a, b) end\n"
    "    if not first then\n"
    "      local args = {}\n"
    "      for i = 1, select('#', ...) do args[#args + 1] = string.format('%q', tostring((select(i, ...)))) end\n"
    "      first = fn .. '(' .. table.concat(args, ', ') .. '): lua ' .. a .. ' / ours ' .. b\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local subjects = {'', 'a', 'hello world', 'aaab', ' x = 1 ', 'THE (quick) fox', 'f(a(b)c)d', '123abc456',\n"
    "  'a.b.c', 'key=val; k2=v2', 'tab\\tnew\\nline', '\\0a\\0', 'åäö ÅÄÖ', 'abcabcabc', '[x]%y', '$^'}\n"
    "local patterns = {'a', '.', '%a+', '%d+', '%s*', '(%w+)=(%w+)', '^h', 'd$', 'o', '.-', '.-b', 'a*',\n"
    "  'a+b', 'a-b', 'a?b', '[%a%d]+', '[^%s]+', '[a-c]+', '[]]', '[^]]', '[%]]', '%b()', '%f[%w]%w+',\n"
    "  '()a()', '(a)(b)', '(a*(.)%w(%s*))', '%1', '(a)%1', '(%a)%1', '%', '(', ')', '[a', '%f', '%bx',\n"
    "  '%g+', '%p', '%c', '%x+', '%u%l', '%W', '%S+', '^$', '$', '^', '%.', 'x*$', '^(.-)%s*$', '[%-]',\n"
    "  '[a-]', '[-a]', '%z', '\\0', 'a\\0'}\n"
    "for _, s in ipairs(subjects) do\n"
    "  for _, p in ipairs(patterns) do\n"
    "    compare('find', s, p)\n"
    "    compare('find', s, p, 3)\n"
    "    compare('find', s, p, -2, true)\n"
    "    compare('match', s, p)\n"
    "    compare('match', s, p, 2)\n"
    "    compare('gmatch', s, p)\n"
    "    compare('gsub', s, p, '<%0>')\n"
    "    compare('gsub', s, p, '%1', 2)\n"
    "    compare('gsub', s, p, {a = 'A', hello = false, o = 7})\n"
    "    compare('gsub', s, p, function(x, y) if x == 'a' then return nil end return (x or '') .. '!' end)\n"
    "    compare('gsub', s, p, '%%')\n"
    "    compare('gsub', s, p, '%2')\n"
    "  end\n"
    "end\n"
    "local tokens = {'a', 'b', '.', '%a', '%d', '%s', '%w', '[ab]', '[^a]', '[a-c]', '%%', '(', ')', '()',\n"
    "  '%1', '%b()', '%f[%w]', '^', '$', '*', '+', '-', '?', 'x', ' ', '%.', '[%s%d]'}\n"
    "local seed = 12345\n"
    "local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n + 1 end\n"
    "for i = 1, 20000 do\n"
    "  local p = {}\n"
    "  for k = 1, rnd(6) do p[#p + 1] = tokens[rnd(#tokens)] end\n"
    "  p = table.concat(p)\n"
    "  local s = {}\n"
    "  for k = 1, rnd(12) - 1 do s[#s + 1] = ({'a', 'b', 'x', ' ', '1', '(', ')', '.'})[rnd(8)] end\n"
    "  s = table.concat(s)\n"
    "  compare(({'find', 'match', 'gmatch', 'gsub'})[rnd(4)], s, p, ({'<%0>', '%1'})[rnd(2)])\n"
    "end\n"
    "return mismatches, first or '', checked\n";

TEST(our_patterns_answer_like_luas_own_string_library)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    CHECK(luaL_loadstring(L, differential) == LUA_OK);
    lua_newtable(L);
    lua_getglobal(L, "string");
    lua_getfield(L, -1, "format");
    lua_setfield(L, -3, "format");
    lua_pop(L, 1);
    ferry_lua_pattern_install(L, -1);
    int rc = lua_pcall(L, 1, 3, 0);
    CHECK_MSG(rc == LUA_OK, "%s", rc == LUA_OK ? "" : lua_tostring(L, -1));
    if (rc == LUA_OK) {
        CHECK_MSG(lua_tointeger(L, -3) == 0, "%lld mismatches, the first: %s", (long long)lua_tointeger(L, -3),
                  lua_tostring(L, -2));
        CHECK(lua_tointeger(L, -1) > 30000);
        printf("# %lld calls compared\n", (long long)lua_tointeger(L, -1));
    }
    lua_close(L);
}

TEST(catastrophic_backtracking_is_stopped_in_the_sandbox)
{
    static const char *const bombs[] = {
        "return {string.find(string.rep('a', 40000), '.-.-.-.-.-b')}",
        "return {string.match(string.rep('a', 60000), '(.-)%s*x$')}",
        "return {(string.rep('ab', 30000)):gsub('.-.-c', '')}",
        "local n = 0 for w in string.gmatch(string.rep('a', 50000), 'a-a-a-b') do n = n + 1 end return {n}",
        "return {string.find(string.rep('(', 5000) .. 'x', '%b()')}", /* unbalanced: each start scans to the end */
        NULL};
    /* and ordinary work fits easily: a 100 kB gsub and a find in a long text */
    static const char ok_src[] = "function map(r)\n  local s = string.rep('word ', 20000)\n"
                                 "  local t, n = s:gsub('%w+', string.upper)\n"
                                 "  return {n = n, at = (s .. 'needle'):find('needle', 1, true)}\nend\n";
    ferry_lua_options oo;
    ferry_error e2;
    ferry_lua_result r2;
    memset(&oo, 0, sizeof(oo));
    ferry_error_clear(&e2);
    ferry_lua *ok = ferry_lua_create(&oo, &e2);
    CHECK(ferry_lua_load_buffer(ok, "ok.lua", ok_src, strlen(ok_src), NULL, &e2) == FERRY_OK);
    json_t *orec = json_object();
    CHECK_MSG(ferry_lua_map(ok, orec, NULL, &r2, &e2) == FERRY_OK, "%s", e2.message);
    CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(r2.records, 0), "n")), 20000);
    CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(r2.records, 0), "at")), 100001);
    ferry_lua_result_clear(&r2);
    json_decref(orec);
    ferry_lua_destroy(ok);
    for (int i = 0; bombs[i] != NULL; i++) {
        char src[512];
        snprintf(src, sizeof(src), "function map(r)\n  %s\nend\n", bombs[i]);
        ferry_lua_options o;
        ferry_error err;
        ferry_lua_result res;
        memset(&o, 0, sizeof(o));
        o.instruction_limit = 1000000;
        ferry_error_clear(&err);
        ferry_lua *lua = ferry_lua_create(&o, &err);
        CHECK(ferry_lua_load_buffer(lua, "bomb.lua", src, strlen(src), NULL, &err) == FERRY_OK);
        json_t *rec = json_object();
        int rc = ferry_lua_map(lua, rec, NULL, &res, &err);
        CHECK_MSG(rc == FERRY_RECORD_ERROR && strstr(err.message, "bomb.lua:2: instruction limit") != NULL,
                  "bomb %d: rc %d, %s", i, rc, err.message);
        ferry_lua_result_clear(&res);
        json_decref(rec);
        ferry_lua_destroy(lua);
    }
}

int main(void)
{
    RUN_TEST(our_patterns_answer_like_luas_own_string_library);
    RUN_TEST(catastrophic_backtracking_is_stopped_in_the_sandbox);
    TEST_MAIN_END();
}

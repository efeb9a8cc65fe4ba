-- ferry_util.lua - small helpers for mapping scripts: local util = require "ferry_util"
--
-- Shipped with ferry in share/ferry/lua; a module of the same name next to
-- a mapping script takes precedence.  Modules are loaded once per run and
-- shared by all records, so keep them free of per-record state.

local M = {}

-- True for nil, ferry.null and "" (after trimming spaces).
function M.blank(v)
  return v == nil or v == ferry.null or (type(v) == "string" and ferry.str.trim(v) == "")
end

-- The first argument that is not blank (see M.blank), or nil.
function M.coalesce(...)
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    if not M.blank(v) then
      return v
    end
  end
  return nil
end

-- t["a"]["b"]... for the path "a.b...", or nil as soon as a step is missing or null.
function M.get(t, path)
  local cur = t
  for part in string.gmatch(path, "[^.]+") do
    if type(cur) ~= "table" then
      return nil
    end
    cur = cur[tonumber(part) or part]
    if cur == nil or cur == ferry.null then
      return nil
    end
  end
  return cur
end

-- A new object with only the named fields of t (missing ones stay missing).
function M.pick(t, ...)
  local out = ferry.object{}
  for i = 1, select("#", ...) do
    local k = select(i, ...)
    out[k] = t[k]
  end
  return out
end

-- A copy of the object t without its null members.
function M.compact(t)
  local out = ferry.object{}
  for k, v in pairs(t) do
    if v ~= ferry.null then
      out[k] = v
    end
  end
  return out
end

return M

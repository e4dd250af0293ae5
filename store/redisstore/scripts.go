package redisstore

import (
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/tabkit/tabkit/store"
)

// luaPrelude holds what every script needs to decide whether a session is
// live at the store's clock, which is passed in: Redis's own clock is not
// the store's (tests move the store's), and expiry must agree with Load.
const luaPrelude = `
-- before reports whether deadline string a is earlier than b. Both have
-- 19 digits; Lua numbers are doubles, so compare the halves.
local function before(a, b)
  local ha, hb = tonumber(string.sub(a, 1, 10)), tonumber(string.sub(b, 1, 10))
  if ha ~= hb then return ha < hb end
  return tonumber(string.sub(a, 11)) < tonumber(string.sub(b, 11))
end

-- earlier returns the earlier of two optional deadlines (false: none).
local function earlier(a, b)
  if not a then return b end
  if not b then return a end
  if before(b, a) then return b end
  return a
end

-- expired reports whether a session with expiry exp is expired at now.
local function expired(exp, now)
  return exp and not before(now, exp)
end

-- expireAt sets the key's expiry to deadline exp rounded up to a
-- millisecond, plus grace ms, so Redis never drops a session before its
-- deadline, and the sweeper sees it first.
local function expireAt(key, exp, grace)
  local ms = tonumber(string.sub(exp, 1, 13))
  if string.sub(exp, 14) ~= '000000' then ms = ms + 1 end
  redis.call('PEXPIREAT', key, string.format('%d', ms + grace))
end

-- parseExpiring reads a value deadlines string (see formatExpiring in
-- layout.go) into a table from field to deadline string.
local function parseExpiring(s)
  local t = {}
  if not s then return t end
  local pos = 1
  while pos <= #s do
    local at = string.sub(s, pos, pos + 18)
    local len = string.sub(s, pos + 19, pos + 22)
    -- A corrupt length must not walk backwards for ever.
    if not string.match(at, '^%d+$') or #at ~= 19 or not string.match(len, '^%d%d%d%d$') then
      error('CORRUPT_DEADLINES')
    end
    local n = tonumber(len)
    local field = string.sub(s, pos + 23, pos + 22 + n)
    if #field ~= n then error('CORRUPT_DEADLINES') end
    t[field] = at
    pos = pos + 23 + n
  end
  return t
end

-- formatExpiring writes such a table back, ordered by field.
local function formatExpiring(t)
  local fields = {}
  for f in pairs(t) do table.insert(fields, f) end
  table.sort(fields)
  local parts = {}
  for i, f in ipairs(fields) do parts[i] = t[f] .. string.format('%04d', #f) .. f end
  return table.concat(parts)
end
`

// commitScript applies a delta made only of deadlines, expectations,
// deletes and sets (with or without value deadlines): the accounting of
// store.PlanCommit, redone in Lua so a plain write is one round trip. It
// checks everything before it writes anything, in PlanCommit's order:
// deadlines, the removal of values whose deadline passed, expectations,
// deletes, sets.
//
//	KEYS[1]  the session's hash
//	ARGV[1]  now, a deadline string
//	ARGV[2]  new LastSeen (Unix ns) or ""
//	ARGV[3]  new idle deadline or ""
//	ARGV[4]  new absolute deadline or ""
//	ARGV[5]  byte limit, 0 for none
//	ARGV[6]  grace in ms added to Redis's own expiry of the hash
//	ARGV[7]  e, the number of expectations
//	ARGV[8]  n, the number of fields to delete
//	ARGV[9..]  e triples: field, "1" (found) or "0" (missing), value;
//	           then n fields to delete;
//	           then triples to set: field, value, deadline string or ""
//
// It replies {"ok", version, bytes, tab bytes, blob, last seen, tab 0
// time, idle, abs, earlier, principal, value deadlines}, where earlier
// is "1" when the session's expiry moved earlier; or {"notfound"},
// {"moved"} (a Move's trace, see fieldMoved),
// {"conflict", field}, {"keyname", length}, {"notab", tab} or
// {"toolarge", bytes, limit}.
var commitScript = redis.NewScript(luaPrelude + strings.ReplaceAll(`
local key, now = KEYS[1], ARGV[1]
local head = redis.call('HMGET', key, '#v', '#b', '#i', '#a', '#t', '#e', '#r')
if not head[1] then
  if head[7] and before(now, head[7]) then return {'moved'} end
  return {'notfound'}
end
local oldexp = earlier(head[3], head[4])
if expired(oldexp, now) then return {'notfound'} end

local idle, abs = head[3], head[4]
if ARGV[3] ~= '' then idle = ARGV[3] end
if ARGV[4] ~= '' then abs = ARGV[4] end

local total = tonumber(head[2])
local start = total
local tabs = {}
for n, b in string.gmatch(head[5] or '', '(%d+)=(%-?%d+)') do tabs[n] = tonumber(b) end
local deadlines = parseExpiring(head[6])

-- parse returns the tab (a decimal string) of an encoded key, nil for a
-- session-wide one, and the length of the key's name.
local function parse(field)
  if string.sub(field, 1, 1) == 't' then
    local b1, b2, b3, b4 = string.byte(field, 2, 5)
    return string.format('%d', ((b1 * 256 + b2) * 256 + b3) * 256 + b4), #field - 5
  end
  return nil, #field - 1
end

-- pending holds this delta's writes: a value, or false for a deletion.
local pending = {}
local function current(field)
  local p = pending[field]
  if p ~= nil then return p end
  return redis.call('HGET', key, field)
end
local function account(tab, n)
  total = total + n
  if tab and tabs[tab] then tabs[tab] = tabs[tab] + n end
end
local function remove(field)
  deadlines[field] = nil
  local old = current(field)
  if old then
    local tab, namelen = parse(field)
    account(tab, -(namelen + #old))
    pending[field] = false
  end
end

-- Values whose time ran out read as missing from now on.
local lapsed = {}
for field, at in pairs(deadlines) do
  if expired(at, now) then table.insert(lapsed, field) end
end
for _, field in ipairs(lapsed) do remove(field) end

local nexp, ndel = tonumber(ARGV[7]), tonumber(ARGV[8])
local i = 9
for _ = 1, nexp do
  local field, found, want = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local v = current(field)
  if (v and '1' or '0') ~= found or (v and v ~= want) then return {'conflict', field} end
  i = i + 3
end
for _ = 1, ndel do
  remove(ARGV[i])
  i = i + 1
end

local openedZero = false
for j = i, #ARGV, 3 do
  local field, value, at = ARGV[j], ARGV[j + 1], ARGV[j + 2]
  local tab, namelen = parse(field)
  if namelen < 1 or namelen > MAX_KEY_NAME then return {'keyname', string.format('%d', namelen)} end
  if tab and tab ~= '0' and not tabs[tab] then return {'notab', tab} end
  local old = current(field)
  if old then account(tab, -(namelen + #old)) end
  if tab == '0' and not tabs['0'] then
    tabs['0'] = 0
    openedZero = true
  end
  account(tab, namelen + #value)
  pending[field] = value
  if at ~= '' then deadlines[field] = at else deadlines[field] = nil end
end

local limit = tonumber(ARGV[5])
if limit > 0 and total > limit and total > start then
  return {'toolarge', string.format('%d', total), ARGV[5]}
end

for field, value in pairs(pending) do
  if value then
    redis.call('HSET', key, field, value)
  else
    redis.call('HDEL', key, field)
  end
end
local order = {}
for n in pairs(tabs) do table.insert(order, tonumber(n)) end
table.sort(order)
local parts = {}
for j, n in ipairs(order) do
  local s = string.format('%d', n)
  parts[j] = s .. '=' .. string.format('%d', tabs[s])
end
local tabBytes = table.concat(parts, ';')
local expiring = formatExpiring(deadlines)
local version = redis.call('HINCRBY', key, '#v', 1)
redis.call('HSET', key, '#b', string.format('%d', total), '#t', tabBytes)
if expiring ~= '' then
  redis.call('HSET', key, '#e', expiring)
elseif head[6] then
  redis.call('HDEL', key, '#e')
end
if ARGV[2] ~= '' then redis.call('HSET', key, '#s', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', key, '#i', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', key, '#a', ARGV[4]) end
if openedZero then redis.call('HSET', key, '#z', now) end

local newexp = earlier(idle, abs)
local moved = '0'
if newexp and newexp ~= oldexp then
  expireAt(key, newexp, tonumber(ARGV[6]))
  if not oldexp or before(newexp, oldexp) then moved = '1' end
end
local rest = redis.call('HMGET', key, '#m', '#s', '#z', '#p')
return {'ok', string.format('%d', version), string.format('%d', total), tabBytes,
  rest[1] or '', rest[2] or '', rest[3] or '', idle or '', abs or '', moved,
  rest[4] or '', expiring}
`, "MAX_KEY_NAME", strconv.Itoa(store.MaxKeyName)))

// createScript writes a new session unless one is live under its ID. An
// expired record still waiting for Redis's expiry is replaced.
//
//	KEYS[1]  the session's hash
//	ARGV[1]  now, a deadline string
//	ARGV[2]  PEXPIREAT time in ms, or "" for none
//	ARGV[3..] field, value pairs
//
// It replies "ok" or "exists".
var createScript = redis.NewScript(luaPrelude + `
local key, now = KEYS[1], ARGV[1]
local head = redis.call('HMGET', key, '#v', '#i', '#a')
if head[1] and not expired(earlier(head[2], head[3]), now) then return 'exists' end
redis.call('DEL', key)
for i = 3, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
if ARGV[2] ~= '' then redis.call('PEXPIREAT', key, ARGV[2]) end
return 'ok'
`)

// reapScript deletes a session if it is expired at the store's clock.
//
//	KEYS[1]  the session's hash
//	ARGV[1]  now, a deadline string
//
// It replies {"gone"} when there is no session, {"swept", bytes,
// principal} when it deleted it, or {"live", expiry} (expiry "" when it
// has none).
var reapScript = redis.NewScript(luaPrelude + `
local key, now = KEYS[1], ARGV[1]
local head = redis.call('HMGET', key, '#v', '#b', '#i', '#a', '#p')
if not head[1] then return {'gone'} end
local exp = earlier(head[3], head[4])
if expired(exp, now) then
  redis.call('DEL', key)
  return {'swept', head[2] or '0', head[5] or ''}
end
return {'live', exp or ''}
`)

// deleteScript deletes a session and replies its principal ("" for
// none), so the caller can drop it from the principal's set.
//
//	KEYS[1]  the session's hash
var deleteScript = redis.NewScript(`
local p = redis.call('HGET', KEYS[1], '#p')
redis.call('DEL', KEYS[1])
return p or ''
`)

// unlistScript removes from a principal's set the sessions that are
// missing, expired or another principal's, in one step with reading
// them. It runs only on a single server: on a cluster the sessions live
// in other slots than the set.
//
//	KEYS[1]     the principal's set
//	KEYS[2..]   the sessions' hashes
//	ARGV[1]     now, a deadline string
//	ARGV[2]     the principal
//	ARGV[3..]   the sessions' IDs, in the order of their keys
//
// It replies the number of entries it removed.
var unlistScript = redis.NewScript(luaPrelude + `
local now, p = ARGV[1], ARGV[2]
local removed = 0
for i = 2, #KEYS do
  local head = redis.call('HMGET', KEYS[i], '#v', '#i', '#a', '#p')
  if not head[1] or expired(earlier(head[2], head[3]), now) or head[4] ~= p then
    removed = removed + redis.call('SREM', KEYS[1], ARGV[i + 1])
  end
end
return removed
`)

// evictScript deletes a session evicted by a principal limit, unless it
// no longer belongs to the principal.
//
//	KEYS[1]  the session's hash
//	ARGV[1]  the principal
//
// It replies 1 when it deleted the session, 0 otherwise.
var evictScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], '#p') ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`)

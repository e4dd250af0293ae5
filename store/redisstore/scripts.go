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
-- millisecond, so Redis never drops a session before its deadline.
local function expireAt(key, exp)
  local ms = tonumber(string.sub(exp, 1, 13))
  if string.sub(exp, 14) ~= '000000' then ms = ms + 1 end
  redis.call('PEXPIREAT', key, string.format('%d', ms))
end
`

// commitScript applies a delta made only of deadlines, deletes and sets:
// the accounting of store.PlanCommit, redone in Lua so a plain write is one
// round trip. It checks everything before it writes anything.
//
//	KEYS[1]  the session's hash
//	ARGV[1]  now, a deadline string
//	ARGV[2]  new LastSeen (Unix ns) or ""
//	ARGV[3]  new idle deadline or ""
//	ARGV[4]  new absolute deadline or ""
//	ARGV[5]  byte limit, 0 for none
//	ARGV[6]  n, the number of fields to delete, in ARGV[7..6+n]
//	ARGV[7+n..] field, value pairs to set
//
// It replies {"ok", version, bytes, tab bytes, blob, last seen, tab 0
// time, idle, abs, earlier}, where earlier is "1" when the session's
// expiry moved earlier; or {"notfound"}, {"keyname", length},
// {"notab", tab} or {"toolarge", bytes, limit}.
var commitScript = redis.NewScript(luaPrelude + strings.ReplaceAll(`
local key, now = KEYS[1], ARGV[1]
local head = redis.call('HMGET', key, '#v', '#b', '#i', '#a', '#t')
if not head[1] then return {'notfound'} end
local oldexp = earlier(head[3], head[4])
if expired(oldexp, now) then return {'notfound'} end

local idle, abs = head[3], head[4]
if ARGV[3] ~= '' then idle = ARGV[3] end
if ARGV[4] ~= '' then abs = ARGV[4] end

local total = tonumber(head[2])
local start = total
local tabs = {}
for n, b in string.gmatch(head[5] or '', '(%d+)=(%-?%d+)') do tabs[n] = tonumber(b) end

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

local ndel = tonumber(ARGV[6])
for i = 7, 6 + ndel do
  local field = ARGV[i]
  local old = current(field)
  if old then
    local tab, namelen = parse(field)
    account(tab, -(namelen + #old))
    pending[field] = false
  end
end

local openedZero = false
for i = 7 + ndel, #ARGV, 2 do
  local field, value = ARGV[i], ARGV[i + 1]
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
for i, n in ipairs(order) do
  local s = string.format('%d', n)
  parts[i] = s .. '=' .. string.format('%d', tabs[s])
end
local tabBytes = table.concat(parts, ';')
local version = redis.call('HINCRBY', key, '#v', 1)
redis.call('HSET', key, '#b', string.format('%d', total), '#t', tabBytes)
if ARGV[2] ~= '' then redis.call('HSET', key, '#s', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', key, '#i', ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HSET', key, '#a', ARGV[4]) end
if openedZero then redis.call('HSET', key, '#z', now) end

local newexp = earlier(idle, abs)
local moved = '0'
if newexp and newexp ~= oldexp then
  expireAt(key, newexp)
  if not oldexp or before(newexp, oldexp) then moved = '1' end
end
local rest = redis.call('HMGET', key, '#m', '#s', '#z')
return {'ok', string.format('%d', version), string.format('%d', total), tabBytes,
  rest[1] or '', rest[2] or '', rest[3] or '', idle or '', abs or '', moved}
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
// It replies {"gone"} when there is no session, {"swept", bytes} when it
// deleted it, or {"live", expiry} (expiry "" when it has none).
var reapScript = redis.NewScript(luaPrelude + `
local key, now = KEYS[1], ARGV[1]
local head = redis.call('HMGET', key, '#v', '#b', '#i', '#a')
if not head[1] then return {'gone'} end
local exp = earlier(head[3], head[4])
if expired(exp, now) then
  redis.call('DEL', key)
  return {'swept', head[2] or '0'}
end
return {'live', exp or ''}
`)

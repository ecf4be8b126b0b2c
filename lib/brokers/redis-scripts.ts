/**
 * The Redis broker's Lua scripts. Seqs are integers from 1 to 2^53 - 1, read only from decimal
 * digits and written with string.format('%d'): Lua's own number-to-string conversion writes
 * 1e+14, which XADD refuses as an id.
 */

// A seq from a Redis value or an argument, or nil when it is not one.
const SEQ_OF = `
local function seqOf (value)
  if type(value) ~= 'string' or #value > 16 or not string.match(value, '^%d+$') then return nil end
  local n = tonumber(value)
  if n > 9007199254740991 then return nil end
  return n
end
`

/**
 * One publish, atomically: the next seq (above the counter, the stream's last entry and the
 * publishing instance's floor, so it never goes back even when Redis lost the counter), XADD to
 * the stream (MAXLEN ~), one PUBLISH `<seq>:<bytes>`, and both keys' TTL renewed.
 * KEYS: seq key, stream key. ARGV: channel, message bytes, MAXLEN, floor, key TTL in ms.
 */
export const PUBLISH = `${SEQ_OF}
local seq = seqOf(redis.call('GET', KEYS[1])) or 0
local floor = seqOf(ARGV[4]) or 0
if floor > seq then seq = floor end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
if last[1] then
  local lastSeq = seqOf(string.match(last[1][1], '^(%d+)%-'))
  if lastSeq == nil then return redis.error_reply('wirebox: the last entry of ' .. KEYS[2] .. ' has no valid seq') end
  if lastSeq > seq then seq = lastSeq end
end
if seq >= 9007199254740991 then return redis.error_reply('wirebox: the seq of ' .. KEYS[1] .. ' would pass 2^53 - 1') end
seq = seq + 1
local id = string.format('%d', seq)
redis.call('SET', KEYS[1], id, 'PX', ARGV[5])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], id .. '-0', 'm', ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PUBLISH', ARGV[1], id .. ':' .. ARGV[2])
return id
`

/**
 * Keeps a listened topic's counter: renews its TTL, and puts it back to the listening instance's
 * floor when it is missing or lower (expired, or Redis restarted), so that seq never goes back
 * for live subscribers. Returns the counter (0 when there is none).
 * KEYS: seq key. ARGV: floor, key TTL in ms.
 */
export const KEEP = `${SEQ_OF}
local seq = seqOf(redis.call('GET', KEYS[1]))
local floor = seqOf(ARGV[1]) or 0
if seq == nil or seq < floor then
  if floor == 0 then return '0' end
  redis.call('SET', KEYS[1], string.format('%d', floor), 'PX', ARGV[2])
  return string.format('%d', floor)
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return string.format('%d', seq)
`

"""The Lua scripts Redis runs for each decision, one per algorithm.

Each script reads the key's state, decides and writes the new state in one step: Redis
runs a script atomically, so concurrent requests (from any worker or machine) can never
both take the last slot.  Time comes from Redis ``TIME`` inside the script, so app
servers with skewed clocks still agree.  The arithmetic mirrors
:mod:`avian.ratelimit.algorithms`.

Every script takes ``KEYS[1]`` (the key) and ``ARGV`` = limit, window seconds, then an
algorithm-specific value (refill rate or strict flag), and returns
``{allowed, remaining, reset_after, retry_after, now}`` with the times as strings: Redis
truncates Lua numbers to integers in replies.  Scores and stored times are formatted with
``%.6f`` because Lua's default number-to-string conversion keeps only 14 digits.
"""

from __future__ import annotations

import hashlib

__all__ = ["SCRIPTS", "Script"]

_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local function fmt(x) return string.format('%.6f', x) end
"""

_SLIDING_WINDOW = """
local index = math.floor(now / window)
if index * window + window <= now then index = index + 1 end
local state = redis.call('HMGET', key, 'w', 'c', 'p')
local w = tonumber(state[1])
local current = tonumber(state[2]) or 0
local previous = tonumber(state[3]) or 0
if w ~= index then
  if w == index - 1 then previous = current else previous = 0 end
  current = 0
end
local finish = index * window + window
local used = previous * ((finish - now) / window) + current
if used + 1 <= limit then
  redis.call('HSET', key, 'w', string.format('%.0f', index), 'c', current + 1, 'p', previous)
  redis.call('PEXPIRE', key, math.max(1, math.ceil((finish + window - now) * 1000)))
  return {1, math.floor(limit - used - 1), fmt(finish - now), '0', fmt(now)}
end
local free_at
if current + 1 <= limit then
  free_at = finish - (limit - 1 - current) * window / previous
else
  free_at = finish + window - (limit - 1) * window / current
end
return {0, 0, fmt(free_at - now), fmt(free_at - now), fmt(now)}
"""

_SLIDING_LOG = """
redis.call('ZREMRANGEBYSCORE', key, '-inf', fmt(now - window))
local count = redis.call('ZCARD', key)
if count < limit then
  -- The member is unique: same microsecond means same cutoff, so count has grown.
  redis.call('ZADD', key, fmt(now), t[1] .. '.' .. t[2] .. '-' .. count)
  redis.call('PEXPIRE', key, math.max(1, math.ceil(window * 1000)))
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {1, limit - count - 1, fmt(tonumber(oldest[2]) + window - now), '0', fmt(now)}
end
local entry = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
local retry = tonumber(entry[2]) + window - now
return {0, 0, fmt(retry), fmt(retry), fmt(now)}
"""

_TOKEN_BUCKET = """
local rate = tonumber(ARGV[3])
local state = redis.call('HMGET', key, 'tk', 'ts')
local tokens = tonumber(state[1])
if tokens == nil then
  tokens = limit
else
  local elapsed = now - tonumber(state[2])
  if elapsed > 0 then tokens = tokens + elapsed * rate end
  if tokens > limit then tokens = limit end
end
local allowed = 0
if tokens >= 1 - 1e-9 then
  tokens = math.max(tokens - 1, 0)
  allowed = 1
end
local full_in = (limit - tokens) / rate
redis.call('HSET', key, 'tk', string.format('%.17g', tokens), 'ts', fmt(now))
redis.call('PEXPIRE', key, math.ceil(full_in * 1000) + 1000)
if allowed == 1 then
  return {1, math.floor(tokens + 1e-9), fmt(full_in), '0', fmt(now)}
end
local retry = (1 - tokens) / rate
return {0, 0, fmt(retry), fmt(retry), fmt(now)}
"""

_FIXED_WINDOW = """
local state = redis.call('HMGET', key, 's', 'c')
local stored = tonumber(state[1])
local count = tonumber(state[2]) or 0
local start, mark
if ARGV[3] == '1' then
  -- Clock-aligned: the window is stored as its index, which compares exactly.
  local index = math.floor(now / window)
  if index * window + window <= now then index = index + 1 end
  if stored ~= index then count = 0 end
  start = index * window
  mark = string.format('%.0f', index)
else
  if stored == nil or now >= stored + window then
    stored = now
    count = 0
  end
  start = stored
  mark = fmt(stored)
end
local finish = start + window
if count < limit then
  redis.call('HSET', key, 's', mark, 'c', count + 1)
  redis.call('PEXPIRE', key, math.max(1, math.ceil((finish - now) * 1000)))
  return {1, limit - count - 1, fmt(finish - now), '0', fmt(now)}
end
return {0, 0, fmt(finish - now), fmt(finish - now), fmt(now)}
"""


class Script:
    """A script's source and SHA1, for ``EVALSHA`` with an ``EVAL`` fallback."""

    __slots__ = ("sha", "source")

    def __init__(self, body: str) -> None:
        self.source = _PRELUDE + body
        self.sha = hashlib.sha1(self.source.encode(), usedforsecurity=False).hexdigest()


SCRIPTS: dict[str, Script] = {
    "sliding_window": Script(_SLIDING_WINDOW),
    "sliding_log": Script(_SLIDING_LOG),
    "token_bucket": Script(_TOKEN_BUCKET),
    "fixed_window": Script(_FIXED_WINDOW),
}

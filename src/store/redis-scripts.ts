import type { Result } from './ioredis.js';
import type { RedisClient } from './redis-client.js';

/**
 * Lua scripts for the steps that must be atomic. Each touches keys of one hash tag only (see
 * redis-keys.ts), so they stay valid on Redis Cluster. Times are passed in from the injected clock;
 * TTLs are relative (`EXPIRE seconds`), so Redis' own clock never has to agree with ours.
 */
const SCRIPTS = {
  /**
   * Adds a member to an index zset (score = the member's expiry), drops members that have expired,
   * and sets the index's TTL to its longest-lived member: an index never outlives what it lists.
   * KEYS: index. ARGV: member, expiresAt, now.
   */
  kobIndexAdd: {
    numberOfKeys: 1,
    lua: `
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[3])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if top[2] == nil then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('EXPIRE', KEYS[1], math.max(1, tonumber(top[2]) - tonumber(ARGV[3])))
return 1`,
  },
  /**
   * Writes a session record (create or replace), keeping the token lines already listed after it
   * (redis-sessions.ts), with the session's TTL. KEYS: session key. ARGV: record JSON, ttl.
   */
  kobSessionPut: {
    numberOfKeys: 1,
    lua: `
local old = redis.call('GET', KEYS[1])
local tokens = ''
if old then
  local eol = string.find(old, '\\n', 1, true)
  if eol then tokens = string.sub(old, eol) end
end
redis.call('SET', KEYS[1], ARGV[1] .. tokens, 'EX', ARGV[2])
return 1`,
  },
  /**
   * Lists a token under its session (a line `MEMBER EXPIRES` after the record), drops the lines of
   * tokens that have expired, keeps the session's TTL. Returns 0, writing nothing, when the session
   * is gone: the caller deletes the token it just wrote. KEYS: session key. ARGV: member, expiresAt, now.
   */
  kobSessionTokenAdd: {
    numberOfKeys: 1,
    lua: `
local old = redis.call('GET', KEYS[1])
if not old then return 0 end
local eol = string.find(old, '\\n', 1, true)
local lines = { eol and string.sub(old, 1, eol - 1) or old }
if eol then
  for member, expires in string.gmatch(string.sub(old, eol), '\\n(%S+) (%d+)') do
    if member ~= ARGV[1] and tonumber(expires) > tonumber(ARGV[3]) then
      lines[#lines + 1] = member .. ' ' .. expires
    end
  end
end
lines[#lines + 1] = ARGV[1] .. ' ' .. ARGV[2]
redis.call('SET', KEYS[1], table.concat(lines, '\\n'), 'KEEPTTL')
return 1`,
  },
  /**
   * Reads a refresh token and marks it used in one step: the first caller creates the `:used` marker
   * (first use time, same TTL as the token), every later caller reads it. Returns nil, {record}
   * (fresh) or {record, firstUsedAt} (reused). KEYS: rt key, its :used key. ARGV: now.
   */
  kobUseRefresh: {
    numberOfKeys: 2,
    lua: `
local record = redis.call('GET', KEYS[1])
if not record then return nil end
local ttl = redis.call('PTTL', KEYS[1])
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', math.max(ttl, 1)) then return {record} end
return {record, redis.call('GET', KEYS[2])}`,
  },
  /**
   * Replaces an ephemeral record's value, keeping its expiry (the stored `expiresAt` and the key's
   * TTL). Returns 0 when the record is gone or past `expiresAt`. KEYS: eph key. ARGV: value JSON, now.
   */
  kobUpdateEphemeral: {
    numberOfKeys: 1,
    lua: `
local old = redis.call('GET', KEYS[1])
if not old then return 0 end
local exp = string.match(old, '^{"expiresAt":(%d+),')
if not exp then return redis.error_reply('ERR corrupt ephemeral record') end
if tonumber(exp) <= tonumber(ARGV[2]) then return 0 end
redis.call('SET', KEYS[1], '{"expiresAt":' .. exp .. ',"value":' .. ARGV[1] .. '}', 'KEEPTTL')
return 1`,
  },
  /**
   * Compare-and-set of an ephemeral record's value, keeping its expiry: replaces it only when the
   * stored value is exactly `expected` (JSON text as written). Returns 1 when swapped, 0 when the
   * record changed, is gone or is past `expiresAt`. KEYS: eph key. ARGV: expected JSON, next JSON, now.
   */
  kobSwapEphemeral: {
    numberOfKeys: 1,
    lua: `
local old = redis.call('GET', KEYS[1])
if not old then return 0 end
local exp = string.match(old, '^{"expiresAt":(%d+),')
if not exp then return redis.error_reply('ERR corrupt ephemeral record') end
if tonumber(exp) <= tonumber(ARGV[3]) then return 0 end
local prefix = '{"expiresAt":' .. exp .. ',"value":'
if old ~= prefix .. ARGV[1] .. '}' then return 0 end
redis.call('SET', KEYS[1], prefix .. ARGV[2] .. '}', 'KEEPTTL')
return 1`,
  },
  /**
   * Creates an ephemeral record unless a live one exists (one that Redis still holds and whose
   * `expiresAt` is after `now`: the injected clock decides, as for reads). Returns 1 when created.
   * KEYS: eph key. ARGV: envelope JSON, ttl seconds, now.
   */
  kobPutEphemeralIfAbsent: {
    numberOfKeys: 1,
    lua: `
local old = redis.call('GET', KEYS[1])
if old then
  local exp = string.match(old, '^{"expiresAt":(%d+),')
  if exp and tonumber(exp) > tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1`,
  },
} as const;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    kobIndexAdd(index: string, member: string, expiresAt: number, now: number): Result<number, Context>;
    kobSessionPut(key: string, recordJson: string, ttl: number): Result<number, Context>;
    kobSessionTokenAdd(key: string, member: string, expiresAt: number, now: number): Result<number, Context>;
    kobUseRefresh(
      key: string,
      useKey: string,
      now: number,
    ): Result<[string] | [string, string] | null, Context>;
    kobUpdateEphemeral(key: string, valueJson: string, now: number): Result<number, Context>;
    kobPutEphemeralIfAbsent(
      key: string,
      envelopeJson: string,
      ttl: number,
      now: number,
    ): Result<number, Context>;
    kobSwapEphemeral(
      key: string,
      expectedJson: string,
      nextJson: string,
      now: number,
    ): Result<number, Context>;
  }
}

/** Registers the scripts on a client (EVALSHA, falling back to EVAL after a Redis restart). */
export function defineStoreScripts(client: RedisClient): void {
  for (const [name, definition] of Object.entries(SCRIPTS)) client.defineCommand(name, definition);
}

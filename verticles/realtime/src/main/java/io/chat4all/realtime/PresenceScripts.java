package io.chat4all.realtime;

/**
 * Presence's Redis scripts. Marking and unmarking a connection run as one script each, so the
 * offline→online and online→offline transitions are decided atomically across nodes; the sweep
 * finds users whose connections all expired (a node died). Keys are described in {@link Presence}.
 */
final class PresenceScripts {
  private PresenceScripts() {}

  // Counts the live connections of KEYS[1] (expiry ms > now) into `live`, dropping expired ones.
  private static final String COUNT_LIVE =
      """
      local live = 0
      local all = redis.call('HGETALL', KEYS[1])
      for i = 1, #all, 2 do
        if tonumber(all[i + 1]) > now then live = live + 1
        else redis.call('HDEL', KEYS[1], all[i]) end
      end
      """;

  // KEYS: conns, user, last_seen, online; ARGV: field, now ms, expiry ms, ttl s, now (wire ts),
  // user
  static final String MARK =
      """
      local now = tonumber(ARGV[2])
      """
          + COUNT_LIVE
          + """
      redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
      redis.call('EXPIRE', KEYS[1], ARGV[4])
      redis.call('HSET', KEYS[2], 'status', 'online', 'last_seen', ARGV[5])
      redis.call('EXPIRE', KEYS[2], ARGV[4])
      redis.call('SET', KEYS[3], ARGV[5])
      redis.call('ZADD', KEYS[4], ARGV[3], ARGV[6])
      if live == 0 then return 1 end
      return 0
      """;

  // KEYS: conns, user, last_seen, online; ARGV: field, now ms, now (wire timestamp), user
  static final String UNMARK =
      """
      local now = tonumber(ARGV[2])
      local mine = redis.call('HGET', KEYS[1], ARGV[1])
      redis.call('HDEL', KEYS[1], ARGV[1])
      """
          + COUNT_LIVE
          + """
      if live == 0 then
        redis.call('DEL', KEYS[2])
        redis.call('SET', KEYS[3], ARGV[3])
        redis.call('ZREM', KEYS[4], ARGV[4])
        if mine and tonumber(mine) > now then return 1 end
      end
      return 0
      """;

  // KEYS: online; ARGV: now ms, key prefix. Users whose connections all expired (a node died):
  // removed from the online set and returned, so their offline change can be announced.
  static final String SWEEP =
      """
      local now = tonumber(ARGV[1])
      local gone = {}
      local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 200)
      for _, user in ipairs(due) do
        local conns = ARGV[2] .. 'presence:conns:' .. user
        local latest = 0
        local all = redis.call('HGETALL', conns)
        for i = 1, #all, 2 do
          local exp = tonumber(all[i + 1])
          if exp > now then
            if exp > latest then latest = exp end
          else
            redis.call('HDEL', conns, all[i])
          end
        end
        if latest > 0 then
          redis.call('ZADD', KEYS[1], latest, user)
        else
          redis.call('ZREM', KEYS[1], user)
          redis.call('DEL', ARGV[2] .. 'presence:user:' .. user)
          table.insert(gone, user)
        end
      end
      return gone
      """;
}

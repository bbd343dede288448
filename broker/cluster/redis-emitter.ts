// mqemitter-redis as the cluster uses it: every publish through Redis pub/sub, with filters whose
// topic levels hold Redis pattern characters matched as in one process.
//
// mqemitter-redis turns a wildcard filter into a PSUBSCRIBE pattern by replacing `+` and `#` with `*`
// (`_subTopic`), and leaves the rest as is. In a Redis pattern `[`, `]`, `?`, `*` and `\` have a
// meaning, so a filter such as `alice/[x]/+` became a pattern that the topic `alice/[x]/y` does not
// match: such a message never reached the node (a `*` or `?` only widened the pattern; the emitter's
// own matcher still filters exactly). Here the literal characters of a wildcard filter are escaped
// before the wildcards are replaced. `_subTopic` is mqemitter-redis' own (underscore) method, replaced
// through broker/aedes/emitter-internals.ts (pinned there); a start fails if it is gone.
import type { Redis } from 'ioredis';
import mqemitterRedis from 'mqemitter-redis';
import { onEmitterError, replaceSubscribePattern } from '../aedes/emitter-internals.ts';
import type { Logger } from '../log/logger.ts';

/** What the cluster needs of the emitter: aedes' `mq` option. */
export type RedisEmitter = ReturnType<typeof mqemitterRedis>;

const PATTERN_CHARACTERS = /[\\[\]?*]/g;

/** The PSUBSCRIBE pattern of an MQTT filter with wildcards (`+` one level, `#` the rest, or none). */
export function redisPatternOf(filter: string): string {
  return filter.replace(PATTERN_CHARACTERS, '\\$&').replaceAll('+', '*').replace(/\/?#$/, '*');
}

export function redisEmitter(
  publishConnection: Redis,
  subscribeConnection: Redis,
  logger: Logger,
): RedisEmitter {
  const mq = mqemitterRedis({
    pubConn: publishConnection,
    subConn: subscribeConnection,
    // As in AEDES_TUNING: no emitter queue, so a flood cannot overflow the stack.
    concurrency: 0,
    matchEmptyLevels: true,
  });
  replaceSubscribePattern(mq, (filter, plain) =>
    filter.includes('+') || filter.includes('#') ? redisPatternOf(filter) : plain(filter),
  );
  onEmitterError(mq, (error) => logger.debug({ err: error.message }, 'Redis emitter error'));
  return mq;
}

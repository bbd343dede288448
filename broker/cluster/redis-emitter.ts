// mqemitter-redis as the cluster uses it: every publish through Redis pub/sub, with filters whose
// topic levels hold Redis pattern characters matched as in one process.
//
// mqemitter-redis turns a wildcard filter into a PSUBSCRIBE pattern by replacing `+` and `#` with `*`
// (`_subTopic`), and leaves the rest as is. In a Redis pattern `[`, `]`, `?`, `*` and `\` have a
// meaning, so a filter such as `alice/[x]/+` became a pattern that the topic `alice/[x]/y` does not
// match: such a message never reached the node (a `*` or `?` only widened the pattern; the emitter's
// own matcher still filters exactly). Here the literal characters of a wildcard filter are escaped
// before the wildcards are replaced. `_subTopic` is mqemitter-redis' own (underscore) method: this is
// the one module that touches it, and a start fails if it is gone (test/integration/topic-characters).
import type { Redis } from 'ioredis';
import mqemitterRedis from 'mqemitter-redis';
import type { Logger } from '../log/logger.ts';

/** What the cluster needs of the emitter: aedes' `mq` option. */
export type RedisEmitter = ReturnType<typeof mqemitterRedis>;

interface EmitterInternals {
  _subTopic?: unknown;
  readonly state: NodeJS.EventEmitter;
}

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
  const internals = mq as unknown as EmitterInternals;
  const subTopic = internals._subTopic;
  if (typeof subTopic !== 'function')
    throw new TypeError('mqemitter-redis changed: no _subTopic to escape pattern characters with');
  const plain = subTopic.bind(mq) as (topic: string) => string;
  internals._subTopic = (topic: string): string =>
    topic.includes('+') || topic.includes('#') ? redisPatternOf(topic) : plain(topic);
  internals.state.on('error', (error: Error) => logger.debug({ err: error.message }, 'Redis emitter error'));
  return mq;
}

// The mqemitter-redis internal Cashew reads (checked against mqemitter-redis 7.2.1,
// mqemitter-redis.js). Not in its published types; pinned by test/unit/aedes-boundary/emitter-internals.test.ts.
import type mqemitterRedis from 'mqemitter-redis';

type RedisEmitter = ReturnType<typeof mqemitterRedis>;

/** The field read below: an EventEmitter that re-emits the Redis connections' errors. */
interface EmitterInternals {
  readonly state: NodeJS.EventEmitter;
}

/**
 * Listens to the errors of the emitter's two Redis connections. mqemitter-redis re-emits them on its
 * `state` EventEmitter (not closing); with no listener there, an error event would be unhandled and
 * kill the process.
 */
export function onEmitterError(mq: RedisEmitter, listener: (error: Error) => void): void {
  (mq as unknown as EmitterInternals).state.on('error', listener);
}

/**
 * Replaces how mqemitter-redis turns an MQTT filter into the channel or pattern it (P)SUBSCRIBEs to:
 * its own method `_subTopic` replaces `+`/`#` with `*` and leaves Redis pattern characters unescaped
 * (broker/cluster/redis-emitter.ts escapes them). `plain` is the original, for filters without
 * wildcards. Throws when the method is gone, so a start fails instead of delivering less.
 */
export function replaceSubscribePattern(
  mq: RedisEmitter,
  patternOf: (filter: string, plain: (filter: string) => string) => string,
): void {
  const internals = mq as unknown as { _subTopic?: unknown };
  const subTopic = internals._subTopic;
  if (typeof subTopic !== 'function')
    throw new TypeError('mqemitter-redis changed: no _subTopic to escape pattern characters with');
  const plain = subTopic.bind(mq) as (filter: string) => string;
  internals._subTopic = (filter: string): string => patternOf(filter, plain);
}

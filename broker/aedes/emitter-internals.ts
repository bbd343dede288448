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

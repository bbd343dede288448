// Pins the aedes internals read by broker/aedes/emitter-internals.ts against the installed mqemitter-redis
// (connections that never connect: the errors are emitted by hand).
import { Redis } from 'ioredis';
import mqemitterRedis from 'mqemitter-redis';
import { describe, expect, it } from 'vitest';
import { onEmitterError, replaceSubscribePattern } from '../../../broker/aedes/emitter-internals.ts';

describe('emitter-internals.ts (mqemitter-redis 7.2 mqemitter-redis.js)', () => {
  it("onEmitterError: the errors of both Redis connections come out of the emitter's state", () => {
    const subConn = new Redis({ lazyConnect: true });
    const pubConn = new Redis({ lazyConnect: true });
    try {
      const mq = mqemitterRedis({ subConn, pubConn });
      const errors: string[] = [];
      onEmitterError(mq, (error) => errors.push(error.message));
      subConn.emit('error', new Error('sub down'));
      pubConn.emit('error', new Error('pub down'));
      expect(errors).toEqual(['sub down', 'pub down']);
    } finally {
      subConn.disconnect();
      pubConn.disconnect();
    }
  });
});

describe('emitter-internals.ts: replaceSubscribePattern (mqemitter-redis 7.2 `_subTopic`)', () => {
  it('routes the pattern of every wildcard SUBSCRIBE through the replacement, with the original at hand', () => {
    const subConn = new Redis({ lazyConnect: true });
    const pubConn = new Redis({ lazyConnect: true });
    try {
      const mq = mqemitterRedis({ subConn, pubConn });
      const seen: string[] = [];
      replaceSubscribePattern(mq, (filter, plain) => {
        seen.push(`${filter} -> ${plain(filter)}`);
        return plain(filter);
      });
      const internals = mq as unknown as { _subTopic(filter: string): string };
      expect(internals._subTopic('a/+/b')).toBe('a/*/b');
      expect(seen).toEqual(['a/+/b -> a/*/b']);
    } finally {
      subConn.disconnect();
      pubConn.disconnect();
    }
  });
});

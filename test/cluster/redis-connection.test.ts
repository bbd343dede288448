// A cluster Redis connection never turns a failed command that nobody awaits into an unhandled
// rejection (Node ends the process on one): aedes-persistence-redis sends some without awaiting. Nor
// does a retained-message lookup that fails become an unhandled 'error' event (aedes pipes that
// stream without a listener).
import { Writable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  connectRedis,
  REDIS_STALL_MS,
  redisReady,
  redisTrouble,
  waitingCommands,
} from '../../broker/cluster/redis-connection.ts';
import { redisPersistence } from '../../broker/cluster/redis-persistence.ts';
import { createLogger } from '../../broker/index.ts';
import { LogLines } from '../support/log-lines.ts';
import { startTestRedis, type TestRedis } from './support/redis.ts';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startTestRedis();
});
afterAll(async () => {
  await redis?.dispose();
});

it('handles the rejection of a command sent after QUIT, and still rejects it for whoever awaits it', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    const connection = connectRedis(redis.url, 'persistence', 'test', createLogger('fatal'));
    await redisReady(connection, redis.url);
    const ended = new Promise<void>((resolve) => connection.once('end', () => resolve()));
    void connection.quit(); // its own reply may lose the race with the close: not awaited either
    void connection.lrem('will', 0, 'never-awaited'); // as aedes-persistence-redis' delWill does
    const awaited = connection.get('awaited');
    await expect(awaited).rejects.toThrow('Connection is closed');
    await ended;
    // Unhandled rejections are reported after the microtask queue drains: give it a macrotask.
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

it('a retained lookup cut by a dropped connection ends in a logged error, not an unhandled one', async () => {
  const log = new LogLines();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      log.feed(chunk.toString('utf8'));
      callback();
    },
  });
  const logger = createLogger('warn', sink);
  const connection = connectRedis(redis.url, 'persistence', 'test', logger);
  await redisReady(connection, redis.url);
  const persistence = redisPersistence(connection, logger);
  redis.pause();
  try {
    // As aedes' SUBSCRIBE handler does: piped, no 'error' listener of its own.
    const lookup = persistence.createRetainedStreamCombi(['r/#', 'r/[x]/+']);
    lookup.pipe(new Writable({ objectMode: true, write: (_packet, _encoding, done) => done() }));
    await expect.poll(() => waitingCommands(connection)).toBeGreaterThan(0);
    expect(redisTrouble(connection, Date.now())).toBeUndefined(); // waiting, not stalled yet
    connection.disconnect(); // what a stop that stops waiting for Redis does
    const line = await log.waitFor((entry) => entry.msg === 'retained messages not read from Redis', 5000);
    expect(line.err).toBe('Connection is closed.');
    expect(waitingCommands(connection)).toBe(0);
  } finally {
    redis.resume();
  }
});

it('a subscribe connection whose command waits behind a backlog of messages is not stalled: messages are progress', async () => {
  const logger = createLogger('fatal');
  const subscriber = connectRedis(redis.url, 'subscribe', 'test', logger);
  const publisher = connectRedis(redis.url, 'publish', 'test', logger);
  try {
    await Promise.all([redisReady(subscriber, redis.url), redisReady(publisher, redis.url)]);
    await subscriber.subscribe('flood');
    const MESSAGES = 50_000;
    let heard = 0;
    let atLast: string | undefined = 'not reached';
    subscriber.on('messageBuffer', () => {
      heard += 1;
      // Seen from just under REDIS_STALL_MS later: the SUBSCRIBE has waited that long and more, and a
      // message came a moment ago. Counting only answers, this read as stalled.
      if (heard === MESSAGES) atLast = redisTrouble(subscriber, Date.now() + REDIS_STALL_MS - 1);
    });
    // The node reads nothing while the backlog builds at Redis (4.5 MB, under its pub/sub limits).
    subscriber.stream.pause();
    const pipeline = publisher.pipeline();
    for (let i = 0; i < MESSAGES; i++) pipeline.publish('flood', 'x'.repeat(64));
    await pipeline.exec();
    // Answered only after the 50,000 messages queued before it.
    const later = subscriber.subscribe('other');
    subscriber.stream.resume();
    await later;
    expect(heard).toBe(MESSAGES);
    expect(atLast).toBeUndefined();
  } finally {
    subscriber.disconnect();
    publisher.disconnect();
  }
});

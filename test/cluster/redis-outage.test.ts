// A broker on Redis while Redis is away (stopped) or stalled (paused with SIGSTOP: connected, answering
// nothing): a CONNECT is refused at once with CONNACK 3 and an audit line instead of waiting for a
// CONNACK that never comes, nothing of it waits in the connections' queues (a fleet retrying through
// an outage used to grow the broker's memory by ~10 KB per attempt, for as long as the outage lasted),
// the connections already up stay up, and a stop ends by itself with every connection closed.
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { REDIS_STALL_MS } from '../../broker/cluster/redis-connection.ts';
import { nextEvent } from '../support/bare-aedes.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { adminCall } from '../support/admin.ts';
import {
  closeAll,
  closed,
  connectClient,
  connected,
  refusalCode,
  type Transport,
} from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';
import { connectTo, startBrokerProcess } from './support/nodes.ts';
import { startTestRedis, type TestRedis } from './support/redis.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function brokerOnRedis(): Promise<{ redis: TestRedis; broker: TestBroker }> {
  const redis = await startTestRedis();
  cleanups.push(() => redis.dispose());
  const broker = await startTestBroker({ REDIS_URL: redis.url });
  cleanups.push(() => broker.close());
  return { redis, broker };
}

function device(
  broker: TestBroker,
  transport: Transport,
  userId: string,
  options: { connectTimeout?: number; clean?: boolean } = {},
): MqttClient {
  const client = connectClient(broker, transport, `${userId}/phone`, userToken(userId), options);
  cleanups.push(() => closeAll(client));
  return client;
}

/** `cashew_redis_commands_waiting` from the admin listener's /metrics. */
async function waitingCommands(broker: TestBroker): Promise<number> {
  const { text } = await adminCall(broker.adminUrl, '/metrics');
  const line = /^cashew_redis_commands_waiting(?:\{[^}]*\})? (\d+)$/m.exec(text);
  if (line === null) throw new Error('no cashew_redis_commands_waiting in /metrics');
  return Number(line[1]);
}

function refusedForRedis(broker: TestBroker): Record<string, unknown>[] {
  return broker.logLines.filter((line) => line.code === 'ERR_REDIS_UNAVAILABLE');
}

describe('Redis stopped under a running broker', () => {
  it('refuses every CONNECT at once with CONNACK 3 and an audit line, queues nothing for it, keeps the connections it has, and serves again once Redis is back', async () => {
    const { redis, broker } = await brokerOnRedis();
    const kept = await connected(device(broker, 'mqtts', 'ann'));
    await redis.stop();
    await broker.waitForLog((line) => line.msg === 'Redis connection lost; retrying');
    const waitingBefore = await waitingCommands(broker);

    const ROUNDS = 10;
    const AT_ONCE = 20;
    let slowestMs = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const codes = await Promise.all(
        Array.from({ length: AT_ONCE }, async (_, i) => {
          const startedAt = Date.now();
          const client = device(broker, i % 2 === 0 ? 'mqtts' : 'wss', `u${round}x${i}`);
          const code = await refusalCode(client);
          slowestMs = Math.max(slowestMs, Date.now() - startedAt);
          await closeAll(client);
          return code;
        }),
      );
      expect(codes).toEqual(Array.from({ length: AT_ONCE }, () => 3));
    }
    const waitingAfter = await waitingCommands(broker);
    // Each refused CONNECT used to leave at least one command (the per-user count) queued until Redis
    // was back: 200 or more. What grows now is the broker's own heartbeat, one per second.
    expect(waitingAfter - waitingBefore).toBeLessThan((ROUNDS * AT_ONCE) / 4);
    const audit = refusedForRedis(broker);
    expect(audit.length).toBeGreaterThan(0);
    expect(audit[0]).toMatchObject({ action: 'connect', returnCode: 3, identity: 'unknown' });
    expect(String(audit[0]?.reason)).toMatch(/^Redis (persistence|publish) connection is /);
    expect(kept.connected).toBe(true);
    process.stdout.write(
      `${JSON.stringify({ measurement: 'connects-while-redis-stopped', refused: ROUNDS * AT_ONCE, slowestMs, waitingBefore, waitingAfter })}\n`,
    );

    await redis.start();
    for (const role of ['persistence', 'publish', 'subscribe'])
      await broker.waitForLog((line) => line.msg === 'Redis reconnected' && line.role === role, 15_000);
    // What waited for Redis ran once it was back: the backlog drains.
    await expect.poll(() => waitingCommands(broker), { timeout: 10_000, interval: 100 }).toBe(0);
    await connected(device(broker, 'wss', 'bob'));
    expect(kept.connected).toBe(true);
  });
});

describe('Redis stalled under a running broker (SIGSTOP)', () => {
  it('refuses CONNECTs with CONNACK 3 once Redis has answered nothing for REDIS_STALL_MS, and serves again as soon as it answers', async () => {
    const { redis, broker } = await brokerOnRedis();
    const kept = await connected(device(broker, 'mqtts', 'cat'));
    redis.pause();
    const pausedAt = Date.now();
    // Until the stall is established a CONNECT waits (and its client gives up after 1 s); then each
    // is refused at once.
    let attempt = 0;
    await expect
      .poll(
        async () => {
          const client = device(broker, 'mqtts', `s${attempt++}`, { connectTimeout: 1000 });
          const code = await refusalCode(client, 2000).catch(() => -1);
          await closeAll(client);
          return code;
        },
        { timeout: REDIS_STALL_MS + 10_000, interval: 250 },
      )
      .toBe(3);
    const refusedAfterMs = Date.now() - pausedAt;
    expect(String(refusedForRedis(broker)[0]?.reason)).toMatch(
      /^Redis has answered none of \d+ \w+ commands for \d+ s$/,
    );
    expect(await waitingCommands(broker)).toBeGreaterThan(0);
    expect(kept.connected).toBe(true);

    redis.resume();
    await expect.poll(() => waitingCommands(broker), { timeout: 10_000, interval: 100 }).toBe(0);
    await connected(device(broker, 'wss', 'dan'));
    process.stdout.write(
      `${JSON.stringify({ measurement: 'connects-while-redis-stalled', stallMs: REDIS_STALL_MS, firstRefusalAfterMs: refusedAfterMs, attempts: attempt })}\n`,
    );
  });
});

describe('a stop while Redis is away', () => {
  it.each(['stopped', 'stalled'] as const)(
    'Redis %s: ends by itself and closes every connection, persistent sessions with subscriptions included',
    async (how) => {
      const { redis, broker } = await brokerOnRedis();
      const devices: MqttClient[] = [];
      for (let i = 0; i < 6; i++) {
        // Persistent and clean sessions alike: aedes writes to Redis as each one closes.
        const client = device(broker, i % 2 === 0 ? 'mqtts' : 'wss', `stop${i}`, { clean: i < 3 });
        await connected(client);
        await client.subscribeAsync(`stop${i}/#`, { qos: 1 });
        devices.push(client);
      }
      if (how === 'stopped') {
        await redis.stop();
        await broker.waitForLog((line) => line.msg === 'Redis connection lost; retrying');
      } else {
        redis.pause();
        // A CONNECT sent before the stall is established waits on Redis, unknown to aedes' own close.
        // (mqtt.js writes the CONNECT as the socket opens; nothing on the broker's side marks it
        // waiting, so it is given 200 ms to arrive: it is closed all the same if it has not.)
        const waiting = device(broker, 'mqtts', 'late', { connectTimeout: 60_000 });
        await nextEvent(waiting.stream, 'secureConnect');
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(waiting.connected).toBe(false);
        devices.push(waiting);
      }
      const closedAll = Promise.all(devices.map((client) => closed(client, 30_000)));
      const startedAt = Date.now();
      await broker.close();
      const stopMs = Date.now() - startedAt;
      await closedAll;
      expect(broker.logLines.some((line) => line.msg === 'cashew broker stopped')).toBe(true);
      expect(broker.logLines.some((line) => line.msg === 'stopping without waiting for Redis')).toBe(true);
      process.stdout.write(
        `${JSON.stringify({ measurement: 'stop-with-redis-away', redis: how, stopMs })}\n`,
      );
    },
  );
});

describe('cashew broker, the process, with Redis stalled', () => {
  it('SIGTERM: exits 0 by itself with its connections closed, before its 10 s stop timeout', async () => {
    const redis = await startTestRedis();
    cleanups.push(() => redis.dispose());
    const node = await startBrokerProcess('outage-node', redis.url);
    cleanups.push(() => node.stop('SIGKILL'));
    const client = await connected(connectTo(node, 'eve/phone', userToken('eve'), { clean: false }));
    cleanups.push(() => closeAll(client));
    await client.subscribeAsync('eve/#', { qos: 1 });
    const closedByStop = closed(client, 30_000);
    redis.pause();
    const startedAt = Date.now();
    // Beyond the command's own 10 s stop timeout, so that the command decides how it ends.
    const status = await node.stop('SIGTERM', 20_000);
    const stopMs = Date.now() - startedAt;
    await closedByStop;
    expect(status).toBe(0);
    expect(node.logLines.some((line) => line.msg === 'stopping without waiting for Redis')).toBe(true);
    expect(node.logLines.some((line) => line.msg === 'cashew broker stopped')).toBe(true);
    process.stdout.write(
      `${JSON.stringify({ measurement: 'sigterm-with-redis-stalled', status, stopMs })}\n`,
    );
  });
});

// Presence across a cluster of real broker processes on one Redis: a user's devices on two nodes make
// one online and one offline event; a node killed with SIGKILL takes its users offline within the
// documented bound (4 heartbeats), and only those with no device left on another node.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presenceBoundMs } from '../../broker/presence/redis-presence-store.ts';
import { DEFAULT_CLUSTER_HEARTBEAT_MS } from '../../broker/options.ts';
import { closeAll, connected, subscribeRaw } from '../support/clients.ts';
import { quietFor, recordPresence, type PresenceRecorder } from '../support/presence.ts';
import { presenceHandlerToken, userToken } from '../support/tokens.ts';
import { connectTo, startBrokerProcess, type BrokerProcess } from './support/nodes.ts';
import { startTestRedis, type TestRedis } from './support/redis.ts';

const GRACE_MS = 500;
/** Redis round trips and process scheduling on a shared 2-core machine, on top of the bound. */
const SLACK_MS = 3000;

let redis: TestRedis;
let a: BrokerProcess;
let b: BrokerProcess;
let watcher: MqttClient;
let presence: PresenceRecorder;
const clients: MqttClient[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  // The documented default heartbeat: the measured delay is the one users get.
  [a, b] = (await Promise.all(
    ['presence-a', 'presence-b'].map((id) =>
      startBrokerProcess(id, redis.url, { PRESENCE_GRACE_MS: String(GRACE_MS) }),
    ),
  )) as [BrokerProcess, BrokerProcess];
  watcher = await connected(connectTo(b, '$handler/push/1', presenceHandlerToken('push')));
  presence = recordPresence(watcher);
  expect(await subscribeRaw(watcher, ['$cashew/presence/+'])).toEqual([1]);
}, 60_000);

afterAll(async () => {
  await closeAll(watcher, ...clients);
  await Promise.all([a?.stop('SIGKILL'), b?.stop()]);
  await redis?.dispose();
});

async function device(node: BrokerProcess, userId: string, name: string): Promise<MqttClient> {
  const client = await connected(connectTo(node, `${userId}/${name}`, userToken(userId)));
  clients.push(client);
  return client;
}

describe('presence across nodes', () => {
  it('devices of one user on two nodes: one online event, one offline after both have left', async () => {
    const phone = await device(a, 'alice', 'phone');
    await presence.waitFor((event) => event.userId === 'alice' && event.online);
    const tablet = await device(b, 'alice', 'tablet');
    await phone.endAsync();
    await quietFor(GRACE_MS * 3);
    expect(presence.of('alice').map((event) => event.online)).toEqual([true]);
    await tablet.endAsync();
    const offline = await presence.waitFor((event) => event.userId === 'alice' && !event.online);
    expect(offline).toMatchObject({ online: false, devices: 0 });
    expect(presence.of('alice').map((event) => event.online)).toEqual([true, false]);
  });

  it('a device moving from one node to the other within the grace period emits nothing', async () => {
    const first = await device(a, 'bea', 'phone');
    await presence.waitFor((event) => event.userId === 'bea' && event.online);
    await first.endAsync();
    const second = await device(b, 'bea', 'phone');
    await quietFor(GRACE_MS * 3);
    expect(presence.of('bea').map((event) => event.online)).toEqual([true]);
    await second.endAsync();
    await presence.waitFor((event) => event.userId === 'bea' && !event.online);
  });

  it('a node killed with SIGKILL: its users with no other device go offline within the bound', async () => {
    await device(a, 'kim', 'phone'); // only on the node that dies
    await device(a, 'lou', 'phone'); // on both nodes: stays online
    await device(b, 'lou', 'laptop');
    await presence.waitFor((event) => event.userId === 'kim' && event.online);
    await presence.waitFor((event) => event.userId === 'lou' && event.online);

    const killedAt = Date.now();
    await a.stop('SIGKILL');
    const bound = presenceBoundMs(DEFAULT_CLUSTER_HEARTBEAT_MS);
    const offline = await presence.waitFor(
      (event) => event.userId === 'kim' && !event.online,
      bound + SLACK_MS,
    );
    const offlineDelayMs = Date.now() - killedAt;
    expect(offline).toMatchObject({ userId: 'kim', online: false, devices: 0 });
    expect(offline.at).toBeLessThanOrEqual(killedAt + 100); // the dead node's last heartbeat
    expect(offlineDelayMs).toBeLessThanOrEqual(bound + SLACK_MS);
    await quietFor(DEFAULT_CLUSTER_HEARTBEAT_MS * 2);
    expect(presence.of('lou').map((event) => event.online)).toEqual([true]);
    expect(presence.of('kim').map((event) => event.online)).toEqual([true, false]);
    // The figure docs/operations.md quotes: one JSON line on the test output.
    process.stdout.write(
      `${JSON.stringify({ measurement: 'presence-offline-after-sigkill', heartbeatMs: DEFAULT_CLUSTER_HEARTBEAT_MS, boundMs: bound, offlineDelayMs })}\n`,
    );
  });
});

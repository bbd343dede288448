// Handler pools across nodes: members of one pool connected to different broker processes share the
// commands, and each command is served exactly once in the whole cluster.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connected } from '../support/clients.ts';
import { handlerToken, userToken } from '../support/tokens.ts';
import { collect, connectTo, startBrokerProcess, type BrokerProcess } from './support/nodes.ts';
import { startTestRedis, type TestRedis } from './support/redis.ts';

const COMMANDS = 90;

let redis: TestRedis;
let a: BrokerProcess;
let b: BrokerProcess;
let c: BrokerProcess;
const open: MqttClient[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
  const settings = { CLUSTER_HEARTBEAT_MS: '500' };
  [a, b, c] = (await Promise.all(
    ['pool-a', 'pool-b', 'pool-c'].map((id) => startBrokerProcess(id, redis.url, settings)),
  )) as [BrokerProcess, BrokerProcess, BrokerProcess];
});

afterAll(async () => {
  await Promise.all(open.map((mqttClient) => mqttClient.endAsync(true).catch(() => undefined)));
  await Promise.all([a, b, c].map((node) => node?.stop()));
  await redis?.dispose();
});

async function member(node: BrokerProcess, suffix: string): Promise<MqttClient> {
  const token = handlerToken('counter', ['count'], ['counted']);
  const mqttClient = await connected(connectTo(node, `$handler/counter/${suffix}`, token));
  open.push(mqttClient);
  await mqttClient.subscribeAsync('+/count', { qos: 1 });
  return mqttClient;
}

describe('a handler pool spread over nodes', () => {
  it('serves each command exactly once, with members on every node taking a share', async () => {
    // Two members on node a, one on node b; the user publishes through node c, which has none.
    const members = [await member(a, 'a1'), await member(a, 'a2'), await member(b, 'b1')];
    const received = members.map((mqttClient) => collect(mqttClient));
    // Each node learns the other's pool size from the shared emitter before commands flow.
    await a.waitForLog((line) => line.msg === 'handler pools on another node');
    await b.waitForLog((line) => line.msg === 'handler pools on another node');

    const user = await connected(connectTo(c, 'olga/phone', userToken('olga')));
    open.push(user);
    for (let n = 0; n < COMMANDS; n += 1) await user.publishAsync('olga/count', String(n), { qos: 1 });

    const total = (): number => received.reduce((sum, r) => sum + r.messages.length, 0);
    await expect.poll(total, { timeout: 10_000 }).toBeGreaterThanOrEqual(COMMANDS);
    // A marker after a round trip: anything duplicated would have arrived by now.
    await user.publishAsync('olga/count', 'marker', { qos: 1 });
    await expect.poll(total, { timeout: 10_000 }).toBe(COMMANDS + 1);

    const payloads = received.flatMap((r) => r.messages.map((message) => message.payload));
    expect(new Set(payloads).size).toBe(payloads.length);
    expect(payloads.filter((payload) => payload !== 'marker').sort((x, y) => Number(x) - Number(y))).toEqual(
      Array.from({ length: COMMANDS }, (_, n) => String(n)),
    );
    const shares = received.map((r) => r.messages.length);
    for (const share of shares) expect(share).toBeGreaterThan(0);
    const onA = (shares[0] ?? 0) + (shares[1] ?? 0);
    const onB = shares[2] ?? 0;
    expect(onA).toBeGreaterThan(onB); // weighted by members: two on a, one on b

    // The member on node b leaves: node a learns it, and serves every later command itself, once.
    await members[2]?.endAsync();
    await a.waitForLog(
      (line) =>
        line.msg === 'handler pools on another node' &&
        line.peerNode === 'pool-b' &&
        JSON.stringify(line.pools) === '{}',
    );
    const before = received.map((r) => r.messages.length);
    for (let n = 0; n < 30; n += 1) await user.publishAsync('olga/count', `after-${n}`, { qos: 1 });
    const onAAfter = (): number => (received[0]?.messages.length ?? 0) + (received[1]?.messages.length ?? 0);
    const onABefore = (before[0] ?? 0) + (before[1] ?? 0);
    await expect.poll(onAAfter, { timeout: 10_000 }).toBe(onABefore + 30);
    const later = received
      .flatMap((r) => r.messages.map((message) => message.payload))
      .filter((p) => p.startsWith('after-'));
    expect(new Set(later).size).toBe(30);
    expect(later).toHaveLength(30);
  });
});

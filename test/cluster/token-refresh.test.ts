// The in-band token refresh on two broker processes sharing one Redis: the node that holds the
// connection verifies, moves its expiry and answers it alone; nothing of it reaches the other node
// (not the answer, not the token); a refusal there is audited there, and the old exp stays in force.
import jwt from 'jsonwebtoken';
import type { MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_SECRET } from '../support/broker.ts';
import { connected } from '../support/clients.ts';
import { refreshOver } from '../support/token-refresh.ts';
import { userToken } from '../support/tokens.ts';
import {
  closedByBroker,
  collect,
  connectTo,
  startBrokerProcess,
  type BrokerProcess,
} from './support/nodes.ts';
import { startTestRedis, type TestRedis } from './support/redis.ts';

let redis: TestRedis;
let a: BrokerProcess;
let b: BrokerProcess;
const open: MqttClient[] = [];

function client(node: BrokerProcess, clientId: string, token: string): MqttClient {
  const mqttClient = connectTo(node, clientId, token, { clean: false });
  open.push(mqttClient);
  return mqttClient;
}

const inSeconds = (seconds: number): number => Math.floor(Date.now() / 1000) + seconds;
const tokenUntil = (sub: string, exp: number): string =>
  jwt.sign({ sub, exp }, TEST_SECRET, { algorithm: 'HS256' });

beforeAll(async () => {
  redis = await startTestRedis();
  const settings = { JWT_CLOCK_TOLERANCE: '0', CLUSTER_HEARTBEAT_MS: '500' };
  [a, b] = (await Promise.all(
    ['node-a', 'node-b'].map((id) => startBrokerProcess(id, redis.url, settings)),
  )) as [BrokerProcess, BrokerProcess];
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((mqttClient) => mqttClient.endAsync(true).catch(() => undefined)));
});

afterAll(async () => {
  await Promise.all([a, b].map((node) => node?.stop()));
  await redis?.dispose();
});

describe('token refresh on two broker processes', () => {
  it('is handled by the node holding the connection; the other node sees nothing of it', async () => {
    const oldExp = inSeconds(3);
    const phone = await connected(client(b, 'rita/phone', tokenUntil('rita', oldExp)));
    const tablet = await connected(client(a, 'rita/tablet', userToken('rita')));
    await phone.subscribeAsync('rita/news', { qos: 1 });
    await tablet.subscribeAsync('rita/#', { qos: 1 });
    const onPhone = collect(phone);
    const onTablet = collect(tablet);
    const newToken = tokenUntil('rita', inSeconds(600));
    expect(await refreshOver(phone, newToken)).toMatchObject({ ok: true });
    await b.waitForLog((line) => line.audit === 'accepted' && line.action === 'refresh');
    // Past the old exp: still connected; a message published on the other node still arrives once.
    await new Promise((resolve) => setTimeout(resolve, oldExp * 1000 - Date.now() + 1500));
    expect(phone.connected).toBe(true);
    await tablet.publishAsync('rita/news', 'across nodes', { qos: 1 });
    const messages = await onPhone.waitFor(2);
    expect(messages.map((message) => message.topic)).toEqual(['$cashew/refresh/reply', 'rita/news']);
    await onTablet.waitFor(1);
    expect(onTablet.messages).toEqual([{ topic: 'rita/news', payload: 'across nodes' }]);
    expect(a.logLines.some((line) => line.action === 'refresh')).toBe(false);
    expect([...a.logLines, ...b.logLines].some((line) => JSON.stringify(line).includes(newToken))).toBe(
      false,
    );
  }, 30_000);

  it('refuses on the node holding the connection, audited there, and closes at the old exp', async () => {
    const oldExp = inSeconds(3);
    const phone = await connected(client(a, 'sam/phone', tokenUntil('sam', oldExp)));
    const reply = await refreshOver(phone, userToken('tom'));
    expect(reply).toMatchObject({ ok: false, error: { code: 'ERR_REFRESH_IDENTITY' } });
    const audit = await a.waitForLog((line) => line.audit === 'refused' && line.action === 'refresh');
    expect(audit).toMatchObject({
      clientId: 'sam/phone',
      identity: 'user:sam',
      code: 'ERR_REFRESH_IDENTITY',
    });
    await closedByBroker(phone, 10_000);
    expect(Date.now()).toBeGreaterThanOrEqual(oldExp * 1000);
    await a.waitForLog((line) => line.action === 'expire' && line.clientId === 'sam/phone');
    expect(b.logLines.some((line) => line.action === 'refresh' && line.clientId === 'sam/phone')).toBe(false);
  }, 30_000);
});

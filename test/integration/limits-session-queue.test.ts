// The queue of a persistent session is capped (MAX_QUEUED_MESSAGES, MAX_QUEUED_BYTES: the oldest
// go, audited) and a session unused for SESSION_EXPIRY_MS is removed with its queue — in both modes
// (broker/aedes/persistence/session-queues.ts; Redis: broker/cluster/redis-queue-cap.ts and
// redis-away-sessions.ts).
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditOf, startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected, recordMessages, subscribeRaw } from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';

const session = { clean: false } as const;

/** Connects and resolves with the client and its CONNACK's session-present flag. */
function connectSession(broker: TestBroker, clientId: string, user: string) {
  const client = connectClient(broker, 'mqtts', clientId, userToken(user), session);
  const present = new Promise<boolean>((resolve) =>
    client.once('connect', (connack) => resolve(connack.sessionPresent)),
  );
  return connected(client).then(async () => ({ client, sessionPresent: await present }));
}

/** Subscribes a persistent session to `<user>/feed` at QoS 1 and leaves. */
async function leaveSubscribed(broker: TestBroker, clientId: string, user: string): Promise<void> {
  const { client } = await connectSession(broker, clientId, user);
  expect(await subscribeRaw(client, [`${user}/feed`])).toEqual([1]);
  await client.endAsync();
}

/** Reconnects the session and returns the payloads it receives up to the marker `end` (sent last). */
async function drained(broker: TestBroker, clientId: string, user: string, sender: MqttClient) {
  const { client, sessionPresent } = await connectSession(broker, clientId, user);
  const record = recordMessages(client);
  await subscribeRaw(client, [`${user}/end`]);
  await sender.publishAsync(`${user}/end`, 'end', { qos: 1 });
  await record.waitFor(`${user}/end`);
  await client.endAsync();
  const payloads = record.messages.filter((m) => m.topic === `${user}/feed`).map((m) => m.payload);
  return { payloads, sessionPresent };
}

describe('a capped session queue', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ MAX_QUEUED_MESSAGES: '5', MAX_QUEUED_BYTES: '2048' });
  });
  afterAll(async () => {
    await broker.close();
  });

  it('keeps the newest MAX_QUEUED_MESSAGES of an offline session and audits the drops', async () => {
    await leaveSubscribed(broker, 'ana/phone', 'ana');
    const sender = await connected(connectClient(broker, 'mqtts', 'ana/laptop', userToken('ana')));
    for (let index = 0; index < 8; index++) await sender.publishAsync('ana/feed', String(index), { qos: 1 });
    const audit = await broker.waitForLog(auditOf('ana/phone', 'session'));
    expect(audit).toMatchObject({ code: 'ERR_QUEUE_FULL', identity: 'session' });
    expect(String(audit.reason)).toContain('MAX_QUEUED_MESSAGES 5');

    const { payloads, sessionPresent } = await drained(broker, 'ana/phone', 'ana', sender);
    expect(sessionPresent).toBe(true);
    expect(payloads).toEqual(['3', '4', '5', '6', '7']);
    await closeAll(sender);
  });

  it('keeps what fits in MAX_QUEUED_BYTES, newest first', async () => {
    await leaveSubscribed(broker, 'ben/phone', 'ben');
    const sender = await connected(connectClient(broker, 'mqtts', 'ben/laptop', userToken('ben')));
    const big = (index: number): string => String(index).repeat(900);
    for (let index = 0; index < 4; index++) await sender.publishAsync('ben/feed', big(index), { qos: 1 });
    const audit = await broker.waitForLog(auditOf('ben/phone', 'session'));
    expect(String(audit.reason)).toContain('MAX_QUEUED_BYTES 2048');

    const { payloads } = await drained(broker, 'ben/phone', 'ben', sender);
    expect(payloads).toEqual([big(2), big(3)]);
    await closeAll(sender);
  });

  it('drops nothing from a session whose client keeps up', async () => {
    const { client } = await connectSession(broker, 'cy/phone', 'cy');
    const record = recordMessages(client);
    expect(await subscribeRaw(client, ['cy/feed', 'cy/end'])).toEqual([1, 1]);
    const sender = await connected(connectClient(broker, 'mqtts', 'cy/laptop', userToken('cy')));
    // Each message is received before the next is sent: unacknowledged ones stay far below the cap.
    for (let index = 0; index < 20; index++) {
      const arrived = new Promise<void>((resolve) => client.once('message', () => resolve()));
      await sender.publishAsync('cy/feed', String(index), { qos: 1 });
      await arrived;
    }
    await sender.publishAsync('cy/end', 'end', { qos: 1 });
    await record.waitFor('cy/end');
    const payloads = record.messages.filter((m) => m.topic === 'cy/feed').map((m) => m.payload);
    expect(payloads).toEqual(Array.from({ length: 20 }, (_, index) => String(index)));
    expect(broker.logLines.filter(auditOf('cy/phone', 'session'))).toEqual([]);
    await closeAll(sender, client);
  });
});

describe('session expiry', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ SESSION_EXPIRY_MS: '1000' });
  });
  afterAll(async () => {
    await broker.close();
  });

  it('removes a session away for SESSION_EXPIRY_MS, with what was queued for it', async () => {
    await leaveSubscribed(broker, 'dee/phone', 'dee');
    const sender = await connected(connectClient(broker, 'mqtts', 'dee/laptop', userToken('dee')));
    await sender.publishAsync('dee/feed', 'queued', { qos: 1 });
    const audit = await broker.waitForLog(auditOf('dee/phone', 'session'), 5000);
    expect(audit).toMatchObject({ code: 'ERR_SESSION_EXPIRED' });
    await sender.publishAsync('dee/feed', 'after', { qos: 1 });

    const { payloads, sessionPresent } = await drained(broker, 'dee/phone', 'dee', sender);
    expect(sessionPresent).toBe(false);
    expect(payloads).toEqual([]);
    await closeAll(sender);
  });

  it('keeps a session whose client stays connected past the expiry', async () => {
    const { client } = await connectSession(broker, 'eve/phone', 'eve');
    const record = recordMessages(client);
    expect(await subscribeRaw(client, ['eve/feed'])).toEqual([1]);
    // A sweep has run past eve/phone's expiry once another session of hers, left later, expired.
    await leaveSubscribed(broker, 'eve/tablet', 'eve');
    await broker.waitForLog(auditOf('eve/tablet', 'session'), 5000);
    const sender = await connected(connectClient(broker, 'mqtts', 'eve/laptop', userToken('eve')));
    await sender.publishAsync('eve/feed', 'kept', { qos: 1 });
    expect((await record.waitFor('eve/feed')).payload).toBe('kept');
    expect(broker.logLines.filter(auditOf('eve/phone', 'session'))).toEqual([]);
    await closeAll(sender, client);
  });
});

describe('sessions per user', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ MAX_SESSIONS_PER_USER: '2' });
  });
  afterAll(async () => {
    await broker.close();
  });

  it('removes the session away longest once a user holds more than MAX_SESSIONS_PER_USER', async () => {
    await leaveSubscribed(broker, 'fay/1', 'fay');
    await leaveSubscribed(broker, 'fay/2', 'fay');
    // Another user's sessions do not count.
    await leaveSubscribed(broker, 'gus/1', 'gus');
    const { client: third } = await connectSession(broker, 'fay/3', 'fay');
    const audit = await broker.waitForLog(auditOf('fay/1', 'session'));
    expect(audit).toMatchObject({ code: 'ERR_TOO_MANY_SESSIONS' });
    // fay/3 (connected) and fay/2 are the two left; connecting fay/2 removes nothing (fay/3 is connected).
    const sender = await connected(connectClient(broker, 'mqtts', 'fay/laptop', userToken('fay')));
    await closeAll(third);
    expect((await drained(broker, 'fay/2', 'fay', sender)).sessionPresent).toBe(true);
    const gusSender = await connected(connectClient(broker, 'mqtts', 'gus/laptop', userToken('gus')));
    expect((await drained(broker, 'gus/1', 'gus', gusSender)).sessionPresent).toBe(true);
    expect(broker.logLines.filter(auditOf('fay/2', 'session'))).toEqual([]);
    expect(broker.logLines.filter(auditOf('gus/1', 'session'))).toEqual([]);
    // fay/1 starts anew (and, a third session again, removes the one away longest: fay/3).
    expect((await drained(broker, 'fay/1', 'fay', sender)).sessionPresent).toBe(false);
    await closeAll(sender, gusSender);
  });
});

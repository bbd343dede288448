// Request/response through a real handler process, devices as SDK clients over WSS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../client-sdk/index.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { connectClient, connected, closeAll } from '../support/clients.ts';
import { devicesOf, startEchoHandler } from '../support/devices.ts';
import { stopAll } from '../support/processes.ts';
import { userToken } from '../support/tokens.ts';

let broker: TestBroker;
const devices = devicesOf(() => broker);
const device = (userId: string, suffix?: string) => devices.connect(userId, suffix);

beforeAll(async () => {
  broker = await startTestBroker();
  await startEchoHandler(broker);
}, 60_000);

afterAll(async () => {
  await devices.closeAll();
  await stopAll();
  await broker?.close();
});

describe('request/response through a handler process', () => {
  it('resolves with the handler reply; the sender is the topic partition, not the payload', async () => {
    const alice = await device('alice');
    const reply = await alice.request('echo', { userId: 'mallory', n: 1 });
    expect(reply).toMatchObject({ userId: 'alice', data: { userId: 'mallory', n: 1 } });
  });

  it('rejects with ERR_HANDLER carrying the handler code and message', async () => {
    const alice = await device('alice', 'tablet');
    const error: unknown = await alice.request('fail').catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      code: 'ERR_HANDLER',
      handlerCode: 'NO_APPLES',
      message: 'the basket is empty',
    });
  });

  it('rejects with ERR_HANDLER and a generic message when the handler throws a plain error', async () => {
    const alice = await device('alice', 'laptop');
    const error: unknown = await alice.request('crash').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_HANDLER', handlerCode: 'ERR_HANDLER' });
    expect((error as Error).message).not.toContain('internal detail');
  });

  it('rejects with ERR_TIMEOUT when the reply is late, and ignores the late reply', async () => {
    const bob = await device('bob');
    const late = bob.request('slow', { ms: 1_000 }, { timeout: 100 });
    await expect(late).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    // The client keeps working after the late reply arrives.
    expect(await bob.request('slow', { ms: 1_000 })).toMatchObject({ userId: 'bob' });
  });

  it('rejects with ERR_TIMEOUT when no handler serves the command', async () => {
    const bob = await device('bob', 'tablet');
    await expect(bob.request('nobody_serves_this', {}, { timeout: 300 })).rejects.toMatchObject({
      code: 'ERR_TIMEOUT',
    });
  });

  it('rejects with ERR_OFFLINE when offline and asked not to queue', async () => {
    const bob = await device('bob', 'watch');
    await bob.disconnect();
    await expect(bob.request('echo', 1, { queue: false })).rejects.toMatchObject({ code: 'ERR_OFFLINE' });
    await expect(bob.publish('echo', 1, { queue: false })).rejects.toMatchObject({ code: 'ERR_OFFLINE' });
  });

  it('refuses a bad token with ERR_NOT_AUTHORIZED', async () => {
    const token = userToken('carol', {}, { expiresIn: -3600 }); // expired beyond the clock tolerance
    await expect(connect({ url: broker.wssUrl, token, mqtt: { ca: broker.ca } })).rejects.toMatchObject({
      code: 'ERR_NOT_AUTHORIZED',
    });
  });

  it('never shows one user the replies of another', async () => {
    const [alice, bob] = await Promise.all([device('alice', 'spy-test'), device('bob', 'spy-test')]);
    // A raw client of bob's listening to his whole partition.
    const raw = await connected(connectClient(broker, 'wss', 'bob/raw', userToken('bob')));
    const seenByBob: string[] = [];
    raw.on('message', (topic) => seenByBob.push(topic));
    await raw.subscribeAsync('bob/#', { qos: 1 });
    const replies = await Promise.all([
      ...Array.from({ length: 10 }, (_, n) => alice.request('echo', { from: 'alice', n })),
      ...Array.from({ length: 10 }, (_, n) => bob.request('echo', { from: 'bob', n })),
    ]);
    replies.forEach((reply, index) =>
      expect(reply).toMatchObject({ userId: index < 10 ? 'alice' : 'bob', data: { n: index % 10 } }),
    );
    // The raw client's copies travel on their own connection: they may land just after bob's replies.
    await expect.poll(() => seenByBob.filter((topic) => topic === 'bob/echo/reply').length).toBe(10);
    expect(seenByBob.every((topic) => topic.startsWith('bob/'))).toBe(true);
    await closeAll(raw);
  });

  it('matches 200 concurrent requests from 10 devices', async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, (_, n) => device(`user${n}`, 'load')));
    const replies = await Promise.all(
      clients.flatMap((client, n) =>
        Array.from({ length: 20 }, (_, k) =>
          client.request<{ userId: string; data: { n: number; k: number } }>('echo', { n, k }),
        ),
      ),
    );
    expect(replies).toHaveLength(200);
    replies.forEach((reply, index) => {
      const n = Math.floor(index / 20);
      expect(reply).toMatchObject({ userId: `user${n}`, data: { n, k: index % 20 } });
    });
  });

  it('passes binary payloads through untouched', async () => {
    const dave = await device('dave');
    const bytes = Uint8Array.from([0, 255, 1, 254, 0x7b, 0x22]);
    let resolveBytes: (data: Uint8Array) => void = () => undefined;
    const received = new Promise<Uint8Array>((resolve) => (resolveBytes = resolve));
    await dave.observe<Uint8Array>('echoed', (data) => resolveBytes(data), { raw: true });
    await dave.publish('bytes', bytes);
    expect(Buffer.from(await received).equals(Buffer.from(bytes))).toBe(true);
  });
});

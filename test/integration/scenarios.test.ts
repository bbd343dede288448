// The cashew scenarios end to end: each example handler its own process, devices as SDK clients over WSS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type CashewClient } from '../../client-sdk/index.ts';
import type { Apple } from '../../handlers/examples/apple-basket.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { startHandlerProcess, stopAll } from '../support/processes.ts';
import { userToken } from '../support/tokens.ts';

const EXAMPLES = ['ping', 'apples', 'more-apples', 'more-apples-store', 'contacts'];

let broker: TestBroker;
const devices: CashewClient[] = [];

async function device(userId: string): Promise<CashewClient> {
  const client = await connect({ url: broker.wssUrl, token: userToken(userId), mqtt: { ca: broker.ca } });
  devices.push(client);
  return client;
}

/**
 * Observes `event` (resolves once the subscription is granted); `events` resolves with the first
 * `count` of them, or rejects after `timeoutMs`.
 */
async function listen<T>(
  client: CashewClient,
  event: string,
  count: number,
  timeoutMs = 5_000,
): Promise<{ events: Promise<T[]> }> {
  const received: T[] = [];
  let settle: (() => void) | undefined;
  const events = new Promise<T[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`only ${received.length}/${count} ${event}`)), timeoutMs);
    settle = () => {
      clearTimeout(timer);
      resolve(received);
    };
  });
  const unobserve = await client.observe<T>(event, (data) => {
    received.push(data);
    if (received.length === count) settle?.();
  });
  return { events: events.finally(() => unobserve()) };
}

beforeAll(async () => {
  broker = await startTestBroker();
  await Promise.all(
    EXAMPLES.map((name) => startHandlerProcess(`handlers/examples/${name}.ts`, { url: broker.mqttsUrl })),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(devices.map((client) => client.close()));
  await stopAll();
  await broker?.close();
});

describe('the cashew scenarios, one process per handler', () => {
  it('ping → pong', async () => {
    const phone = await device('68946');
    const pong = await listen<string>(phone, 'pong', 1);
    await phone.publish('ping', 'hello');
    expect(await pong.events).toEqual(['hello']);
    expect(await phone.request('ping')).toBe('pong');
  });

  it('apples: requested and received; more apples answered by two handlers, 9 apples in all', async () => {
    const phone = await device('4711');
    const got = await listen<{ source: string; apples: Apple[] }>(phone, 'got_apples', 1);
    const more = await listen<{ source: string; apples: Apple[] }>(phone, 'got_more_apples', 2);
    await phone.publish('get_apples');
    await phone.publish('more_apples');
    const [first] = await got.events;
    const sets = await more.events;
    expect(first?.apples).toHaveLength(3);
    expect(sets.map((set) => set.source).sort()).toEqual(['more-apples', 'more-apples-store']);
    const all = [...(first?.apples ?? []), ...sets.flatMap((set) => set.apples)];
    expect(all).toHaveLength(9);
    expect(new Set(all.map((apple) => apple.colour)).size).toBe(9);
  });

  it('the store-backed handler keeps what a device adds', async () => {
    const phone = await device('store-user');
    expect(await phone.request('add_apple', { colour: 'gold', variety: 'Ambrosia' })).toEqual({ count: 4 });
    await expect(phone.request('add_apple', { colour: 'gold' })).rejects.toMatchObject({
      code: 'ERR_HANDLER',
      handlerCode: 'BAD_APPLE',
    });
  });

  it('add a contact: requested, stored, contact_requested to user 2, accepted, contact_approved to user 1', async () => {
    const [one, two] = await Promise.all([device('user-1'), device('user-2')]);
    const requested = await listen<{ from: string }>(two, 'contact_requested', 1);
    expect(await one.request('request_contact', { contact: 'user-2' })).toEqual({ requested: 'user-2' });
    expect(await requested.events).toEqual([{ from: 'user-1' }]);

    const approved = await listen<{ by: string }>(one, 'contact_approved', 1);
    await two.publish('accept_contact', { contact: 'user-1' });
    expect(await approved.events).toEqual([{ by: 'user-2' }]);

    // Accepting a request that was never made is a coded error.
    await expect(two.request('accept_contact', { contact: 'nobody' })).rejects.toMatchObject({
      handlerCode: 'NO_SUCH_REQUEST',
    });
  });

  it('contact list: get_contact_list is answered on <userId>/contact_list', async () => {
    const one = devices.find((client) => client.userId === 'user-1') ?? (await device('user-1'));
    const list = await listen<{ contacts: string[] }>(one, 'contact_list', 1);
    await one.publish('get_contact_list');
    expect(await list.events).toEqual([{ contacts: ['user-2'] }]);
  });

  // Runs last: every scenario above ran on the default limits, none of its traffic may have hit one.
  it('the demo traffic hits no default limit', () => {
    const refusals = broker.logLines.filter((line) => line.audit === 'refused');
    expect(refusals.filter((line) => line.action === 'limit' || line.action === 'session')).toEqual([]);
  });
});

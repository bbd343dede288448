// The SDK keeps a live connection's token fresh over the connection itself (docs/protocol.md#token-refresh):
// a device with 5-second tokens stays connected for 30 s while QoS 1 commands, replies and events flow
// both ways through the echo handler (its own process), none lost, none duplicated; and a refusal no
// new token cures ends the connection with a typed error instead of a reconnect loop.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../client-sdk/index.ts';
import { startTestBroker, TEST_SECRET, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected, recordMessages } from '../support/clients.ts';
import { startEchoHandler } from '../support/devices.ts';
import { stopAll } from '../support/processes.ts';
import { userToken } from '../support/tokens.ts';

let broker: TestBroker;
beforeAll(async () => {
  // No clock tolerance: a 5-second token ends the connection 5 s after it was signed.
  broker = await startTestBroker({ JWT_CLOCK_TOLERANCE: '0' });
  await startEchoHandler(broker);
});
afterAll(async () => {
  await stopAll();
  await broker?.close();
});

const RUN_MS = 30_000;
const fiveSecondToken = (userId: string, secret = TEST_SECRET): string =>
  jwt.sign({ sub: userId }, secret, { algorithm: 'HS256', expiresIn: 5 });

describe('the SDK refreshing its token in-band', () => {
  it('stays connected for 30 s on 5-second tokens; QoS 1 both ways, none lost or duplicated', async () => {
    const userId = 'refresh-30s';
    let tokens = 0;
    const device = await connect({
      url: broker.wssUrl,
      getToken: () => {
        tokens += 1;
        return fiveSecondToken(userId);
      },
      clientIdSuffix: 'phone',
      mqtt: { ca: broker.ca },
    });
    // A second device of the user sees every message of the partition: the proof of "once each".
    const watcher = await connected(connectClient(broker, 'mqtts', `${userId}/watcher`, userToken(userId)));
    const seen = recordMessages(watcher);
    await watcher.subscribeAsync(`${userId}/#`, { qos: 1 });
    const states: string[] = [];
    device.onState((state) => states.push(state));
    const events: number[] = [];
    await device.observe<{ n: number }>('echoed', (data) => events.push(data.n));

    const started = Date.now();
    let sent = 0;
    let burst = 0;
    const replies: number[] = [];
    while (Date.now() - started < RUN_MS) {
      sent += 1;
      const reply = await device
        .request<{ data: { n: number } }>('echo', { n: sent }, { timeout: 10_000 })
        .catch((error: unknown) => {
          // What the broker said about this device meanwhile, for the failure message.
          const about = broker.logLines.filter((line) => line.clientId === device.clientId).slice(-3);
          writeFileSync(join(tmpdir(), 'cashew-sdk-refresh-failure.json'), JSON.stringify(broker.logLines));
          void device.close();
          throw new Error(
            `request ${sent}: ${String(error)}; states ${states.join(',')}; ${JSON.stringify(about)}`,
          );
        });
      replies.push(reply.data.n);
      if (sent % 20 === 0) {
        // Every ~2 s, ten events from the handler to the device (QoS 1, each its own PUBLISH).
        burst += 1;
        await device.request('burst', { to: userId, count: 10 }, { timeout: 10_000 });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const elapsedMs = Date.now() - started;
    // Events and the watcher's copies may still be on their way: wait for the last of each.
    await seen.waitFor(`${userId}/echo/reply`);
    const expectedEvents = burst * 10;
    const deadline = Date.now() + 10_000;
    while (
      (events.length < expectedEvents || countOf(seen.messages, `${userId}/echo/reply`) < sent) &&
      Date.now() < deadline
    )
      await new Promise((resolve) => setTimeout(resolve, 50));

    expect(device.connected).toBe(true);
    expect(states).toEqual([]); // never offline, never reconnecting
    expect(replies).toEqual(Array.from({ length: sent }, (_, index) => index + 1));
    expect(events).toHaveLength(expectedEvents);
    expect(countOf(seen.messages, `${userId}/echo`)).toBe(sent);
    expect(countOf(seen.messages, `${userId}/echo/reply`)).toBe(sent);
    expect(countOf(seen.messages, `${userId}/echoed`)).toBe(expectedEvents);
    const refreshes = broker.logLines.filter(
      (line) => line.audit === 'accepted' && line.action === 'refresh' && line.clientId === device.clientId,
    );
    // 30 s of 5-second tokens, renewed at two thirds of their life: about nine refreshes.
    expect(refreshes.length).toBeGreaterThanOrEqual(Math.floor(elapsedMs / 5000));
    expect(tokens).toBeGreaterThanOrEqual(refreshes.length + 1);
    console.info(
      `sdk refresh: ${sent} requests, ${expectedEvents} events, ${refreshes.length} refreshes, ${tokens} tokens in ${elapsedMs} ms`,
    );
    await device.close();
    await closeAll(watcher);
  }, 90_000);

  it('gives up with a typed error when the new token is refused for good (a bad signature)', async () => {
    let forged = false;
    let forgedCalls = 0;
    const device = await connect({
      url: broker.mqttsUrl,
      // Connected with a good token; the next ones are signed with a key the broker does not trust.
      getToken: () => {
        if (!forged) return fiveSecondToken('refresh-forged');
        forgedCalls += 1;
        return fiveSecondToken('refresh-forged', 'a-forger-secret-that-is-long-enough-01');
      },
      clientIdSuffix: 'phone',
      mqtt: { ca: broker.ca },
    });
    forged = true;
    const closed = new Promise<unknown>((resolve) =>
      device.onState((state, error) => {
        if (state === 'closed') resolve(error);
      }),
    );
    expect(await closed).toMatchObject({ code: 'ERR_TOKEN_SIGNATURE' });
    expect(device.failure?.code).toBe('ERR_TOKEN_SIGNATURE');
    await expect(device.request('echo', {})).rejects.toMatchObject({ code: 'ERR_TOKEN_SIGNATURE' });
    await broker.waitForLog(
      (line) => line.audit === 'refused' && line.action === 'refresh' && line.clientId === device.clientId,
    );
    // One refresh tried, no reconnect loop.
    expect(forgedCalls).toBe(1);
  }, 20_000);
  it('falls back to a reconnect with a fresh token when the broker refuses a refresh for now (its rate)', async () => {
    // One refresh per hour: the first is accepted, the second is refused with ERR_REFRESH_RATE.
    const strict = await startTestBroker({ JWT_CLOCK_TOLERANCE: '0', TOKEN_REFRESH_INTERVAL_MS: '3600000' });
    try {
      const device = await connect({
        url: strict.mqttsUrl,
        getToken: () => jwt.sign({ sub: 'refresh-rate' }, TEST_SECRET, { algorithm: 'HS256', expiresIn: 3 }),
        clientIdSuffix: 'phone',
        mqtt: { ca: strict.ca },
        backoff: { initialMs: 50, maxMs: 200 },
      });
      const states: string[] = [];
      device.onState((state) => states.push(state));
      await strict.waitForLog((line) => line.audit === 'accepted' && line.clientId === device.clientId);
      await strict.waitForLog(
        (line) => line.code === 'ERR_REFRESH_RATE' && line.clientId === device.clientId,
      );
      await expect.poll(() => states.join(','), { timeout: 5000 }).toBe('offline,connecting,online');
      expect(device.failure).toBeUndefined();
      expect(strict.logLines.filter((line) => line.action === 'expire')).toEqual([]);
      await device.close();
    } finally {
      await strict.close();
    }
  }, 30_000);
});

function countOf(messages: readonly { topic: string }[], topic: string): number {
  return messages.filter((message) => message.topic === topic).length;
}

// Presence through the handler runtime and the SDK: a real handler process granted presence relays a
// watched user's events, which the watcher's SDK reads with observePresence; runHandler's
// observePresence in-process; a handler that observes presence without the grant does not start.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PresenceEvent } from '../../client-sdk/index.ts';
import { defineHandler, runHandler } from '../../handlers/index.ts';
import { startTestBroker, TEST_CERTS_DIR, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected } from '../support/clients.ts';
import { devicesOf } from '../support/devices.ts';
import { startHandlerProcess, startProcess, stopAll } from '../support/processes.ts';
import { quietFor } from '../support/presence.ts';
import { handlerToken, presenceHandlerToken, userToken } from '../support/tokens.ts';

const GRACE_MS = 300;

let broker: TestBroker;
const devices = devicesOf(() => broker);
beforeAll(async () => {
  broker = await startTestBroker({ PRESENCE_GRACE_MS: String(GRACE_MS) });
});
afterAll(async () => {
  await devices.closeAll();
  await stopAll();
  await broker.close();
});

function recorder(): {
  events: PresenceEvent[];
  waitFor(n: number, timeoutMs?: number): Promise<PresenceEvent[]>;
} {
  const events: PresenceEvent[] = [];
  return {
    events,
    waitFor: async (n, timeoutMs = 10_000) => {
      await expect.poll(() => events.length, { timeout: timeoutMs, interval: 20 }).toBeGreaterThanOrEqual(n);
      return events;
    },
  };
}

describe('observePresence', () => {
  it('a handler process relays a watched user presence to the watcher SDK, and nothing else', async () => {
    await startHandlerProcess('test/support/handlers/presence-relay.ts', {
      url: broker.mqttsUrl,
      env: { CASHEW_TOKEN: presenceHandlerToken('relay', ['watch_presence'], ['presence']) },
    });
    const walt = await devices.connect('walt');
    const seen = recorder();
    await walt.observePresence((event) => seen.events.push(event));
    expect(await walt.request('watch_presence', { of: 'amy' })).toEqual({ watching: 'amy' });

    const amy = await devices.connect('amy');
    const zed = await devices.connect('zed'); // not watched: walt never hears of zed
    const [online] = await seen.waitFor(1);
    expect(online).toMatchObject({ userId: 'amy', online: true, devices: 1 });
    await amy.close();
    const events = await seen.waitFor(2);
    expect(events[1]).toMatchObject({ userId: 'amy', online: false, devices: 0 });
    await zed.close();
    await quietFor(GRACE_MS * 3);
    expect(seen.events.map((event) => [event.userId, event.online])).toEqual([
      ['amy', true],
      ['amy', false],
    ]);
  });

  it('runHandler: observePresence in-process, stopped by the function it returns', async () => {
    const handler = defineHandler({ name: 'watch', commands: { noop: () => undefined } });
    const running = await runHandler(handler, {
      url: broker.mqttsUrl,
      getToken: () => presenceHandlerToken('watch', ['noop']),
      logger: pino({ level: 'silent' }),
      mqtt: { ca: broker.ca },
    });
    const seen = recorder();
    const stop = await running.observePresence((event) => {
      seen.events.push(event);
    });
    const ida = await devices.connect('ida');
    expect((await seen.waitFor(1))[0]).toMatchObject({ userId: 'ida', online: true });
    await stop();
    await ida.close();
    await quietFor(GRACE_MS * 3);
    expect(seen.events).toHaveLength(1);
    await running.stop();
  });

  it('a handler observing presence without the grant fails to start (SUBACK 0x80)', async () => {
    const handler = startProcess(
      'relay without grant',
      ['handler', 'test/support/handlers/presence-relay.ts'],
      {
        CASHEW_URL: broker.mqttsUrl,
        CERTS_DIR: TEST_CERTS_DIR,
        CASHEW_TOKEN: handlerToken('relay', ['watch_presence'], ['presence']),
      },
    );
    expect(await handler.exited).not.toBe(0);
    expect(handler.text.join('\n')).toContain('refused $cashew/presence/+');
    await broker.waitForLog(
      (line) =>
        line.audit === 'refused' && line.identity === 'handler:relay' && line.topic === '$cashew/presence/+',
    );
  });

  it('a user SDK ignores a relayed payload that is not a presence event', async () => {
    const una = await devices.connect('una');
    const seen = recorder();
    await una.observePresence((event) => seen.events.push(event));
    // The user's own raw MQTT client stands in for a handler relaying a bad, then a good payload.
    const raw = await connected(connectClient(broker, 'mqtts', 'una/raw', userToken('una')));
    await raw.publishAsync('una/presence', JSON.stringify({ userId: 'una', online: 'maybe' }), { qos: 1 });
    await raw.publishAsync(
      'una/presence',
      JSON.stringify({ userId: 'una', online: true, devices: 1, at: 1 }),
      {
        qos: 1,
      },
    );
    await seen.waitFor(1);
    await closeAll(raw);
    expect(seen.events).toEqual([{ userId: 'una', online: true, devices: 1, at: 1 }]);
  });
});

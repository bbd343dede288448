// `cashew handler <module>` as a process: reconnects with backoff, honours CASHEW_TOKEN and its grants,
// fails clearly on a bad setup.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect } from '../../client-sdk/index.ts';
import { startTestBroker, TEST_CERTS_DIR, type TestBroker } from '../support/broker.ts';
import { startHandlerProcess, startProcess, stopAll } from '../support/processes.ts';
import { handlerToken, userToken } from '../support/tokens.ts';

const brokers: TestBroker[] = [];

async function broker(settings: Record<string, string> = {}): Promise<TestBroker> {
  const started = await startTestBroker(settings);
  brokers.push(started);
  return started;
}

afterAll(async () => {
  await stopAll();
  await Promise.all(brokers.map((started) => started.close()));
});

describe('cashew handler <module>', () => {
  it('reconnects with backoff when the broker restarts, and serves again', async () => {
    const first = await broker();
    const handler = await startHandlerProcess('test/support/handlers/echo.ts', { url: first.mqttsUrl });
    await first.close();
    await handler.waitForLine((line) => line.msg === 'reconnecting');
    const second = await broker({ MQTTS_PORT: String(first.ports.mqtts) });
    await handler.waitForLine(
      (line) =>
        line.msg === 'handler online' && handler.lines.filter((l) => l.msg === 'handler online').length === 2,
    );
    const device = await connect({ url: second.wssUrl, token: userToken('back'), mqtt: { ca: second.ca } });
    await expect
      // The handler re-subscribes right after its CONNACK; the first request may race it.
      .poll(() => device.request('echo', 1, { timeout: 1_000 }).catch(() => undefined), {
        timeout: 15_000,
        interval: 100,
      })
      .toMatchObject({ userId: 'back' });
    await device.close();
    expect(await handler.stop('SIGTERM')).toBe(0);
  }, 60_000);

  it('uses CASHEW_TOKEN, and stops with a clear error when the token does not grant a command', async () => {
    const running = await broker();
    const handler = startProcess('narrow echo', ['handler', 'test/support/handlers/echo.ts'], {
      CASHEW_URL: running.mqttsUrl,
      CASHEW_TOKEN: handlerToken('echo', ['echo'], ['echoed']),
      CASHEW_CA: join(TEST_CERTS_DIR, 'ca.crt'),
    });
    expect(await handler.exited).toBe(1);
    expect(handler.text.join('\n')).toContain('the broker refused +/fail');
  }, 30_000);

  it('refuses a module that exports no handler', async () => {
    const handler = startProcess('not a handler', ['handler', 'handlers/examples/apple-basket.ts']);
    expect(await handler.exited).toBe(1);
    expect(handler.text.join('\n')).toContain('exports no handler');
  }, 30_000);
});

// Handler processes and their token sources (docs/handlers.md#tokens): a handler on 5-second OAuth2
// client-credentials tokens from a stand-in token endpoint serves requests for 30 s without a
// reconnect; a token no source can make good ends the process with exit code 1 and one line that
// says why — instead of the 10-minute reconnect loop of before.
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../client-sdk/index.ts';
import { startTestBroker, TEST_CERTS_DIR, TEST_SECRET, type TestBroker } from '../support/broker.ts';
import { startHandlerProcess, startProcess, stopAll, type ChildHandle } from '../support/processes.ts';
import { startTokenEndpoint, type TokenEndpoint } from '../support/token-endpoint.ts';
import { userToken } from '../support/tokens.ts';

/** What the echo handler (test/support/handlers/echo.ts) serves and emits. */
const ECHO = {
  name: 'echo',
  commands: ['echo', 'fail', 'crash', 'slow', 'burst', 'bytes'],
  events: ['echoed'],
};
const FORGED = 'a-forger-secret-that-is-long-enough-012345';

let broker: TestBroker;
const endpoints: TokenEndpoint[] = [];
beforeAll(async () => {
  broker = await startTestBroker({ JWT_CLOCK_TOLERANCE: '0' });
});
afterEach(async () => {
  await stopAll();
  await Promise.all(endpoints.splice(0).map((endpoint) => endpoint.close()));
});
afterAll(async () => {
  await broker?.close();
});

async function endpoint(expiresInSec: number): Promise<TokenEndpoint> {
  const started = await startTokenEndpoint({
    clientId: 'echo-m2m',
    clientSecret: 'the-right-secret',
    audience: 'https://cashew.example/api',
    claims: { sub: 'echo-m2m@clients', handler: ECHO },
    secret: TEST_SECRET,
    expiresInSec,
  });
  endpoints.push(started);
  return started;
}

function clientCredentials(at: TokenEndpoint, secret = 'the-right-secret'): NodeJS.ProcessEnv {
  return {
    CASHEW_TOKEN_URL: at.url,
    CASHEW_CLIENT_ID: 'echo-m2m',
    CASHEW_CLIENT_SECRET: secret,
    CASHEW_TOKEN_AUDIENCE: 'https://cashew.example/api',
  };
}

function echoProcess(env: NodeJS.ProcessEnv): ChildHandle {
  return startProcess('echo', ['handler', 'test/support/handlers/echo.ts'], {
    CASHEW_URL: broker.mqttsUrl,
    CASHEW_CA: join(TEST_CERTS_DIR, 'ca.crt'),
    ...env,
  });
}

/** The process' exit code and its stderr line (`cashew handler: …`), once it exited. */
async function exitOf(handler: ChildHandle, timeoutMs: number): Promise<{ code: unknown; line: string }> {
  const code = await Promise.race([
    handler.exited,
    new Promise((resolve) => setTimeout(() => resolve('still running'), timeoutMs)),
  ]);
  const lines = handler.text.filter((line) => line.startsWith('cashew handler:'));
  return { code, line: lines.join('\n') };
}

const handlerToken = (name: string, exp: number, secret = TEST_SECRET): string =>
  jwt.sign({ sub: `${name}@clients`, exp, handler: { ...ECHO, name } }, secret, { algorithm: 'HS256' });
const inSeconds = (seconds: number): number => Math.floor(Date.now() / 1000) + seconds;

describe('a handler refreshing its token in-band', () => {
  it('serves for 30 s on 5-second client-credentials tokens without a reconnect', async () => {
    const idp = await endpoint(5);
    const handler = await startHandlerProcess('test/support/handlers/echo.ts', {
      url: broker.mqttsUrl,
      env: { ...clientCredentials(idp), JWT_SECRET: '' },
    });
    const device = await connect({
      url: broker.mqttsUrl,
      token: userToken('served-30s'),
      clientIdSuffix: 'phone',
      mqtt: { ca: broker.ca },
    });
    const started = Date.now();
    let served = 0;
    try {
      while (Date.now() - started < 30_000) {
        const reply = await device.request<{ data: { n: number } }>(
          'echo',
          { n: served },
          { timeout: 10_000 },
        );
        expect(reply.data.n).toBe(served);
        served += 1;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      await device.close();
    }
    const elapsedMs = Date.now() - started;
    const clientIds = new Set(
      broker.logLines
        .filter((line) => line.action === 'refresh' && line.audit === 'accepted')
        .map((line) => line.clientId),
    );
    const refreshes = broker.logLines.filter(
      (line) =>
        line.action === 'refresh' &&
        line.audit === 'accepted' &&
        String(line.clientId).startsWith('$handler/echo/'),
    );
    // One connection all along: the handler never went offline, the broker never closed it.
    expect(handler.lines.filter((line) => line.msg === 'handler offline')).toEqual([]);
    expect(handler.lines.filter((line) => line.msg === 'handler online')).toHaveLength(1);
    expect(
      broker.logLines.filter(
        (line) => line.action === 'expire' && String(line.clientId).startsWith('$handler/'),
      ),
    ).toEqual([]);
    expect([...clientIds].filter((id) => String(id).startsWith('$handler/echo/'))).toHaveLength(1);
    expect(refreshes.length).toBeGreaterThanOrEqual(Math.floor(elapsedMs / 5000));
    expect(idp.issued).toBeGreaterThanOrEqual(refreshes.length + 1);
    expect(idp.refused).toBe(0);
    console.info(
      `handler refresh: ${served} requests served, ${refreshes.length} refreshes, ${idp.issued} tokens issued in ${elapsedMs} ms`,
    );
    expect(await handler.stop('SIGTERM')).toBe(0);
  }, 90_000);

  it('exits 1 with one line when its static token expires (no reconnect loop)', async () => {
    // Long enough for the process to start on a loaded machine (its start is not what is tested).
    const exp = inSeconds(12);
    const handler = echoProcess({ CASHEW_TOKEN: handlerToken('echo', exp) });
    const { code, line } = await exitOf(handler, 30_000);
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    expect(code).toBe(1);
    expect(line).toMatch(/^cashew handler: the handler token expired at .* \(token from CASHEW_TOKEN\)$/);
    // At most a few refused CONNECTs, not 90.
    expect(handler.lines.filter((entry) => entry.msg === 'reconnecting').length).toBeLessThanOrEqual(3);
  }, 45_000);

  it('exits 1 with one line for a token of another handler, a bad signature, refused client credentials', async () => {
    const idp = await endpoint(60);
    const cases = [
      {
        env: { CASHEW_TOKEN: handlerToken('other', inSeconds(600)) },
        says: 'the token is for handler "other", this process runs handler "echo"',
      },
      { env: { CASHEW_TOKEN: handlerToken('echo', inSeconds(600), FORGED) }, says: 'a bad signature' },
      {
        env: clientCredentials(idp, 'a-wrong-secret'),
        says: 'refused the client credentials of echo-m2m (HTTP 401: access_denied)',
      },
    ];
    const handlers = cases.map(({ env }) => echoProcess(env));
    for (const [index, handler] of handlers.entries()) {
      const { code, line } = await exitOf(handler, 30_000);
      expect(code, cases[index]?.says).toBe(1);
      expect(line.split('\n'), cases[index]?.says).toHaveLength(1);
      expect(line).toContain(cases[index]?.says);
    }
    expect(idp.refused).toBe(1);
  }, 100_000);

  it('exits 1 with one line when a refreshed token is refused for good (the IdP signs with another key)', async () => {
    // Long enough for the process to start and subscribe on a loaded machine.
    const idp = await endpoint(9);
    const handler = echoProcess(clientCredentials(idp));
    await handler.waitForLine((line) => line.msg === 'handler ready', 30_000);
    idp.signWith(FORGED);
    const { code, line } = await exitOf(handler, 20_000);
    expect(code).toBe(1);
    expect(line).toContain('cashew handler: the token signature does not verify');
    await broker.waitForLog(
      (entry) =>
        entry.audit === 'refused' && entry.action === 'refresh' && entry.code === 'ERR_TOKEN_SIGNATURE',
    );
  }, 60_000);
});

// The dev token endpoint over real HTTPS, and the guard that keeps it off non-loopback interfaces.
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveOptions, startBroker } from '../../broker/index.ts';
import { startTestBroker, TEST_SECRET, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected } from '../support/clients.ts';

interface HttpAnswer {
  readonly status: number;
  readonly body: unknown;
}

function call(
  broker: TestBroker,
  path: string,
  init: { method?: string; contentType?: string; body?: string } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: 'localhost',
        port: broker.ports.wss,
        path,
        method: init.method ?? 'POST',
        ca: broker.ca,
        timeout: 5000,
        headers: init.contentType === undefined ? {} : { 'content-type': init.contentType },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            body: text === '' ? undefined : (JSON.parse(text) as unknown),
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(init.body);
  });
}

const postJson = (broker: TestBroker, body: unknown) =>
  call(broker, '/dev/token', { contentType: 'application/json', body: JSON.stringify(body) });

describe('in dev mode on loopback', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker({ CASHEW_MODE: 'dev' });
  });
  afterAll(async () => {
    await broker.close();
  });

  it('issues a user token that the broker accepts for that user', async () => {
    const answer = await postJson(broker, { user: 'alice', ttl: 120 });
    expect(answer.status).toBe(200);
    const { token, user } = answer.body as { token: string; user: string };
    expect(user).toBe('alice');
    const device = await connected(connectClient(broker, 'wss', 'alice/web', token));
    expect(device.connected).toBe(true);
    await closeAll(device);
    await broker.waitForLog((line) => line.devToken === 'issued' && line.user === 'alice');
  });

  it('refuses invalid user ids and lifetimes with 400 and a stable code', async () => {
    for (const body of [{ user: 'a/b' }, { user: '#' }, { user: '' }, {}, { user: 'bob', ttl: 0 }, []]) {
      const answer = await postJson(broker, body);
      expect(answer.status).toBe(400);
      expect((answer.body as { code: string }).code).toBe('ERR_IDENTITY_INVALID');
    }
  });

  it('accepts only POST with a JSON body (no cross-site form posts)', async () => {
    expect((await call(broker, '/dev/token', { method: 'GET' })).status).toBe(405);
    const form = await call(broker, '/dev/token', {
      contentType: 'application/x-www-form-urlencoded',
      body: 'user=alice',
    });
    expect(form.status).toBe(415);
    const notJson = await call(broker, '/dev/token', { contentType: 'application/json', body: '{' });
    expect(notJson.status).toBe(400);
  });
});

describe('when the endpoint must be off', () => {
  it('is not served in production mode', async () => {
    const broker = await startTestBroker({ CASHEW_MODE: 'production' });
    try {
      expect((await postJson(broker, { user: 'alice' })).status).toBe(404);
    } finally {
      await broker.close();
    }
  });

  it('is not served with DEV_TOKENS=false', async () => {
    const broker = await startTestBroker({ DEV_TOKENS: 'false' });
    try {
      expect((await postJson(broker, { user: 'alice' })).status).toBe(404);
    } finally {
      await broker.close();
    }
  });

  it('cannot be turned on in production mode', () => {
    expect(() =>
      resolveOptions({
        CASHEW_MODE: 'production',
        DEV_TOKENS: 'true',
        JWT_SECRET: TEST_SECRET,
        TLS_CERT: 'c',
        TLS_KEY: 'k',
      }),
    ).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID', message: expect.stringContaining('DEV_TOKENS') }),
    );
  });
});

describe('the loopback guard', () => {
  it('refuses to start in dev mode on a non-loopback HOST with the endpoint on, before binding anything', async () => {
    const options = resolveOptions({
      HOST: '0.0.0.0',
      MQTTS_PORT: '0',
      WSS_PORT: '0',
      JWT_SECRET: TEST_SECRET,
    });
    await expect(startBroker(options)).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('DEV_TOKENS_ALLOW_REMOTE=true'),
    });
  });
});

// The admin listener's own guarantees, over real sockets: HTTPS and a bearer token whenever it binds
// off loopback (start refused without a token), /readyz, client listing by user and handler, a
// user's last-seen; and on the public port, /healthz that says nothing and no demo app in production.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterEach, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { resolveOptions } from '../../broker/index.ts';
import { startAdminListener } from '../../broker/admin/admin-listener.ts';
import { ensureDevCertificates } from '../../certs/dev-certs.ts';
import { startTestBroker, TEST_CERTS_DIR, type TestBroker } from '../support/broker.ts';
import { closeAll, closed, connectClient, connected } from '../support/clients.ts';
import { handlerToken, userToken } from '../support/tokens.ts';
import { adminCall, errorCodeOf } from '../support/admin.ts';

const ADMIN_TOKEN = 'admin-token-for-the-listener-test-0123456789';

let broker: TestBroker | undefined;
const clients: MqttClient[] = [];

afterEach(async () => {
  await closeAll(...clients.splice(0));
  await broker?.close();
  broker = undefined;
});

function publicGet(test: TestBroker, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: test.ports.wss, path, ca: test.ca, servername: 'localhost', timeout: 5000 },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('admin listener off loopback', () => {
  it('cannot start without a token', () => {
    expect(() => resolveOptions({ ADMIN_PORT: '0', ADMIN_HOST: '0.0.0.0' })).toThrow(/ADMIN_TOKEN/);
  });

  it('is HTTPS with a required token (checked here on loopback, without binding elsewhere)', async () => {
    const options = resolveOptions({ ADMIN_PORT: '0', ADMIN_HOST: '0.0.0.0', ADMIN_TOKEN }).admin;
    expect(options).toMatchObject({ tls: true, token: ADMIN_TOKEN });
    const { paths } = await ensureDevCertificates(TEST_CERTS_DIR);
    const tls = { cert: readFileSync(paths.cert), key: readFileSync(paths.key) };
    const listener = await startAdminListener(
      { ...options, host: '127.0.0.1', port: 0 },
      tls,
      (_request, response) => {
        response.end('{}');
        return Promise.resolve();
      },
    );
    try {
      const ca = readFileSync(paths.ca);
      const url = `https://localhost:${listener.port}`;
      const anonymous = await adminCall(url, '/readyz', { ca });
      expect(anonymous.status).toBe(401);
      expect(errorCodeOf(anonymous)).toBe('ERR_ADMIN_UNAUTHORIZED');
      expect((await adminCall(url, '/readyz', { ca, token: `${ADMIN_TOKEN}!` })).status).toBe(401);
      expect((await adminCall(url, '/readyz', { ca, token: ADMIN_TOKEN })).status).toBe(200);
      await expect(adminCall(`http://127.0.0.1:${listener.port}`, '/readyz')).rejects.toThrow();
    } finally {
      await listener.close();
    }
  });
});

describe('admin API on loopback', () => {
  it('lists clients by user and by handler, and shows a user with last seen', async () => {
    const test = (broker = await startTestBroker());
    const phone = connectClient(test, 'mqtts', '9001/phone', userToken('9001'));
    const web = connectClient(test, 'wss', '9002/web', userToken('9002'));
    const handler = connectClient(test, 'mqtts', '$handler/ping/1', handlerToken('ping', ['ping'], ['pong']));
    clients.push(phone, web, handler);
    await Promise.all([phone, web, handler].map((client) => connected(client)));
    const byUser = (await adminCall(test.adminUrl, '/api/clients?user=9002')).body;
    expect(byUser).toMatchObject({ total: 1, clients: [{ clientId: '9002/web', transport: 'wss' }] });
    const byHandler = (await adminCall(test.adminUrl, '/api/clients?handler=ping')).body;
    expect(byHandler).toMatchObject({
      total: 1,
      clients: [{ clientId: '$handler/ping/1', role: 'handler' }],
    });
    const limited = (await adminCall(test.adminUrl, '/api/clients?limit=1')).body as { clients: unknown[] };
    expect(limited.clients).toHaveLength(1);
    expect((await adminCall(test.adminUrl, '/api/clients?limit=0')).status).toBe(400);
    const closing = closed(phone);
    phone.end(true);
    await closing;
    const user = await adminCall(test.adminUrl, '/api/users/9001');
    expect(user.body).toMatchObject({ userId: '9001', connected: false, devices: [] });
    expect(typeof (user.body as { lastSeen?: unknown }).lastSeen).toBe('string');
    expect((await adminCall(test.adminUrl, '/readyz')).body).toMatchObject({
      ready: true,
      checks: { listeners: 'ok', jwks: 'not used' },
    });
  });

  it('lists persistent sessions, connected and gone, but not clean ones', async () => {
    const test = (broker = await startTestBroker());
    const kept = connectClient(test, 'mqtts', '9101/phone', userToken('9101'), { clean: false });
    const clean = connectClient(test, 'mqtts', '9101/web', userToken('9101'));
    clients.push(kept, clean);
    await Promise.all([connected(kept), connected(clean)]);
    const live = (await adminCall(test.adminUrl, '/api/sessions?user=9101')).body;
    expect(live).toMatchObject({ total: 1, sessions: [{ clientId: '9101/phone', connected: true }] });
    const closing = closed(kept);
    kept.end(true);
    await closing;
    const gone = (await adminCall(test.adminUrl, '/api/sessions?user=9101')).body;
    expect(gone).toMatchObject({ total: 1, sessions: [{ clientId: '9101/phone', connected: false }] });
    expect((await adminCall(test.adminUrl, '/api/sessions?handler=ping')).body).toMatchObject({ total: 0 });
  });

  it('fails the start naming ADMIN_PORT when the port is taken, and stops what it started', async () => {
    const test = (broker = await startTestBroker());
    await expect(startTestBroker({ ADMIN_PORT: String(test.admin.port) })).rejects.toMatchObject({
      code: 'ERR_START_FAILED',
      message: expect.stringContaining('ADMIN_PORT') as unknown,
    });
  });

  it('refuses more bans than BANS_MAX with 409', async () => {
    const test = (broker = await startTestBroker({ BANS_MAX: '2' }));
    for (const value of ['1', '2']) {
      expect((await adminCall(test.adminUrl, '/api/bans', { body: { kind: 'user', value } })).status).toBe(
        201,
      );
    }
    const third = await adminCall(test.adminUrl, '/api/bans', { body: { kind: 'user', value: '3' } });
    expect(third.status).toBe(409);
    expect(errorCodeOf(third)).toBe('ERR_TOO_MANY_BANS');
    // Replacing one in force is not a new one.
    expect((await adminCall(test.adminUrl, '/api/bans', { body: { kind: 'user', value: '2' } })).status).toBe(
      201,
    );
  });
});

describe('public HTTPS port', () => {
  it('answers /healthz with nothing but ok, and serves no demo app in production', async () => {
    const test = (broker = await startTestBroker({ CASHEW_MODE: 'production' }));
    const health = await publicGet(test, '/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
    expect((await publicGet(test, '/')).status).toBe(404);
    expect((await publicGet(test, '/demo/')).status).toBe(404);
    expect((await publicGet(test, '/metrics')).status).toBe(404);
  });
});

// The real `cashew` command as a child process: dev mode tells how to get a token, `cashew token`
// signs one the broker accepts, SIGTERM stops it gracefully (exit 0, clients see the close), and a
// bad setting exits non-zero with one line naming it.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closed, connected, recordMessages, subscribeRaw } from '../support/clients.ts';
import { testModeSettings } from '../support/broker.ts';
import { cleanEnv, runCli, spawnCli } from '../support/cli.ts';
import type { Supervised } from '../../cli/supervisor.ts';

describe('cashew broker in dev mode, stopped with SIGTERM', () => {
  const certsDir = mkdtempSync(join(tmpdir(), 'cashew-cli-certs-'));
  let env: NodeJS.ProcessEnv;
  let broker: Supervised;
  let ports: { mqtts: number; wss: number };

  beforeAll(async () => {
    env = cleanEnv({ CERTS_DIR: certsDir, LOG_LEVEL: 'info', ...testModeSettings() });
    broker = spawnCli(['broker', '--mqtts-port', '0', '--wss-port', '0'], env);
    const listening = await broker.waitForLine((line) => line.msg === 'cashew broker listening');
    ports = listening.ports as { mqtts: number; wss: number };
  });
  afterAll(async () => {
    await broker.stop({ signal: 'SIGKILL' });
  });

  it('logs the bound ports and how to get a token when no key is configured', async () => {
    expect(ports.mqtts).toBeGreaterThan(0);
    expect(ports.wss).toBeGreaterThan(0);
    const hint = await broker.waitForLine((line) => typeof line.howToGetAToken === 'string');
    expect(hint.howToGetAToken).toContain('cashew token --user');
    expect(hint.level).toBe(40);
  });

  it('`cashew token --user` prints a token that verifies against the dev secret, and the broker accepts it', async () => {
    const result = await runCli(['token', '--user', '68946'], env);
    expect(result.code).toBe(0);
    const token = result.stdout.trim();
    const secret = readFileSync(join(certsDir, 'jwt-secret'), 'utf8').trim();
    expect(jwt.verify(token, secret, { algorithms: ['HS256'] })).toMatchObject({ sub: '68946' });

    const ca = readFileSync(join(certsDir, 'ca.crt'));
    const options = { username: 'JWT', password: token, ca, reconnectPeriod: 0, protocolVersion: 4 as const };
    const overTls = await connected(
      mqtt.connect(`mqtts://localhost:${ports.mqtts}`, { ...options, clientId: '68946/tls' }),
    );
    const overWss = await connected(
      mqtt.connect(`wss://localhost:${ports.wss}/mqtt`, { ...options, clientId: '68946/wss' }),
    );
    expect(await subscribeRaw(overWss, ['68946/#', '4711/#'])).toEqual([1, 128]);
    const inbox = recordMessages(overWss);
    await overTls.publishAsync('68946/hello', 'from the CLI token', { qos: 1 });
    expect((await inbox.waitFor('68946/hello')).payload).toBe('from the CLI token');

    const handlerResult = await runCli(
      ['token', '--handler', 'apples', '--commands', 'get_apples', '--events', 'got_apples'],
      env,
    );
    expect(handlerResult.code).toBe(0);
    const handler = await connected(
      mqtt.connect(`mqtts://localhost:${ports.mqtts}`, {
        ...options,
        password: handlerResult.stdout.trim(),
        clientId: '$handler/apples',
      }),
    );
    expect(await subscribeRaw(handler, ['+/get_apples', '+/get_pears'])).toEqual([1, 128]);
    handler.end(true);

    const tlsClosed = closed(overTls, 15_000);
    const wssClosed = closed(overWss, 15_000);
    broker.child.kill('SIGTERM');
    expect(await broker.exited).toBe(0);
    await Promise.all([tlsClosed, wssClosed]);
    expect(broker.lines.some((line) => line.msg === 'cashew broker stopped')).toBe(true);
    overTls.end(true);
    overWss.end(true);
  });
});

describe('cashew broker stopped with SIGINT (Ctrl-C)', () => {
  it('exits 0', async () => {
    const certsDir = mkdtempSync(join(tmpdir(), 'cashew-cli-certs-'));
    const broker = spawnCli(
      ['broker', '--mqtts-port', '0', '--wss-port', '0'],
      cleanEnv({
        CERTS_DIR: certsDir,
        JWT_SECRET: 'a-secret-for-the-sigint-test-0123456789',
        ...testModeSettings(),
      }),
    );
    try {
      await broker.waitForLine((line) => line.msg === 'cashew broker listening');
      expect(broker.lines.some((line) => typeof line.howToGetAToken === 'string')).toBe(false);
      broker.child.kill('SIGINT');
      expect(await broker.exited).toBe(0);
    } finally {
      await broker.stop({ signal: 'SIGKILL' });
    }
  });
});

describe('cashew with a bad setting', () => {
  it('exits non-zero with one line naming MQTTS_PORT', async () => {
    const certsDir = mkdtempSync(join(tmpdir(), 'cashew-cli-certs-'));
    const result = await runCli(['broker', '--mqtts-port', '99999'], cleanEnv({ CERTS_DIR: certsDir }));
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('MQTTS_PORT');
  });

  it('`cashew token` refuses an invalid user id, naming --user', async () => {
    const certsDir = mkdtempSync(join(tmpdir(), 'cashew-cli-certs-'));
    const result = await runCli(['token', '--user', 'a/b'], cleanEnv({ CERTS_DIR: certsDir }));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--user');
    expect(result.stdout).toBe('');
  });
});

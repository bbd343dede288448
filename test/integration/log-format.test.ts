// The broker's output format, with a real broker process: pretty and coloured when stdout is a
// terminal (a pseudo-terminal from util-linux `script`), JSON lines when piped, JSON on a terminal
// with LOG_FORMAT=json; the connect and disconnect lines carry their fields in each format.
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureDevCertificates } from '../../certs/dev-certs.ts';
import { supervise, type Supervised } from '../../cli/supervisor.ts';
import { TEST_CERTS_DIR, TEST_SECRET, testModeSettings } from '../support/broker.ts';
import { CASHEW_BIN, cleanEnv } from '../support/cli.ts';
import { userToken } from '../support/tokens.ts';
import mqtt from 'mqtt';

const WAIT_MS = 20_000;
// eslint-disable-next-line no-control-regex -- the escape that starts an ANSI colour is the point
const ANSI = /\u001b\[\d+m/;
const running: Supervised[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((process) => process.stop({ signal: 'SIGTERM', timeoutMs: 5000 })));
});

async function brokerEnv(extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  const { paths } = await ensureDevCertificates(TEST_CERTS_DIR);
  return cleanEnv({
    HOST: '127.0.0.1',
    MQTTS_PORT: '0',
    WSS_PORT: '0',
    JWT_SECRET: TEST_SECRET,
    TLS_CERT: paths.cert,
    TLS_KEY: paths.key,
    CERTS_DIR: mkdtempSync(join(tmpdir(), 'cashew-log-')),
    LOG_LEVEL: 'info',
    ...testModeSettings(),
    ...extra,
  });
}

const quoted = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;

/** `cashew broker` with its stdout on a pseudo-terminal (`script -q -f -e -c <command> /dev/null`). */
function onTerminal(env: NodeJS.ProcessEnv): Supervised {
  const command = `${quoted(process.execPath)} ${quoted(CASHEW_BIN)} broker`;
  const child = supervise({
    name: 'broker on a tty',
    command: 'script',
    args: ['-qfec', command, '/dev/null'],
    env,
  });
  running.push(child);
  return child;
}

function piped(env: NodeJS.ProcessEnv): Supervised {
  const child = supervise({
    name: 'broker piped',
    command: process.execPath,
    args: [CASHEW_BIN, 'broker'],
    env,
  });
  running.push(child);
  return child;
}

/** Connects a user over TLS and disconnects cleanly: one connect and one disconnect line. */
async function visit(port: number, userId: string): Promise<void> {
  const ca = await readFile((await ensureDevCertificates(TEST_CERTS_DIR)).paths.ca);
  const client = await mqtt.connectAsync(`mqtts://localhost:${port}`, {
    clientId: `${userId}/phone`,
    username: 'JWT',
    password: userToken(userId),
    ca,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
  });
  await client.endAsync();
}

describe('log output format', () => {
  it('is pretty and coloured on a terminal, with the connect and disconnect fields', async () => {
    const broker = onTerminal(await brokerEnv());
    const listening = await broker.waitForText('cashew broker listening', WAIT_MS);
    expect(listening).toMatch(ANSI);
    expect(listening).toContain('INFO');
    expect(listening.trimStart().startsWith('{')).toBe(false);
    const port = Number(/"mqtts":(\d+)/.exec(listening)?.[1]);
    expect(port).toBeGreaterThan(0);
    await visit(port, 'tty-user');
    const connectedLine = await broker.waitForText('client connected', WAIT_MS);
    for (const field of ['"identity":"user:tty-user"', '"clientId":"tty-user/phone"', '"transport":"mqtts"'])
      expect(connectedLine).toContain(field);
    const disconnected = await broker.waitForText('client disconnected', WAIT_MS);
    expect(disconnected).toContain('"reason":"client-disconnect"');
    expect(disconnected).toMatch(/"sessionMs":\d+/);
    expect(broker.lines).toEqual([]); // not a single JSON line
  });

  it('is JSON lines when stdout is piped', async () => {
    const broker = piped(await brokerEnv());
    const listening = await broker.waitForLine((line) => line.msg === 'cashew broker listening', WAIT_MS);
    expect(broker.stdout()).not.toMatch(ANSI);
    await visit((listening.ports as { mqtts: number }).mqtts, 'pipe-user');
    const line = await broker.waitForLine((entry) => entry.msg === 'client disconnected', WAIT_MS);
    expect(line).toMatchObject({ level: 30, identity: 'user:pipe-user', reason: 'client-disconnect' });
  });

  it('is JSON lines on a terminal with LOG_FORMAT=json', async () => {
    const broker = onTerminal(await brokerEnv({ LOG_FORMAT: 'json' }));
    const listening = await broker.waitForLine((line) => line.msg === 'cashew broker listening', WAIT_MS);
    expect(listening.level).toBe(30);
    expect(broker.stdout()).not.toMatch(ANSI);
  });
});

// A device written in Python (Debian's python3-paho-mqtt, run by /usr/bin/python3) sends a command to
// a Cashew handler process and receives the reply, over TLS and over WSS. The device is the example of
// docs/connecting.md, run as it is.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, TEST_CERTS_DIR, type TestBroker } from '../support/broker.ts';
import { docExample } from '../support/doc-examples.ts';
import type { ChildHandle } from '../support/processes.ts';
import { startHandlerWithToken } from './handler-process.ts';
import { DEBIAN_PYTHON, runTool, toolsAvailable } from '../support/system-tools.ts';
import { handlerToken, userToken } from '../support/tokens.ts';

const available = toolsAvailable(DEBIAN_PYTHON);

describe.skipIf(!available)('a Python paho-mqtt device', () => {
  let broker: TestBroker;
  let ping: ChildHandle | undefined;
  let dir: string;
  let device: string;

  beforeAll(async () => {
    broker = await startTestBroker();
    dir = mkdtempSync(join(tmpdir(), 'cashew-paho-'));
    device = join(dir, 'device.py');
    writeFileSync(device, docExample('connecting.md', 'python'));
    ping = await startHandlerWithToken(
      broker,
      'handlers/examples/ping.ts',
      handlerToken('ping', ['ping'], ['pong']),
    );
  }, 60_000);
  afterAll(async () => {
    await ping?.stop();
    await broker?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  function runDevice(url: string, token: string, user: string) {
    return runTool(DEBIAN_PYTHON.command, [device], {
      timeoutMs: 20_000,
      env: {
        PATH: process.env.PATH ?? '',
        CASHEW_URL: url,
        CASHEW_TOKEN: token,
        CASHEW_CA: `${TEST_CERTS_DIR}/ca.crt`,
        CASHEW_USER: user,
      },
    });
  }

  it.each([
    ['TLS', 'mqtts'],
    ['WSS', 'wss'],
  ] as const)('sends ping to the handler process over %s and gets the reply', async (_name, transport) => {
    const url = transport === 'mqtts' ? broker.mqttsUrl : broker.wssUrl;
    const user = `py-${transport}`;
    const result = await runDevice(url, userToken(user), user);
    expect(result.stderr).not.toContain('Traceback');
    expect(result.code).toBe(0);
    const line = result.stdout.trim().split('\n').at(-1) ?? '';
    const [topic, json] = [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
    expect(topic).toBe(`${user}/ping/reply`);
    expect(JSON.parse(json)).toMatchObject({ ok: true, data: 'pong' });
  });

  it('is told "not authorised" when its token is refused', async () => {
    const forged = userToken('py-bad').slice(0, -4) + 'AAAA';
    const result = await runDevice(broker.wssUrl, forged, 'py-bad');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('connection refused: Connection Refused: not authorised.');
  });
});

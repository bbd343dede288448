// Debian's mosquitto_sub / mosquitto_pub against Cashew over TLS, verifying the server with the dev
// CA (--cafile), exactly as docs/connecting.md shows them (only port, CA path and token replaced).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, TEST_CERTS_DIR, type TestBroker } from '../support/broker.ts';
import { commandLine, docExample } from '../support/doc-examples.ts';
import {
  MOSQUITTO_PUB,
  MOSQUITTO_SUB,
  runTool,
  startTool,
  toolsAvailable,
  type RunningTool,
} from '../support/system-tools.ts';
import { userToken } from '../support/tokens.ts';
import { nextSubscribe } from './broker-events.ts';

/** `args` with the value after `flag` replaced (every occurrence). */
function withOption(args: readonly string[], flag: string, value: string): string[] {
  return args.map((word, index) => (args[index - 1] === flag ? value : word));
}

const available = toolsAvailable(MOSQUITTO_SUB, MOSQUITTO_PUB);
const EXAMPLE = available ? docExample('connecting.md', 'mosquitto') : '';

describe.skipIf(!available)('mosquitto-clients over TLS', () => {
  let broker: TestBroker;
  const running: RunningTool[] = [];
  const ca = `${TEST_CERTS_DIR}/ca.crt`;

  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    for (const tool of running) tool.stop();
    await Promise.all(running.map((tool) => tool.finished));
    await broker.close();
  });

  /** The documented command line for `tool`, pointed at the test broker, as user `userId`. */
  function documented(
    tool: 'mosquitto_sub' | 'mosquitto_pub',
    userId: string,
    extra: string[] = [],
  ): string[] {
    const token = userToken(userId);
    return commandLine(EXAMPLE, tool)
      .slice(1)
      .map((word) =>
        word
          .replace(/^8883$/, String(broker.ports.mqtts))
          .replace('certs/dev/ca.crt', ca)
          .replace('$TOKEN', token)
          .replaceAll('68946', userId),
      )
      .concat(extra);
  }

  function sub(args: string[]): RunningTool {
    const tool = startTool('mosquitto_sub', args, { timeoutMs: 15_000 });
    running.push(tool);
    return tool;
  }

  it('subscribes and publishes inside the own partition (the documented commands)', async () => {
    const subscribed = nextSubscribe(broker, 'alice/sub');
    const subscriber = sub(documented('mosquitto_sub', 'alice', ['-d', '-C', '1']));
    expect(await subscribed).toEqual([1]);
    const published = await runTool('mosquitto_pub', documented('mosquitto_pub', 'alice'));
    expect(published.code).toBe(0);
    const result = await subscriber.finished;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('alice/hello world\n');
  });

  it('reports the SUBACK failure for a foreign filter and still grants the own one', async () => {
    const foreignOnly = await runTool('mosquitto_sub', [
      ...withOption(documented('mosquitto_sub', 'alice'), '-t', 'bob/#'),
      ...['-W', '5'],
    ]);
    expect(foreignOnly.stderr).toContain('All subscription requests were denied.');

    const mixedSubscribed = nextSubscribe(broker, 'alice/mixed');
    const mixed = sub([
      ...withOption(documented('mosquitto_sub', 'alice'), '-i', 'alice/mixed'),
      ...['-t', 'bob/#', '-d', '-C', '1'],
    ]);
    expect(await mixedSubscribed).toEqual([1, 128]);
    const published = await runTool('mosquitto_pub', documented('mosquitto_pub', 'alice'));
    expect(published.code).toBe(0);
    const output = (await mixed.finished).stdout;
    expect(output).toContain('Subscribed (mid: 1): 1, 128');
    expect(output).toContain('alice/hello world\n');
    await broker.waitForLog(
      (line) => line.audit === 'refused' && line.action === 'subscribe' && line.topic === 'bob/#',
    );
  });

  it('never delivers a publish into a foreign partition', async () => {
    const bobSubscribed = nextSubscribe(broker, 'bob/sub');
    const bob = sub(documented('mosquitto_sub', 'bob', ['-d', '-C', '1']));
    expect(await bobSubscribed).toEqual([1]);
    const intrusion = await runTool(
      'mosquitto_pub',
      withOption(withOption(documented('mosquitto_pub', 'alice'), '-t', 'bob/hello'), '-m', 'intruder'),
    );
    expect(intrusion.code).toBe(0); // acknowledged (MQTT-3.3.5-2) and dropped
    await broker.waitForLog(
      (line) => line.audit === 'refused' && line.action === 'publish' && line.topic === 'bob/hello',
    );
    // Bob's own marker, published after the refusal was decided, is the first thing Bob receives.
    const marker = await runTool(
      'mosquitto_pub',
      withOption(documented('mosquitto_pub', 'bob'), '-m', 'marker'),
    );
    expect(marker.code).toBe(0);
    const received = await bob.finished;
    expect(received.stdout).toContain('bob/hello marker\n');
    expect(received.stdout).not.toContain('intruder');
  });

  it('prints the "not authorised" CONNACK for a bad or an expired token', async () => {
    const tampered = userToken('alice').slice(0, -4) + 'AAAA';
    const forged = await runTool(
      'mosquitto_pub',
      withOption(documented('mosquitto_pub', 'alice'), '-P', tampered),
    );
    expect(forged.code).not.toBe(0);
    expect(forged.stderr).toContain('Connection error: Connection Refused: not authorised.');

    const expired = userToken('alice', {}, { expiresIn: -120 });
    const late = await runTool(
      'mosquitto_sub',
      withOption(documented('mosquitto_sub', 'alice'), '-P', expired),
    );
    expect(late.code).not.toBe(0);
    expect(late.stderr).toContain('Connection error: Connection Refused: not authorised.');
  });

  it('prints "bad user name or password" without a token and "identifier rejected" for a foreign client id', async () => {
    const args = documented('mosquitto_pub', 'alice');
    const withoutToken = args.filter((word, index) => word !== '-P' && args[index - 1] !== '-P');
    expect((await runTool('mosquitto_pub', withoutToken)).stderr).toContain(
      'Connection error: Connection Refused: bad user name or password.',
    );
    expect((await runTool('mosquitto_pub', withOption(args, '-i', 'bob'))).stderr).toContain(
      'Connection error: Connection Refused: identifier rejected.',
    );
  });

  it('verifies the server: a CA that did not sign its certificate fails the TLS handshake', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cashew-other-ca-'));
    try {
      const otherCa = join(dir, 'ca.crt');
      const made = await runTool('openssl', [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'],
        ...['-keyout', join(dir, 'ca.key'), '-out', otherCa, '-days', '1', '-subj', '/CN=Other CA'],
      ]);
      expect(made.code).toBe(0);
      const result = await runTool(
        'mosquitto_pub',
        withOption(documented('mosquitto_pub', 'alice'), '--cafile', otherCa),
      );
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain('A TLS error occurred');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

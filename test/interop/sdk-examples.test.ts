// The Node and React Native examples of docs/connecting.md, run as they are written (only the URL,
// the CA path and the SDK import path replaced) against a ping handler process, over TLS and WSS.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, TEST_CERTS_DIR, type TestBroker } from '../support/broker.ts';
import { docExample } from '../support/doc-examples.ts';
import type { ChildHandle } from '../support/processes.ts';
import { runTool } from '../support/system-tools.ts';
import { handlerToken, userToken } from '../support/tokens.ts';
import { startHandlerWithToken } from './handler-process.ts';

/** Git-ignored, and ignored by eslint and prettier; two levels below the repository root. */
const EXAMPLES_DIR = fileURLToPath(new URL('../../test-artifacts/examples/', import.meta.url));
const CA = `${TEST_CERTS_DIR}/ca.crt`;

describe('the SDK examples of docs/connecting.md', () => {
  let broker: TestBroker;
  let ping: ChildHandle | undefined;
  const written: string[] = [];

  beforeAll(async () => {
    mkdirSync(EXAMPLES_DIR, { recursive: true });
    broker = await startTestBroker();
    ping = await startHandlerWithToken(
      broker,
      'handlers/examples/ping.ts',
      handlerToken('ping', ['ping'], ['pong']),
    );
  }, 60_000);
  afterAll(async () => {
    await ping?.stop();
    await broker?.close();
    for (const file of written) rmSync(file, { force: true });
  });

  /** Writes an example as an .mts module beside the others and runs it with tsx. */
  async function runExample(name: string, code: string, env: Record<string, string>) {
    const file = `${EXAMPLES_DIR}${name}-${process.pid}.mts`;
    writeFileSync(file, code.replaceAll("'./client-sdk/", "'../../client-sdk/"));
    written.push(file);
    return runTool(process.execPath, ['--import', 'tsx', file], {
      timeoutMs: 30_000,
      env: { PATH: process.env.PATH ?? '', ...env },
    });
  }

  it.each([
    ['TLS', 'mqtts'],
    ['WSS', 'wss'],
  ] as const)('runs the Node example over %s', async (_name, transport) => {
    const url = transport === 'mqtts' ? broker.mqttsUrl : broker.wssUrl;
    const code = docExample('connecting.md', 'node')
      .replace("'mqtts://localhost:8883'", `'${url}'`)
      .replace("'certs/dev/ca.crt'", `'${CA}'`);
    const result = await runExample(`node-${transport}`, code, { TOKEN: userToken(`node-${transport}`) });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("pong event { from: 'node' }");
    expect(result.stdout).toContain('ping reply pong');
  });

  it('runs the React Native example (in Node, over WSS, with a fresh token per connect)', async () => {
    let code = docExample('connecting.md', 'react-native').replace(
      "'wss://mqtt.example.com:8884/mqtt'",
      `'${broker.wssUrl}'`,
    );
    const stubs = [
      "const auth = { getAccessToken: async () => process.env.TOKEN ?? '' };",
      "const deviceId = 'phone-1';",
      'const show = (...values: unknown[]) => console.log(...values);',
    ].join('\n');
    const lines = code.split('\n');
    const afterImports = lines.findIndex((line) => !line.startsWith('import ') && line.trim() !== '');
    code = [
      ...lines.slice(0, afterImports),
      stubs,
      ...lines.slice(afterImports),
      'await client.close();',
    ].join('\n');
    const result = await runExample('react-native', code, {
      TOKEN: userToken('rn-user'),
      NODE_EXTRA_CA_CERTS: CA,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("pong { from: 'react-native' }");
    expect(result.stdout).toContain('reply pong');
  });
});

// Starts a real broker on ephemeral loopback ports for one test file, with its logs captured.
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import {
  createLogger,
  resolveOptions,
  startBroker,
  type RunningBroker,
  type Settings,
} from '../../broker/index.ts';
import { ensureDevCertificates } from '../../certs/dev-certs.ts';

export const TEST_SECRET = 'test-secret-that-is-long-enough-0123456789';

/** One CA and server certificate for the whole test run (made once, in the OS temp dir). */
export const TEST_CERTS_DIR = join(tmpdir(), 'cashew-test-certs');

export interface TestBroker extends RunningBroker {
  /** Every log line the broker wrote, parsed. */
  readonly logLines: Record<string, unknown>[];
  readonly ca: Buffer;
  readonly mqttsUrl: string;
  readonly wssUrl: string;
  /** Resolves with the first log line that matches, or rejects after `timeoutMs`. */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
}

export async function startTestBroker(settings: Settings = {}): Promise<TestBroker> {
  const { paths } = await ensureDevCertificates(TEST_CERTS_DIR);
  const logLines: Record<string, unknown>[] = [];
  const waiters = new Set<(line: Record<string, unknown>) => void>();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text.trim() === '') continue;
        const line = JSON.parse(text) as Record<string, unknown>;
        logLines.push(line);
        for (const waiter of waiters) waiter(line);
      }
      callback();
    },
  });
  const options = resolveOptions({
    HOST: '127.0.0.1',
    MQTTS_PORT: '0',
    WSS_PORT: '0',
    JWT_SECRET: TEST_SECRET,
    TLS_CERT: paths.cert,
    TLS_KEY: paths.key,
    CERTS_DIR: mkdtempSync(join(tmpdir(), 'cashew-certs-')),
    LOG_LEVEL: 'info',
    ...settings,
  });
  const broker = await startBroker(options, { logger: createLogger(options.logLevel, sink) });
  const ca = await readFile(paths.ca);
  function waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs = 5000) {
    const seen = logLines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error('no matching log line'));
      }, timeoutMs);
      const waiter = (line: Record<string, unknown>) => {
        if (!match(line)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(line);
      };
      waiters.add(waiter);
    });
  }
  return {
    ...broker,
    logLines,
    ca,
    mqttsUrl: `mqtts://localhost:${broker.ports.mqtts}`,
    wssUrl: `wss://localhost:${broker.ports.wss}/mqtt`,
    waitForLog,
  };
}

/** Matches the audit line of one refusal by client id (and action, when given). */
export function auditOf(clientId: string, action?: string): (line: Record<string, unknown>) => boolean {
  return (line) =>
    line.audit === 'refused' &&
    line.clientId === clientId &&
    (action === undefined || line.action === action);
}

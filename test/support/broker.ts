// Starts a real broker on ephemeral loopback ports for one test file, with its logs captured.
// CASHEW_TEST_MODE picks the broker's engine: `memory` (default, the embedded broker) or `redis`
// (scale-out: a private redis-server per test file, started and stopped by test/support/redis-mode.ts,
// its URL in REDIS_URL so that broker child processes run on it too). vitest.config.ts runs the
// integration and interop suites once in each mode.
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { TestContext } from 'vitest';
import {
  createLogger,
  resolveOptions,
  startBroker,
  type RunningBroker,
  type Settings,
  type StartDependencies,
} from '../../broker/index.ts';
import { ensureDevCertificates } from '../../certs/dev-certs.ts';
import { LogLines } from './log-lines.ts';

export const TEST_MODES = ['memory', 'redis'] as const;
export type TestMode = (typeof TEST_MODES)[number];

function testModeOf(value: string | undefined): TestMode {
  if (value === undefined || value === '') return 'memory';
  const mode = TEST_MODES.find((known) => known === value);
  if (mode === undefined)
    throw new Error(`CASHEW_TEST_MODE=${value}: expected one of ${TEST_MODES.join(', ')}`);
  return mode;
}

/** The engine the in-process test brokers run on in this run. */
export const TEST_MODE: TestMode = testModeOf(process.env.CASHEW_TEST_MODE);

/**
 * Skips the running test in `mode`, the reason shown by the reporter: for the few tests that check
 * one engine's own machinery rather than a behaviour both modes share (listed in docs/scaling.md).
 */
export function skipInMode(context: Pick<TestContext, 'skip'>, mode: TestMode, reason: string): void {
  context.skip(TEST_MODE === mode, `${mode} mode: ${reason}`);
}

/**
 * The settings that put a broker in this run's mode: none in `memory`, this test file's Redis in
 * `redis` (test/support/redis-mode.ts sets REDIS_URL). For brokers started with a clean environment.
 */
export function testModeSettings(): Record<string, string> {
  if (TEST_MODE === 'memory') return {};
  const url = process.env.REDIS_URL;
  if (url === undefined)
    throw new Error('CASHEW_TEST_MODE=redis needs REDIS_URL: add test/support/redis-mode.ts to setupFiles');
  return { REDIS_URL: url };
}

export const TEST_SECRET = 'test-secret-that-is-long-enough-0123456789';

/** One CA and server certificate for the whole test run (made once, in the OS temp dir). */
export const TEST_CERTS_DIR = join(tmpdir(), 'cashew-test-certs');

export interface TestBroker extends RunningBroker {
  /** Every log line the broker wrote, parsed. */
  readonly logLines: Record<string, unknown>[];
  readonly ca: Buffer;
  readonly mqttsUrl: string;
  readonly wssUrl: string;
  /** The admin listener (plain HTTP on loopback; test brokers always have one). */
  readonly adminUrl: string;
  /** Resolves with the first log line that matches, or rejects after `timeoutMs`. */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
}

/** `deps`: what startBroker takes beside the logger (e.g. an emitter shared with other brokers). */
export async function startTestBroker(
  settings: Settings = {},
  deps: Omit<StartDependencies, 'logger'> = {},
): Promise<TestBroker> {
  const { paths } = await ensureDevCertificates(TEST_CERTS_DIR);
  const log = new LogLines();
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      log.feed(chunk.toString('utf8'));
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
    // On in every mode, on a free port: never the production default 9883 that parallel tests would share.
    ADMIN_PORT: '0',
    ...testModeSettings(),
    ...settings,
  });
  const broker = await startBroker(options, { ...deps, logger: createLogger(options.logLevel, sink) });
  const ca = await readFile(paths.ca);
  return {
    ...broker,
    logLines: log.lines,
    ca,
    mqttsUrl: `mqtts://localhost:${broker.ports.mqtts}`,
    wssUrl: `wss://localhost:${broker.ports.wss}/mqtt`,
    adminUrl: `http://127.0.0.1:${broker.admin.port ?? 0}`,
    waitForLog: (match, timeoutMs = 5000) => log.waitFor(match, timeoutMs),
  };
}

/** Matches the audit line of one refusal by client id (and action, when given). */
export function auditOf(clientId: string, action?: string): (line: Record<string, unknown>) => boolean {
  return (line) =>
    line.audit === 'refused' &&
    line.clientId === clientId &&
    (action === undefined || line.action === action);
}

// Round-trip time of a request through a handler process: broker and `ping` handler as separate
// processes (node bin/cashew.js …), a device on the SDK over WSS and over TLS, 1,000 sequential
// `request('ping')` each after 50 warm-up ones. Prints median, p99, mean, min and max in ms.
// Run: npx tsx bench/request-rtt.ts [count]
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevSecret, signDevToken } from '../broker/index.ts';
import { connect } from '../client-sdk/index.ts';
import { startProcess, stopAll } from '../test/support/processes.ts';

const COUNT = Number(process.argv[2] ?? 1_000);
const WARM_UP = 50;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

async function measure(url: string, ca: Buffer, token: string): Promise<number[]> {
  const device = await connect({ url, token, mqtt: { ca } });
  try {
    for (let i = 0; i < WARM_UP; i += 1) await device.request('ping', i);
    const samples: number[] = [];
    for (let i = 0; i < COUNT; i += 1) {
      const started = process.hrtime.bigint();
      await device.request('ping', i);
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    return samples.sort((a, b) => a - b);
  } finally {
    await device.close();
  }
}

const certsDir = await mkdtemp(join(tmpdir(), 'cashew-rtt-'));
try {
  const env = { CERTS_DIR: certsDir, HOST: '127.0.0.1', LOG_LEVEL: 'warn' };
  const broker = startProcess(
    'broker',
    ['broker', '--mqtts-port', '0', '--wss-port', '0', '--log-level', 'info'],
    env,
  );
  const listening = await broker.waitForLine((line) => line.msg === 'cashew broker listening');
  const ports = listening.ports as { mqtts: number; wss: number };
  const handler = startProcess('ping', ['handler', 'handlers/examples/ping.ts', '--log-level', 'info'], {
    ...env,
    CASHEW_URL: `mqtts://localhost:${ports.mqtts}`,
  });
  await handler.waitForLine((line) => line.msg === 'handler ready');
  const ca = await readFile(join(certsDir, 'ca.crt'));
  const token = signDevToken({ user: 'bench' }, { secret: await ensureDevSecret(certsDir) });
  const rows: string[] = [];
  for (const [transport, url] of [
    ['wss', `wss://localhost:${ports.wss}/mqtt`],
    ['mqtts', `mqtts://localhost:${ports.mqtts}`],
  ] as const) {
    const samples = await measure(url, ca, token);
    const mean = samples.reduce((sum, value) => sum + value, 0) / samples.length;
    const f = (value: number) => value.toFixed(2).padStart(8);
    rows.push(
      `| ${transport.padEnd(9)} | ${String(samples.length).padStart(5)} | ${f(percentile(samples, 50))} | ${f(percentile(samples, 99))} | ${f(mean)} | ${f(samples[0] ?? NaN)} | ${f(samples.at(-1) ?? NaN)} |`,
    );
  }
  process.stdout.write(
    [
      `request → ping handler process → reply, sequential, ${COUNT} requests after ${WARM_UP} warm-up (ms)`,
      '| transport | count |   median |      p99 |     mean |      min |      max |',
      '| --------- | ----- | -------- | -------- | -------- | -------- | -------- |',
      ...rows,
      '',
    ].join('\n'),
  );
} finally {
  await stopAll();
  await rm(certsDir, { recursive: true, force: true });
}

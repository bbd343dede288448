// A real Prometheus server for one test file (Debian's `prometheus`): on a free loopback port, its
// own temporary storage, scraping the given targets every `scrapeIntervalSec`; stopped by `stop()`.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTool, type RunningTool } from './system-tools.ts';

export interface TestPrometheus {
  readonly url: string;
  /** The result vector of an instant query. */
  query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startPrometheus(target: {
  host: string;
  bearerToken?: string;
}): Promise<TestPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'cashew-prometheus-'));
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    '  - job_name: cashew',
    '    scrape_interval: 1s',
    '    scrape_timeout: 900ms',
    '    static_configs:',
    `      - targets: ['${target.host}']`,
    ...(target.bearerToken === undefined
      ? []
      : ['    authorization:', '      type: Bearer', `      credentials: '${target.bearerToken}'`]),
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), `${config}\n`);
  const port = await freePort();
  const tool: RunningTool = startTool(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { timeoutMs: 120_000 },
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    tool.stop();
    await tool.finished;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, 20_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    stop,
    async query(promql) {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`, {
        signal: AbortSignal.timeout(5000),
      });
      const body = (await response.json()) as {
        status: string;
        data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      if (body.status !== 'success' || body.data === undefined) throw new Error(`query ${promql} failed`);
      return body.data.result;
    },
  };
}

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) }).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`prometheus not ready within ${timeoutMs} ms`);
}

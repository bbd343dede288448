// The demo page routes over real HTTPS: what is served, with which headers, and what is not.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, resolveOptions, startBroker, type RunningBroker } from '../../broker/index.ts';
import { demoPageRoutes } from '../../broker/dev/demo-page.ts';
import { ensureDevCertificates } from '../../certs/dev-certs.ts';
import { TEST_CERTS_DIR, TEST_SECRET } from '../support/broker.ts';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

function get(port: number, ca: Buffer, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: 'localhost', port, path, ca, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function startWithDemoDir(dir: string): Promise<{ broker: RunningBroker; ca: Buffer }> {
  const { paths } = await ensureDevCertificates(TEST_CERTS_DIR);
  const options = resolveOptions({
    MQTTS_PORT: '0',
    WSS_PORT: '0',
    JWT_SECRET: TEST_SECRET,
    TLS_CERT: paths.cert,
    TLS_KEY: paths.key,
    LOG_LEVEL: 'silent',
  });
  const broker = await startBroker(options, { logger: createLogger('silent'), routes: demoPageRoutes(dir) });
  return { broker, ca: readFileSync(paths.ca) };
}

describe('a built demo app', () => {
  let dir: string;
  let broker: RunningBroker;
  let ca: Buffer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cashew-demo-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>demo</title>');
    writeFileSync(join(dir, 'app.js'), 'export {};');
    ({ broker, ca } = await startWithDemoDir(dir));
  });
  afterAll(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page at /demo/ with a strict content security policy', async () => {
    const page = await get(broker.ports.wss!, ca, '/demo/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.body).toContain('<title>demo</title>');
    const script = await get(broker.ports.wss!, ca, '/demo/app.js');
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
  });

  it('redirects / and /demo to /demo/', async () => {
    for (const path of ['/', '/demo']) {
      const answer = await get(broker.ports.wss!, ca, path);
      expect(answer.status).toBe(302);
      expect(answer.headers.location).toBe('/demo/');
    }
  });

  it('serves only the files of the app, nothing else from its directory or above', async () => {
    writeFileSync(join(dir, 'secret.txt'), 'no');
    for (const path of [
      '/demo/secret.txt',
      '/demo/../package.json',
      '/demo/%2e%2e/package.json',
      '/demo/style.css/x',
    ]) {
      expect((await get(broker.ports.wss!, ca, path)).status).toBe(404);
    }
  });

  it('answers 503 with a hint for a file of the app that is not built', async () => {
    const answer = await get(broker.ports.wss!, ca, '/demo/style.css');
    expect(answer.status).toBe(503);
    expect(answer.body).toContain('npm run build:web');
  });
});

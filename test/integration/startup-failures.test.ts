// Start-up is all or nothing, seen from outside: the real `cashew broker` as a child process, one
// case per setting that can fail at start. Each must exit with status 1 by itself (whatever it had
// started — listeners, aedes, Redis connections, timers — stopped, or it would not exit; a process
// still running 5 s after a failed start says so on stderr, which the exact-stderr check catches),
// print exactly one line on stderr naming the setting, and no stack trace. A stop signal during a
// slow start (Redis not answering) ends the process too.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevCertificates } from '../../certs/dev-certs.ts';
import type { ExitStatus, Supervised } from '../../cli/supervisor.ts';
import { startTestRedis, type TestRedis } from '../cluster/support/redis.ts';
import { TEST_CERTS_DIR, TEST_SECRET } from '../support/broker.ts';
import { cleanEnv, spawnCli } from '../support/cli.ts';

/**
 * From spawn to exit, on a loaded machine (tsx compiles the CLI first: ~2 s of it alone). Generous:
 * a process that lingers after a failed start is caught anyway, by the backstop's second stderr line.
 */
const GONE_WITHIN_MS = 45_000;
const CASE_TIMEOUT_MS = 90_000;

const scratch = mkdtempSync(join(tmpdir(), 'cashew-startup-'));
let cert: string;
let key: string;

function file(name: string, content: string): string {
  const path = join(scratch, name);
  writeFileSync(path, content);
  return path;
}

/** The exit status, or a failure (after a SIGKILL) when the process is still there after `ms`. */
async function exitWithin(broker: Supervised, ms: number): Promise<ExitStatus> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still running'>((resolve) => {
    timer = setTimeout(() => resolve('still running'), ms);
  });
  const status = await Promise.race([broker.exited, late]);
  clearTimeout(timer);
  if (status === 'still running') {
    await broker.stop({ signal: 'SIGKILL' });
    throw new Error(`still running ${ms} ms after start; stderr: ${broker.stderr()}`);
  }
  return status;
}

/** Starts `cashew broker` on ephemeral ports with a test secret and certificate, plus `settings`. */
function startBroker(settings: Record<string, string>): Supervised {
  return spawnCli(
    ['broker'],
    cleanEnv({
      HOST: '127.0.0.1',
      MQTTS_PORT: '0',
      WSS_PORT: '0',
      JWT_SECRET: TEST_SECRET,
      TLS_CERT: cert,
      TLS_KEY: key,
      CERTS_DIR: mkdtempSync(join(scratch, 'certs-')),
      LOG_LEVEL: 'info',
      ...settings,
    }),
  );
}

async function expectStartFailure(
  settings: Record<string, string>,
  line: string,
  goneWithinMs = GONE_WITHIN_MS,
): Promise<void> {
  const broker = startBroker(settings);
  expect(await exitWithin(broker, goneWithinMs)).toBe(1);
  expect(broker.stderr()).toBe(`cashew broker: ${line}\n`);
  expect(broker.lines.some((entry) => entry.msg === 'cashew broker listening')).toBe(false);
}

/** A loopback port held by another server for the test. */
async function busyPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

/**
 * A loopback server that accepts every connection and never answers. What it is sent is read and
 * dropped, so that a connection whose client has gone ends (unread data would hold it open, and
 * `server.close()` with it).
 */
async function silentServer(): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => socket.resume());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

/** A loopback port nobody listens on (bound once, then released). */
async function deadPort(): Promise<number> {
  const { port, server } = await busyPort();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const held: Server[] = [];
beforeAll(async () => {
  ({ cert, key } = (await ensureDevCertificates(TEST_CERTS_DIR)).paths);
});
afterAll(async () => {
  await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
});

describe.concurrent(
  'cashew broker refuses to start, in one line naming the setting, and exits 1',
  { timeout: CASE_TIMEOUT_MS },
  () => {
    it('TLS_CERT missing', async () => {
      await expectStartFailure(
        { TLS_CERT: '/nonexistent/tls.crt' },
        'TLS_CERT: cannot read /nonexistent/tls.crt (ENOENT)',
      );
    });

    it('TLS_KEY unreadable (a directory)', async () => {
      await expectStartFailure({ TLS_KEY: scratch }, `TLS_KEY: cannot read ${scratch} (EISDIR)`);
    });

    it('TLS_CERT not a PEM certificate', async () => {
      const garbage = file('garbage.crt', 'not a certificate\n');
      await expectStartFailure({ TLS_CERT: garbage }, `TLS_CERT: ${garbage} is not a PEM certificate`);
    });

    it('TLS_KEY not a PEM private key', async () => {
      const garbage = file('garbage.key', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n');
      await expectStartFailure(
        { TLS_KEY: garbage },
        `TLS_KEY: ${garbage} is not an unencrypted PEM private key`,
      );
    });

    it('TLS_KEY of another certificate', async () => {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const other = file('other.key', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
      await expectStartFailure(
        { TLS_KEY: other },
        `TLS_KEY: ${other} does not match the certificate ${cert}`,
      );
    });

    it('JWT_PUBLIC_KEY missing', async () => {
      await expectStartFailure(
        { JWT_SECRET: '', JWT_PUBLIC_KEY: '/nonexistent/idp.pem' },
        'JWT_PUBLIC_KEY: cannot read /nonexistent/idp.pem (ENOENT)',
      );
    });

    it('JWT_PUBLIC_KEY not a PEM public key', async () => {
      const garbage = file('garbage.pem', 'not a key\n');
      await expectStartFailure(
        { JWT_SECRET: '', JWT_PUBLIC_KEY: garbage },
        `JWT_PUBLIC_KEY: ${garbage} is not a PEM public key`,
      );
    });

    it('CERTS_DIR not writable for the dev secret (dev mode without a JWT key)', async () => {
      const underFile = join(file('a-file', ''), 'certs');
      await expectStartFailure(
        { JWT_SECRET: '', CERTS_DIR: underFile },
        `CERTS_DIR: cannot write ${underFile}/jwt-secret (ENOTDIR)`,
      );
    });

    it('CERTS_DIR not writable for dev certificates (no TLS_CERT)', async () => {
      const underFile = join(file('another-file', ''), 'certs');
      await expectStartFailure(
        { TLS_CERT: '', TLS_KEY: '', CERTS_DIR: underFile },
        `CERTS_DIR: cannot create dev certificates in ${underFile} (ENOTDIR)`,
      );
    });

    it('CERTS_DIR holding an unusable dev secret', async () => {
      const certsDir = join(scratch, 'truncated-secret');
      mkdirSync(certsDir);
      writeFileSync(join(certsDir, 'jwt-secret'), 'short\n');
      await expectStartFailure(
        { JWT_SECRET: '', CERTS_DIR: certsDir },
        `CERTS_DIR: ${certsDir}/jwt-secret holds no usable dev secret (delete it and a new one is made)`,
      );
    });

    it('REDIS_URL not answering: gives up after 10 s, naming it', async () => {
      const port = await deadPort();
      await expectStartFailure(
        { REDIS_URL: `redis://127.0.0.1:${port}` },
        `REDIS_URL: redis://127.0.0.1:${port} did not answer within 10 s`,
      );
    });

    it('REDIS_URL accepting connections and never answering: gives up after 10 s, naming it', async () => {
      // Each connection is accepted and left without a reply. The admin connection's QUIT used to wait
      // for Redis in the offline queue, for ever: the broker never exited, nor printed why.
      const { port, server } = await silentServer();
      held.push(server);
      await expectStartFailure(
        { REDIS_URL: `redis://127.0.0.1:${port}` },
        `REDIS_URL: redis://127.0.0.1:${port} did not answer within 10 s`,
      );
    });

    it('HOST not an address of this machine', async () => {
      await expectStartFailure(
        { HOST: '192.0.2.1', DEV_TOKENS: 'false' },
        'HOST: 192.0.2.1 is not an address of this machine (EADDRNOTAVAIL)',
      );
    });

    for (const setting of ['MQTTS_PORT', 'WSS_PORT', 'MQTT_PORT', 'WS_PORT'] as const) {
      it(`${setting} already in use (the listeners opened before it are closed again)`, async () => {
        const { port, server } = await busyPort();
        held.push(server);
        await expectStartFailure(
          { [setting]: String(port) },
          `${setting}: 127.0.0.1:${port} is already in use`,
        );
      });
    }
  },
);

describe('cashew broker with Redis', { timeout: CASE_TIMEOUT_MS }, () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    await redis.dispose();
  });

  it('closes its Redis connections when a listener fails after Redis was reached', async () => {
    const { port, server } = await busyPort();
    held.push(server);
    await expectStartFailure(
      { REDIS_URL: redis.url, WSS_PORT: String(port) },
      `WSS_PORT: 127.0.0.1:${port} is already in use`,
    );
  });

  it('SIGTERM while waiting for Redis aborts the start: exit 0, nothing on stderr', async () => {
    const broker = startBroker({ REDIS_URL: `redis://127.0.0.1:${await deadPort()}` });
    await broker.waitForLine((line) => line.msg === 'Redis unreachable; retrying');
    broker.child.kill('SIGTERM');
    // Exit 0 and no `REDIS_URL: … did not answer` line: the wait was aborted, not timed out.
    expect(await exitWithin(broker, 20_000)).toBe(0);
    expect(broker.stderr()).toBe('');
    expect(broker.lines.at(-1)).toMatchObject({ msg: 'stopped while starting', signal: 'SIGTERM' });
  });
});

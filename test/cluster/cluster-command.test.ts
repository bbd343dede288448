// `cashew cluster` (npm run cluster): N nodes on a private redis-server that behave as one broker,
// and Ctrl-C (SIGINT) stops every process it started.
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDevCertificates } from '../../certs/dev-certs.ts';
import { supervise } from '../../cli/supervisor.ts';
import { TEST_CERTS_DIR, TEST_SECRET } from '../support/broker.ts';
import { connected } from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';
import { collect } from './support/nodes.ts';
import { serverPort } from './support/redis.ts';

const CASHEW = new URL('../../bin/cashew.js', import.meta.url).pathname;

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const certsDir = mkdtempSync(join(tmpdir(), 'cashew-cluster-cmd-'));
afterAll(() => rmSync(certsDir, { recursive: true, force: true }));

describe('cashew cluster', () => {
  it('starts nodes on one local Redis that behave as one broker, and stops them all on SIGINT', async () => {
    const { paths } = await ensureDevCertificates(TEST_CERTS_DIR);
    const ca = await readFile(paths.ca);
    const redisPort = await serverPort();
    const cluster = supervise({
      name: 'cashew cluster',
      command: process.execPath,
      args: [
        CASHEW,
        'cluster',
        '--nodes',
        '2',
        '--mqtts-port',
        '0',
        '--wss-port',
        '0',
        '--local-redis-port',
        String(redisPort),
      ],
      env: {
        PATH: process.env.PATH ?? '',
        HOST: '127.0.0.1',
        JWT_SECRET: TEST_SECRET,
        TLS_CERT: paths.cert,
        TLS_KEY: paths.key,
        CERTS_DIR: certsDir,
      },
    });
    /** Every process the command started (every pid it logged), to kill if the test fails half-way. */
    const started = (): number[] =>
      [...cluster.stdout().matchAll(/"pid":(\d+)/g)].map((match) => Number(match[1]));
    try {
      const running = await cluster.waitForLine(
        (line) => String(line.msg).startsWith('cashew cluster running'),
        40_000,
      );
      const nodes = running.nodes as Array<{ node: string; pid: number; ports: { mqtts: number } }>;
      expect(nodes.map((node) => node.node)).toEqual(['node-1', 'node-2']);
      const [first, second] = nodes;
      if (first === undefined || second === undefined) throw new Error('two nodes expected');
      const options = { username: 'JWT', ca, protocolVersion: 4 as const, reconnectPeriod: 0 };
      const subscriber = await connected(
        mqtt.connect(`mqtts://localhost:${first.ports.mqtts}`, {
          ...options,
          clientId: 'ruth/phone',
          password: userToken('ruth'),
        }),
      );
      const publisher = await connected(
        mqtt.connect(`mqtts://localhost:${second.ports.mqtts}`, {
          ...options,
          clientId: 'ruth/web',
          password: userToken('ruth'),
        }),
      );
      await subscriber.subscribeAsync('ruth/#', { qos: 1 });
      const received = collect(subscriber);
      await publisher.publishAsync('ruth/hello', 'across nodes', { qos: 1 });
      expect(await received.waitFor(1)).toEqual([{ topic: 'ruth/hello', payload: 'across nodes' }]);
      await Promise.all([subscriber.endAsync(true), publisher.endAsync(true)]);

      cluster.child.kill('SIGINT');
      expect(await cluster.exited).toBe(0);
      for (const node of nodes) expect(() => process.kill(node.pid, 0)).toThrow();
      expect(await portOpen(redisPort)).toBe(false);
    } finally {
      await cluster.stop({ signal: 'SIGKILL' });
      for (const pid of started()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }, 60_000);
});

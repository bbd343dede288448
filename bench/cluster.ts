// Scale-out benchmark (`npm run bench:cluster`): broker CPU per delivered message and delivered
// msg/s for one in-memory node, one Redis-backed node, and two Redis-backed nodes (publishers on
// one, subscribers on the other, so every message crosses Redis). Brokers and Redis are child
// processes; CPU is read from /proc, so the figures hold on a machine shared with other work.
// Self-contained: a lean MQTT client on mqtt-packet keeps the load generator's own cost low.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { localRedisArgs, REDIS_SERVER_COMMAND } from '../broker/cluster/local-redis.ts';
import { stopAll, supervise, type Supervised } from '../cli/supervisor.ts';
import { generate, parser, type Packet } from 'mqtt-packet';

const SECRET = 'bench-secret-that-is-long-enough-0123456789';
const CASHEW = new URL('../bin/cashew.js', import.meta.url).pathname;
const PAIRS = Number(process.env.BENCH_PAIRS ?? 8);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 2);
const PAYLOAD = Buffer.alloc(64, 'x');

type Setup = 'in-memory, 1 node' | 'Redis, 1 node' | 'Redis, 2 nodes';
const SETUPS: readonly Setup[] = ['in-memory, 1 node', 'Redis, 1 node', 'Redis, 2 nodes'];

interface Child {
  readonly process: Supervised;
  readonly port: number;
}

/** CPU time of a process (all threads) in µs, from the scheduler's nanosecond counters. */
function cpuMicros(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`))
    ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  return ns / 1000;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A supervised child process, once a line of its output matches `ready` (SIGKILL if it never does). */
async function start(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
): Promise<Supervised> {
  const child = supervise({ command, args, env });
  try {
    await child.waitForText(ready, 20_000);
  } catch (error) {
    await child.stop({ signal: 'SIGKILL' });
    throw error;
  }
  return child;
}

async function startRedis(dir: string): Promise<Child> {
  const port = await freePort();
  const args = localRedisArgs(port, dir);
  const child = await start(REDIS_SERVER_COMMAND, args, process.env, /Ready to accept connections/);
  return { process: child, port };
}

async function startBroker(nodeId: string, certsDir: string, redisPort?: number): Promise<Child> {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH ?? '',
    HOST: '127.0.0.1',
    MQTTS_PORT: '0',
    WSS_PORT: '0',
    MQTT_PORT: String(port),
    JWT_SECRET: SECRET,
    CERTS_DIR: certsDir,
    DEV_TOKENS: 'false',
    NODE_ID: nodeId,
    ...(redisPort !== undefined && { REDIS_URL: `redis://127.0.0.1:${redisPort}` }),
  };
  const child = await start(
    process.execPath,
    [CASHEW, 'broker'],
    { ...env, LOG_LEVEL: 'info' },
    /broker listening/,
  );
  return { process: child, port };
}

/** One lean MQTT 3.1.1 connection: CONNECT, then raw packets in and out. */
async function open(
  port: number,
  userId: string,
  role: string,
): Promise<{ socket: Socket; packets: (on: (packet: Packet) => void) => void }> {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const parse = parser({ protocolVersion: 4 });
  socket.on('data', (chunk: Buffer) => parse.parse(chunk));
  const token = jwt.sign({ sub: userId }, SECRET, { algorithm: 'HS256', expiresIn: 3600 });
  socket.write(
    generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: `${userId}/${role}`,
      keepalive: 0,
      username: 'JWT',
      password: Buffer.from(token),
    }),
  );
  await new Promise<void>((resolve, reject) => {
    parse.once('packet', (packet: Packet) =>
      packet.cmd === 'connack' && packet.returnCode === 0 ? resolve() : reject(new Error('refused')),
    );
    socket.once('error', reject);
  });
  return { socket, packets: (on) => parse.on('packet', on) };
}

interface Measure {
  readonly deliveredPerSec: number;
  readonly brokerMicrosPerMessage: number;
  readonly redisMicrosPerMessage: number;
}

async function measure(setup: Setup, certsDir: string, redisDir: string): Promise<Measure> {
  const redis = setup === 'in-memory, 1 node' ? undefined : await startRedis(redisDir);
  const first = await startBroker('bench-1', certsDir, redis?.port);
  const second = setup === 'Redis, 2 nodes' ? await startBroker('bench-2', certsDir, redis?.port) : first;
  const brokers = first === second ? [first] : [first, second];
  let delivered = 0;
  let counting = false;
  const subscribers = await Promise.all(
    Array.from({ length: PAIRS }, async (_, index) => {
      const connection = await open(second.port, `user${index}`, 'sub');
      const subscribed = new Promise<void>((resolve) =>
        connection.packets((packet) => {
          if (packet.cmd === 'suback') resolve();
          else if (packet.cmd === 'publish' && counting) delivered += 1;
        }),
      );
      connection.socket.write(
        generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `user${index}/#`, qos: 0 }] }),
      );
      await subscribed;
      return connection;
    }),
  );
  let running = true;
  const publishers = await Promise.all(
    Array.from({ length: PAIRS }, async (_, index) => {
      const connection = await open(first.port, `user${index}`, 'pub');
      let messageId = 0;
      const send = (): void => {
        if (!running) return;
        messageId = (messageId % 65_535) + 1;
        connection.socket.write(
          generate({
            cmd: 'publish',
            topic: `user${index}/bench`,
            payload: PAYLOAD,
            qos: 1,
            messageId,
            retain: false,
            dup: false,
          }),
        );
      };
      connection.packets((packet) => {
        if (packet.cmd === 'puback') send();
      });
      return { connection, send };
    }),
  );
  for (const { send } of publishers) for (let n = 0; n < WINDOW; n += 1) send();
  await new Promise((resolve) => setTimeout(resolve, 1000)); // warm-up
  const cpuAt = (): number[] => [
    ...brokers.map((broker) => cpuMicros(broker.process.pid)),
    redis === undefined ? 0 : cpuMicros(redis.process.pid),
  ];
  const before = cpuAt();
  const startedAt = process.hrtime.bigint();
  counting = true;
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  counting = false;
  const elapsedSec = Number(process.hrtime.bigint() - startedAt) / 1e9;
  const after = cpuAt();
  running = false;
  const spent = after.map((value, index) => value - (before[index] ?? 0));
  const redisMicros = spent.pop() ?? 0;
  const brokerMicros = spent.reduce((sum, value) => sum + value, 0);
  for (const connection of [...subscribers, ...publishers.map((p) => p.connection)])
    connection.socket.destroy();
  for (const broker of brokers) await broker.process.stop();
  await redis?.process.stop();
  return {
    deliveredPerSec: delivered / elapsedSec,
    brokerMicrosPerMessage: brokerMicros / Math.max(delivered, 1),
    redisMicrosPerMessage: redisMicros / Math.max(delivered, 1),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'cashew-bench-cluster-'));
  const certsDir = join(work, 'certs');
  const redisDir = join(work, 'redis');
  mkdirSync(redisDir);
  const rows: string[] = [];
  const results: Record<string, Measure & { runs: Measure[] }> = {};
  try {
    for (const setup of SETUPS) {
      const runs: Measure[] = [];
      for (let run = 0; run < RUNS; run += 1) runs.push(await measure(setup, certsDir, redisDir));
      const result = {
        deliveredPerSec: median(runs.map((r) => r.deliveredPerSec)),
        brokerMicrosPerMessage: median(runs.map((r) => r.brokerMicrosPerMessage)),
        redisMicrosPerMessage: median(runs.map((r) => r.redisMicrosPerMessage)),
        runs,
      };
      results[setup] = result;
      rows.push(
        `| ${setup} | ${Math.round(result.deliveredPerSec)} | ${result.brokerMicrosPerMessage.toFixed(1)} | ${setup.startsWith('Redis') ? result.redisMicrosPerMessage.toFixed(1) : '—'} |`,
      );
      process.stderr.write(`${setup}: ${JSON.stringify(runs)}\n`);
    }
  } finally {
    await stopAll(); // whatever a failed run left running
    rmSync(work, { recursive: true, force: true });
  }
  const table = [
    `Cluster benchmark: ${PAIRS} publishers → ${PAIRS} subscribers (one per user partition), QoS 1 publish (window ${WINDOW}), QoS 0 delivery, ${PAYLOAD.length}-byte payload, plain TCP, ${SECONDS} s × ${RUNS} runs (median). CPU from /proc.`,
    '',
    '| setup | delivered msg/s | broker CPU µs / msg (all nodes) | redis-server CPU µs / msg |',
    '| --- | ---: | ---: | ---: |',
    ...rows,
  ].join('\n');
  process.stdout.write(`${table}\n`);
  const resultsDir = new URL('./results/', import.meta.url).pathname;
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'cluster.md'), `${table}\n`);
  writeFileSync(
    join(resultsDir, 'cluster.json'),
    `${JSON.stringify({ date: new Date().toISOString(), pairs: PAIRS, window: WINDOW, seconds: SECONDS, results }, null, 2)}\n`,
  );
}

await main();

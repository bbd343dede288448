// What one idle authenticated connection (one subscription) holds in a Node broker, by component:
// starts Cashew or raw Aedes like scenario 3 does, opens N then N more idle connections, and after a
// forced GC at each step reads process.memoryUsage() and RSS, and writes a heap snapshot. The heap is
// compared by constructor name between N and 2N, divided by N: the bytes each connection adds.
// `node --import tsx bench/idle-breakdown.ts cashew|aedes tcp|tls [N=2000] [top=25]`; top = 0: no
// snapshots, so that the RSS readings are not inflated by the snapshots' own memory.
import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDevCertificates } from '../certs/dev-certs.ts';
import { rssBytes } from './lib/proc.ts';
import { HOST, scratchDir } from './lib/systems.ts';
import { createBenchKeys, userClaims } from './lib/tokens.ts';
import { LoadWorker, sleep } from './lib/workers.ts';
import { loopbackAddresses } from './scenarios/context.ts';

const [system = 'cashew', transport = 'tcp', count = '2000', top = '25'] = process.argv.slice(2);
const N = Number(count);
const tls = transport === 'tls';
const SERVERS = fileURLToPath(new URL('./servers/', import.meta.url));

interface Reading {
  readonly rss: number;
  readonly memory: NodeJS.MemoryUsage;
  readonly heap: Map<string, { count: number; bytes: number }>;
}

/** Self size and count of each (node type, constructor name) of a V8 heap snapshot. */
function heapByName(file: string): Map<string, { count: number; bytes: number }> {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field));
  const byName = new Map<string, { count: number; bytes: number }>();
  for (let at = 0; at < snapshot.nodes.length; at += fields.length) {
    const type = types[snapshot.nodes[at + (typeAt ?? 0)] ?? 0] ?? '?';
    let name = type;
    if (type === 'object' || type === 'closure' || type === 'native')
      name = `${type} ${snapshot.strings[snapshot.nodes[at + (nameAt ?? 0)] ?? 0] ?? '?'}`;
    const entry = byName.get(name) ?? { count: 0, bytes: 0 };
    entry.count += 1;
    entry.bytes += snapshot.nodes[at + (sizeAt ?? 0)] ?? 0;
    byName.set(name, entry);
  }
  return byName;
}

const scratch = scratchDir();
const { paths } = await ensureDevCertificates(join(scratch, 'certs'));
const keys = createBenchKeys(scratch);
const snapshots = mkdtempSync(join(tmpdir(), 'cashew-heap-'));
const env =
  system === 'cashew'
    ? {
        CASHEW_BENCH_SETTINGS: JSON.stringify({
          HOST,
          MQTTS_PORT: '0',
          WSS_PORT: '0',
          MQTT_PORT: '0',
          TLS_CERT: paths.cert,
          TLS_KEY: paths.key,
          CERTS_DIR: join(scratch, 'cashew-certs'),
          LOG_LEVEL: 'warn',
          CONNECT_RATE_PER_ADDRESS: '1000000',
          CONNECT_BURST_PER_ADDRESS: '1000000',
          ...keys.settings.HS256,
        }),
      }
    : { BENCH_TLS_CERT: paths.cert, BENCH_TLS_KEY: paths.key };
const broker = fork(join(SERVERS, system === 'cashew' ? 'cashew.ts' : 'raw-aedes.ts'), [], {
  execArgv: [
    '--import',
    'tsx',
    '--expose-gc',
    '--heapsnapshot-signal=SIGUSR2',
    `--diagnostic-dir=${snapshots}`,
  ],
  env: { ...process.env, ...env },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const ports = await new Promise<Record<string, number>>((resolve) =>
  broker.on('message', (message: { type: string; ports?: Record<string, number> }) => {
    if (message.type === 'ready') resolve(message.ports ?? {});
  }),
);

async function read(): Promise<Reading> {
  const settled = (): Promise<NodeJS.MemoryUsage> =>
    new Promise((resolve) => {
      const onMessage = (message: { type: string; memory?: NodeJS.MemoryUsage }): void => {
        if (message.type !== 'gc-done' || message.memory === undefined) return;
        broker.off('message', onMessage);
        resolve(message.memory);
      };
      broker.on('message', onMessage);
      broker.send({ type: 'gc' });
    });
  const memory = await settled();
  const rss = rssBytes(broker.pid ?? 0);
  if (top === '0') return { rss, memory, heap: new Map() }; // a snapshot's own memory stays in the RSS
  const before = new Set(readdirSync(snapshots));
  broker.kill('SIGUSR2');
  await settled(); // the snapshot is written synchronously: done once the broker answers again
  const file = readdirSync(snapshots).find((name) => !before.has(name)) ?? '';
  const heap = heapByName(join(snapshots, file));
  return { rss, memory, heap };
}

const workers: LoadWorker[] = [];
async function open(offset: number): Promise<void> {
  const identities = Array.from({ length: N }, (_, index) => ({
    clientId: `i${offset + index}/idle`,
    token: keys.sign('HS256', userClaims(`i${offset + index}`)),
  }));
  const worker = new LoadWorker(
    'idle',
    {
      endpoint: { host: HOST, port: (tls ? ports.mqtts : ports.mqtt) ?? 0, tls },
      identities,
      subscribe: true,
      localAddresses: loopbackAddresses(4, offset / 100),
    },
    undefined,
  );
  workers.push(worker);
  const { connected } = await worker.next<{ type: string; connected: number }>('connected');
  if (connected !== N) throw new Error(`${connected} of ${N} connected`);
  await sleep(500);
}

const empty = await read();
await open(0);
const once = await read();
await open(N);
const twice = await read();
for (const worker of workers) worker.send({ type: 'close' });
await Promise.all(workers.map((worker) => worker.result()));
broker.kill('SIGTERM');
if (process.env.KEEP_SNAPSHOTS === '1') console.log(`snapshots kept in ${snapshots}`);
else rmSync(snapshots, { recursive: true, force: true });

const per = (a: number, b: number): string => ((b - a) / N).toFixed(0).padStart(7);
console.log(`${system} ${transport}, N = ${N}: bytes per connection, [0→N] and [N→2N]`);
for (const field of ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'] as const) {
  const value = (reading: Reading): number => (field === 'rss' ? reading.rss : reading.memory[field]);
  console.log(`${field.padEnd(40)} ${per(value(empty), value(once))} ${per(value(once), value(twice))}`);
}
const rows = [...twice.heap].map(([name, { count: objects, bytes }]) => {
  const before = once.heap.get(name) ?? { count: 0, bytes: 0 };
  return { name, objects: (objects - before.count) / N, bytes: (bytes - before.bytes) / N };
});
rows.sort((a, b) => b.bytes - a.bytes);
console.log(`heap [N→2N] by constructor${''.padEnd(13)} bytes/conn objects/conn`);
for (const row of rows.slice(0, Number(top)))
  console.log(
    `${row.name.slice(0, 40).padEnd(40)} ${row.bytes.toFixed(0).padStart(7)} ${row.objects.toFixed(2).padStart(7)}`,
  );
const total = rows.reduce((sum, row) => sum + row.bytes, 0);
console.log(`${'heap snapshot total'.padEnd(40)} ${total.toFixed(0).padStart(7)}`);

// Where a broker's CPU goes: runs one load against Cashew and raw Aedes started with --cpu-prof and
// prints self time grouped by origin (Cashew's own code, aedes and its dependencies, Node internals,
// GC/idle). `node --import tsx bench/profile.ts connect|publish [count]`.
import { readdirSync, readFileSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDevCertificates } from '../certs/dev-certs.ts';
import {
  addBrokerNodeArgs,
  HOST,
  scratchDir,
  startCashew,
  startRawAedes,
  type BrokerProcess,
} from './lib/systems.ts';
import { ensureBuilt } from './lib/built-cashew.ts';
import { createBenchKeys, userClaims } from './lib/tokens.ts';
import { LoadWorker } from './lib/workers.ts';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}
interface Profile {
  readonly nodes: ProfileNode[];
  readonly samples: number[];
  readonly timeDeltas: number[];
}

function originOf(url: string, name: string): string {
  if (url.includes('/broker/') && !url.includes('node_modules')) return 'cashew broker/';
  if (url.includes('/protocol/') && !url.includes('node_modules')) return 'cashew protocol/';
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (module !== null) return `npm ${module[1]}`;
  if (url.startsWith('node:') || url === '') return name.startsWith('(') ? name : 'node internals';
  return 'other';
}

function summarize(file: string, top: number, operations: number, skipMs: number): Map<string, number> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const byOrigin = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  let elapsed = 0;
  profile.samples.forEach((id, index) => {
    const node = byId.get(id);
    const delta = profile.timeDeltas[index] ?? 0;
    elapsed += delta;
    // Skip start-up (module loading, JIT warm-up) and count only the measured load.
    if (node === undefined || elapsed < skipMs * 1000) return;
    const { url, functionName, lineNumber } = node.callFrame;
    if (functionName === '(idle)') return;
    total += delta;
    const origin = originOf(url, functionName);
    byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + delta);
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(?:dist\/)?(?=(?:broker|protocol|handlers|bench)\/)/, '')}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + delta);
  });
  const show = (map: Map<string, number>, count: number) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(
        ([key, value]) =>
          `  ${((100 * value) / total).toFixed(1).padStart(5)} % ${(value / operations).toFixed(1).padStart(7)} µs/op  ${key}`,
      )
      .join('\n');
  const ours = new Map(
    [...byFunction].filter(([key]) => /(^| )(broker|protocol)\//.test(key.split(' ')[1] ?? '')),
  );
  process.stdout.write(
    `${file}\n busy ${(total / 1000).toFixed(0)} ms, ${(total / operations).toFixed(1)} µs/op\n` +
      `${show(byOrigin, 20)}\n top functions:\n${show(byFunction, top)}\n Cashew's own functions:\n${show(ours, 15)}\n`,
  );
  return byFunction;
}

const [what = 'connect', countArg] = process.argv.slice(2);
const count = Number(countArg ?? '3000');
const dir = mkdtempSync(join(tmpdir(), 'cashew-prof-'));
addBrokerNodeArgs('--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=100');
const { paths } = await ensureDevCertificates(join(scratchDir(), 'certs'));
const tls = { cert: paths.cert, key: paths.key };
const keys = createBenchKeys(scratchDir());
const token = keys.sign('HS256', userClaims('m'));
const clients = Array.from({ length: count }, (_, i) => ({
  clientId: `s${i}/p`,
  token: keys.sign('HS256', userClaims(`s${i}`)),
}));

function load(name: string, broker: BrokerProcess): LoadWorker {
  const endpoint = { host: HOST, port: broker.port };
  if (what === 'connect') {
    return new LoadWorker(
      'connect-storm',
      {
        targets: [{ name, endpoint }],
        clients,
        concurrency: 20,
        chunk: 100,
        warmup: 0,
        localAddresses: ['127.0.0.1'],
      },
      undefined,
    );
  }
  // `publish`: `count` messages p2p QoS0 at 10,000/s.
  return new LoadWorker(
    'messaging',
    {
      targets: [{ name, endpoint }],
      publishers: [{ clientId: 'm/p0', token }],
      subscribers: [{ clientId: 'm/s0', token }],
      topic: 'm/t',
      qos: 0,
      payloadBytes: 64,
      window: 200,
      warmupMs: 100,
      fixedRate: 10_000,
      fixedMs: count / 10,
      sliceMs: 100,
      saturationMs: 10,
      latencyMs: 10,
      latencyRateFactor: 0.5,
    },
    undefined,
  );
}

// Built before the first broker starts: a build inside startCashew would fall between `started` and
// the broker's own start, and push the measured window past the end of its profile.
await ensureBuilt(fileURLToPath(new URL('../', import.meta.url)), (message) =>
  process.stderr.write(`${message}\n`),
);
const seen = new Set<string>();
const profiles = new Map<string, Map<string, number>>();
for (const name of ['cashew', 'aedes']) {
  const started = performance.now();
  const broker =
    name === 'cashew'
      ? await startCashew(keys.settings.HS256, tls, undefined)
      : await startRawAedes(tls, undefined);
  await load(name, broker).result(); // warm-up: JIT, pools
  const measuredFrom = performance.now() - started - 200;
  await load(name, broker).result();
  await broker.stop();
  // One profile per thread (main, tsx's loader worker): the largest is the broker's main thread.
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.cpuprofile') && !seen.has(file))
    .map((file) => join(dir, file));
  for (const file of files) seen.add(file.slice(dir.length + 1));
  const largest = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (largest !== undefined) profiles.set(name, summarize(largest, 30, count, measuredFrom));
}
const cashew = profiles.get('cashew') ?? new Map<string, number>();
const aedes = profiles.get('aedes') ?? new Map<string, number>();
const differences = [...new Set([...cashew.keys(), ...aedes.keys()])]
  .map((key) => [key, ((cashew.get(key) ?? 0) - (aedes.get(key) ?? 0)) / count] as const)
  .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
  .slice(0, 25);
process.stdout.write(
  `\nCashew − raw Aedes, µs/op by function:\n${differences.map(([key, value]) => `  ${value.toFixed(1).padStart(7)}  ${key}`).join('\n')}\n`,
);

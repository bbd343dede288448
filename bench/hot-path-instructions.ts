// Instructions per call of Cashew's per-message code, each path alone, counted by callgrind (main
// thread): deterministic where bench/instructions-publish.ts (a whole broker) moves by ±2 % between
// runs, so that a cut of a few hundred instructions per message can be told from noise. Each path runs
// in a process of its own, `calls` times after as many warm-up calls (JIT), with instrumentation on for
// the measured calls only.
// `--before <checkout>`: the same paths from another checkout's sources, for a before/after.
//
//   node --import tsx bench/hot-path-instructions.ts [--before <checkout>] [--calls 200000]
//
// Paths: the packet-size guard on a chunk of one PUBLISH and of ten; topic bounds on a short topic
// and a longer one; the parser's `packet` event with the SUBSCRIBE screen in place, beside aedes'
// listener alone (what raw Aedes runs).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { EventEmitter } from 'node:events';
import { callgrindCommand } from './lib/callgrind.ts';

const { values } = parseArgs({
  options: {
    before: { type: 'string' },
    calls: { type: 'string', default: '200000' },
    child: { type: 'string' },
    path: { type: 'string' },
  },
});
const calls = Number(values.calls);

/** One encoded QoS 0 PUBLISH on `m/t` with a 64-byte payload (what scenario 2 sends). */
function publishPacket(): Buffer {
  const topic = Buffer.from('m/t');
  const body = Buffer.concat([Buffer.from([0, topic.length]), topic, Buffer.alloc(64, 0x61)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

async function child(root: string, only: string | undefined): Promise<void> {
  const load = (path: string): Promise<Record<string, unknown>> =>
    import(pathToFileURL(join(root, path)).href) as Promise<Record<string, unknown>>;
  const guardModule = (await load('broker/net/packet-size-guard.ts')) as {
    guardPacketSize: (
      stream: EventEmitter,
      limits: object,
      onOversize: () => void,
    ) => { authenticated(): void };
  };
  const { topicOverBounds } = (await load('broker/limits/topic-bounds.ts')) as {
    topicOverBounds: (topic: string, bounds: object) => string | undefined;
  };
  const { screenSubscribes } = (await load('broker/aedes/client-internals.ts')) as {
    screenSubscribes: (client: object, clientId: string, admit: () => boolean) => void;
  };

  const one = publishPacket();
  const ten = Buffer.concat(Array.from({ length: 10 }, () => one));
  const stream = Object.assign(new EventEmitter(), { destroy: () => undefined });
  guardModule
    .guardPacketSize(stream, { beforeAuthentication: 65_536, afterAuthentication: 262_144 }, () => undefined)
    .authenticated();
  const bounds = { maxTopicLength: 512, maxTopicLevels: 16 };
  let sink = 0;
  // The parser's `packet` event as aedes has it (one listener, lib/client.js `enqueue`), and with
  // Cashew's SUBSCRIBE screen put in place the way the adapter's preConnect does.
  const parserWith = (screened: boolean): EventEmitter => {
    const parser = new EventEmitter();
    parser.on('packet', function enqueue() {
      sink += 1;
    });
    if (screened) screenSubscribes({ _parser: parser }, 'm/p0', () => true);
    return parser;
  };
  const bare = parserWith(false);
  const screened = parserWith(true);
  const packet = { cmd: 'publish', topic: 'm/t', payload: one, qos: 0 };
  const paths: Record<string, () => void> = {
    'packet-size guard, chunk of 1 PUBLISH': () => void stream.emit('data', one),
    'packet-size guard, chunk of 10 PUBLISHes': () => void stream.emit('data', ten),
    'topic bounds, m/t': () => void (sink += topicOverBounds('m/t', bounds) === undefined ? 1 : 0),
    'topic bounds, 68946/contact_list': () =>
      void (sink += topicOverBounds('68946/contact_list', bounds) === undefined ? 1 : 0),
    "parser's packet event, aedes' listener alone (raw Aedes)": () => void bare.emit('packet', packet),
    "parser's packet event, with the SUBSCRIBE screen": () => void screened.emit('packet', packet),
  };
  if (only === undefined) {
    process.stdout.write(`${JSON.stringify(Object.keys(paths))}\n`);
    process.exit(0);
  }
  const path = paths[only];
  if (path === undefined) throw new Error(`no path ${only}`);
  const lines = createInterface({ input: process.stdin });
  const next = lines[Symbol.asyncIterator]();
  for (let i = 0; i < calls; i++) path(); // warm-up, not counted
  process.stdout.write('ready\n');
  await next.next(); // "go": instrumentation is on
  for (let i = 0; i < calls; i++) path();
  process.stdout.write(`done ${sink}\n`);
  await next.next(); // dumped
  process.exit(0);
}

/** The names of the paths (the child lists them). */
function pathNames(): string[] {
  const self = fileURLToPath(import.meta.url);
  const root = fileURLToPath(new URL('../', import.meta.url));
  const listed = execFileSync(process.execPath, ['--import', 'tsx', self, '--child', root], {
    encoding: 'utf8',
  });
  return JSON.parse(listed) as string[];
}

/**
 * Instructions per call of one path of `root`: a process of its own under callgrind, instrumentation
 * switched on once for the measured calls and dumped once (switching it off and on again in one
 * process made callgrind's later counts wrap below zero).
 */
async function measure(root: string, path: string): Promise<number> {
  const outDir = mkdtempSync(join(tmpdir(), 'cashew-hot-path-'));
  const self = fileURLToPath(import.meta.url);
  const [valgrind = 'valgrind', ...options] = callgrindCommand(outDir);
  const proc = spawn(
    valgrind,
    [
      ...options,
      process.execPath,
      '--import',
      'tsx',
      self,
      '--child',
      root,
      '--path',
      path,
      '--calls',
      String(calls),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const pid = String(proc.pid);
  let perCall = Number.NaN;
  for await (const line of createInterface({ input: proc.stdout })) {
    if (line === 'ready') {
      execFileSync('callgrind_control', ['--instr=on', pid], { stdio: 'ignore' });
      proc.stdin.write('go\n');
    } else if (line.startsWith('done')) {
      execFileSync('callgrind_control', ['--dump', pid], { stdio: 'ignore' });
      const main = readdirSync(outDir).find((file) => file.endsWith('.1-01'));
      const text = main === undefined ? '' : readFileSync(join(outDir, main), 'utf8');
      perCall = Number(/^(?:totals|summary): (\d+)/m.exec(text)?.[1] ?? Number.NaN) / calls;
      proc.stdin.write('next\n');
    }
  }
  return perCall;
}

if (values.child !== undefined) {
  await child(values.child, values.path);
} else {
  const roots = new Map<string, string>([['this checkout', fileURLToPath(new URL('../', import.meta.url))]]);
  if (values.before !== undefined) roots.set('before', values.before);
  const paths = pathNames();
  const measured = new Map<string, Map<string, number>>();
  // Two processes at a time (one per root): the counts do not depend on the machine's load.
  for (const path of paths) {
    const counts = await Promise.all([...roots.values()].map((root) => measure(root, path)));
    [...roots.keys()].forEach((name, index) => {
      const byPath = measured.get(name) ?? new Map<string, number>();
      byPath.set(path, counts[index] ?? Number.NaN);
      measured.set(name, byPath);
    });
  }
  const names = [...roots.keys()];
  const lines = [
    `### Instructions per call, main thread (callgrind, ${calls.toLocaleString('en')} calls)`,
    '',
    `| path | ${names.join(' | ')} |`,
    `| --- |${names.map(() => ' ---: |').join('')}`,
  ];
  for (const path of paths) {
    const cells = names.map((name) => Math.round(measured.get(name)?.get(path) ?? 0).toLocaleString('en'));
    lines.push(`| ${path} | ${cells.join(' | ')} |`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

// `cashew demo` (`npm run demo`): the broker and the example handlers as separate processes, a
// simulated device, the original flow printed, then everything stopped. Fresh dev certificates and
// secret in a temp directory, ephemeral ports: it never collides with a running broker.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDevSecret } from '../broker/dev/dev-credentials.ts';
import { CASHEW_BIN, PACKAGE_ROOT, packageModule } from '../broker/dev/package-files.ts';
import { signDevToken } from '../broker/dev/sign-dev-token.ts';
import { connect, type CashewClient } from '../client-sdk/client.ts';
import type { Apple } from '../handlers/examples/apple-basket.ts';
import { withTimeout } from '../protocol/index.ts';
import { stopAll, supervise, type Supervised } from './supervisor.ts';

export const USAGE = `usage: cashew demo
Starts the broker and the example handlers as separate processes (fresh dev certificates and secret
in a temp directory, ephemeral ports), connects a simulated device with the client SDK over WSS,
prints the flow, stops every process. Exit 0 when every step worked.`;
const HANDLERS = ['ping', 'apples', 'more-apples', 'more-apples-store', 'contacts'] as const;
const DEVICE_USER = '68946';
const STEP_TIMEOUT_MS = 15_000;
/** Each process has this long to be ready (tsx compiles it first; five start at once). */
const START_TIMEOUT_MS = 30_000;

function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return withTimeout(
    promise,
    STEP_TIMEOUT_MS,
    () => new Error(`${what}: nothing within ${STEP_TIMEOUT_MS} ms`),
  );
}

/** Output kept per process for the failure report (its last lines). */
const KEPT_OUTPUT_CHARS = 64 * 1024;

function start(name: string, args: string[], env: NodeJS.ProcessEnv): Supervised {
  return supervise({
    name,
    command: process.execPath,
    args: [CASHEW_BIN, ...args],
    cwd: PACKAGE_ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    keptChars: KEPT_OUTPUT_CHARS,
  });
}

function say(text: string): void {
  process.stdout.write(`${text}\n`);
}

function describeApples(apples: readonly Apple[]): string {
  return apples.map((apple) => `${apple.colour} ${apple.variety}`).join(', ');
}

/** Observes `event`; `events` resolves with the first `count` of them (wrapped: a promise would flatten). */
async function expectEvents<T>(
  device: CashewClient,
  event: string,
  count: number,
): Promise<{ events: Promise<T[]> }> {
  const received: T[] = [];
  let done: (events: T[]) => void = () => undefined;
  const all = new Promise<T[]>((resolve) => (done = resolve));
  await device.observe<T>(event, (data) => {
    received.push(data);
    if (received.length === count) done(received);
  });
  return { events: within(all, `${count} ${event}`) };
}

async function runFlow(wssUrl: string, ca: Buffer, secret: string): Promise<void> {
  const token = (user: string) => signDevToken({ user }, { secret });
  const device = await connect({
    url: wssUrl,
    token: token(DEVICE_USER),
    clientIdSuffix: 'demo',
    mqtt: { ca },
  });
  const friend = await connect({ url: wssUrl, token: token('4711'), clientIdSuffix: 'demo', mqtt: { ca } });
  say(`device   ${device.userId} connected over WSS as ${device.clientId}\n`);
  try {
    const pong = await expectEvents<string>(device, 'pong', 1);
    say(`→ ${DEVICE_USER}/ping "hello"`);
    await device.publish('ping', 'hello');
    say(`← ${DEVICE_USER}/pong ${JSON.stringify((await pong.events)[0])}\n`);

    type AppleSet = { source: string; apples: Apple[] };
    const got = await expectEvents<AppleSet>(device, 'got_apples', 1);
    say(`→ ${DEVICE_USER}/get_apples`);
    await device.publish('get_apples');
    const [first] = await got.events;
    const firstApples = first?.apples ?? [];
    say(
      `← ${DEVICE_USER}/got_apples from ${first?.source}: ${firstApples.length} apples (${describeApples(firstApples)})\n`,
    );

    const more = await expectEvents<AppleSet>(device, 'got_more_apples', 2);
    say(`→ ${DEVICE_USER}/more_apples`);
    await device.publish('more_apples');
    const sets = await more.events;
    for (const set of sets)
      say(
        `← ${DEVICE_USER}/got_more_apples from ${set.source}: ${set.apples.length} apples (${describeApples(set.apples)})`,
      );
    const all = [...firstApples, ...sets.flatMap((set) => set.apples)];
    const colours = new Set(all.map((apple) => apple.colour));
    say(`\n${all.length} apples of ${colours.size} different colours in all: ${[...colours].join(', ')}\n`);

    const requested = await expectEvents<{ from: string }>(friend, 'contact_requested', 1);
    say(`→ ${DEVICE_USER}/request_contact {"contact":"4711"}`);
    await device.request('request_contact', { contact: '4711' });
    say(`← 4711/contact_requested ${JSON.stringify((await requested.events)[0])}`);
    const approved = await expectEvents<{ by: string }>(device, 'contact_approved', 1);
    say('→ 4711/accept_contact {"contact":"68946"}');
    await friend.publish('accept_contact', { contact: DEVICE_USER });
    say(`← ${DEVICE_USER}/contact_approved ${JSON.stringify((await approved.events)[0])}`);
    const list = await expectEvents<{ contacts: string[] }>(device, 'contact_list', 1);
    say(`→ ${DEVICE_USER}/get_contact_list`);
    await device.publish('get_contact_list');
    say(`← ${DEVICE_USER}/contact_list ${JSON.stringify((await list.events)[0])}\n`);
    const rtt = Date.now();
    const reply = await device.request('ping', 'request');
    say(`request ping → reply ${JSON.stringify(reply)} in ${Date.now() - rtt} ms\n`);
  } finally {
    await Promise.all([device.close(), friend.close()]);
  }
}

export async function demoCommand(): Promise<number> {
  const certsDir = await mkdtemp(join(tmpdir(), 'cashew-demo-'));
  const children: Supervised[] = [];
  const env = { CERTS_DIR: certsDir, CASHEW_MODE: 'dev', HOST: '127.0.0.1' };
  let failed = false;
  try {
    say('cashew demo: broker and example handlers as separate processes, a simulated device\n');
    const broker = start('broker', ['broker', '--mqtts-port', '0', '--wss-port', '0'], env);
    children.push(broker);
    const listening = await broker.waitForLine(
      (line) => line.msg === 'cashew broker listening',
      START_TIMEOUT_MS,
    );
    const ports = listening.ports as { mqtts: number; wss: number };
    say(`broker   pid ${broker.pid}: mqtts://localhost:${ports.mqtts}, wss://localhost:${ports.wss}/mqtt`);
    const handlerEnv = { ...env, CASHEW_URL: `mqtts://localhost:${ports.mqtts}` };
    const handlers = HANDLERS.map((name) =>
      start(name, ['handler', packageModule(`handlers/examples/${name}.ts`)], handlerEnv),
    );
    children.push(...handlers);
    await Promise.all(
      handlers.map((handler) =>
        handler.waitForLine((line) => line.msg === 'handler ready', START_TIMEOUT_MS),
      ),
    );
    for (const handler of handlers) say(`handler  pid ${handler.pid}: ${handler.name}`);
    const ca = await readFile(join(certsDir, 'ca.crt'));
    await runFlow(`wss://localhost:${ports.wss}/mqtt`, ca, await ensureDevSecret(certsDir));
  } catch (error) {
    failed = true;
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    for (const child of children) process.stderr.write(`--- ${child.name}\n${child.output.tail(20)}\n`);
  } finally {
    // Handlers first (they drain), then the broker.
    const codes = await stopAll(children.filter((child) => child.name !== 'broker'));
    codes.push(...(await stopAll(children.filter((child) => child.name === 'broker'))));
    if (!failed) say(`stopped ${codes.length} processes (exit codes ${codes.join(', ')})`);
    if (codes.some((code) => code !== 0)) failed = true;
    await rm(certsDir, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

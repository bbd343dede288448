// A subscriber that stops reading is cut once MAX_OUTGOING_BUFFER bytes wait for it: broker memory
// stays bounded, the publisher keeps publishing, other users' round trips stay short, and a persistent
// QoS 1 subscriber gets what it missed when it comes back.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, TEST_CERTS_DIR, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected, recordMessages } from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';

const MAX_OUTGOING_BUFFER = 256 * 1024;
/** The flood gives up after this much: a broker that never cuts the reader fails the test. */
const MAX_FLOOD_BYTES = 96 * 1024 * 1024;

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker({
    MAX_OUTGOING_BUFFER: String(MAX_OUTGOING_BUFFER),
    // Everything the flood below can queue (at most 16 MiB of 4 KiB messages) stays within the session
    // queue's cap, so that every message must arrive (limits-session-queue.test.ts tests the cap).
    MAX_QUEUED_MESSAGES: '8192',
    MAX_QUEUED_BYTES: String(64 * 1024 * 1024),
  });
});
afterAll(async () => {
  for (const child of stalledProcesses) child.kill('SIGKILL');
  await broker.close();
});

const STALLED_SUBSCRIBER = fileURLToPath(
  new URL('../support/fixtures/stalled-subscriber.js', import.meta.url),
);
const stalledProcesses = new Set<ChildProcess>();

/**
 * A subscriber in its own process that subscribes, then is stopped (SIGSTOP): it reads nothing, its
 * socket's receive buffer fills, then the broker's send buffer. Resolves with a promise of its cut.
 */
async function stalledSubscriber(
  userId: string,
  clientId: string,
  qos: 0 | 1,
  clean: boolean,
): Promise<{ readonly cut: Promise<void> }> {
  const child = spawn(process.execPath, [STALLED_SUBSCRIBER], {
    env: {
      ...process.env,
      URL: broker.mqttsUrl,
      CLIENT_ID: clientId,
      TOKEN: userToken(userId),
      FILTER: `${userId}/#`,
      QOS: String(qos),
      CLEAN: String(clean),
      CA: join(TEST_CERTS_DIR, 'ca.crt'),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  stalledProcesses.add(child);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('stalled subscriber not ready in 10 s')), 10_000);
    child.once('exit', (code) => reject(new Error(`stalled subscriber exited (${code})`)));
    child.stdout.on('data', (chunk: Buffer) => {
      if (!chunk.toString().includes('ready')) return;
      clearTimeout(timer);
      resolve();
    });
  });
  const cut = new Promise<void>((resolve) =>
    broker.aedes.on('clientDisconnect', (client) => {
      if (client.id === clientId) resolve();
    }),
  );
  child.kill('SIGSTOP');
  return { cut };
}

/** Round trips of another user while `until` is pending; resolves with their durations, ms. */
async function roundTripsDuring(until: Promise<unknown>): Promise<number[]> {
  const client = await connected(connectClient(broker, 'wss', '9393/probe', userToken('9393')));
  const received = recordMessages(client);
  await client.subscribeAsync('9393/#', { qos: 1 });
  const durations: number[] = [];
  let done = false;
  void until.finally(() => (done = true));
  for (let i = 0; !done && i < 200; i += 1) {
    const started = performance.now();
    await client.publishAsync(`9393/probe${i}`, 'x', { qos: 1 });
    await received.waitFor(`9393/probe${i}`);
    durations.push(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await closeAll(client);
  return durations;
}

describe('slow consumers', () => {
  it('disconnects a QoS 0 subscriber that stops reading, with bounded broker memory, while others are served', async () => {
    const { cut: cutAt } = await stalledSubscriber('9191', '9191/stalled', 0, true);
    const publisher = await connected(connectClient(broker, 'mqtts', '9191/pub', userToken('9191')));
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    const payload = Buffer.alloc(4096, 0x61);
    let sent = 0;
    let cut = false;
    void cutAt.then(() => (cut = true));
    const flood = (async () => {
      while (!cut && sent < MAX_FLOOD_BYTES) {
        await publisher.publishAsync('9191/flood', payload, { qos: 1 }); // acked by the broker: paced
        sent += payload.length;
        if (sent % (1024 * 1024) === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }
    })();
    const durations = await roundTripsDuring(flood);
    await flood;
    expect(cut, `the broker kept buffering ${sent} bytes for a reader that stopped`).toBe(true);
    const line = await broker.waitForLog((entry) => entry.code === 'ERR_SLOW_CONSUMER');
    expect(line).toMatchObject({ action: 'limit', clientId: '9191/stalled', identity: 'user:9191' });
    const growthMb = (peakRss - rssBefore) / 2 ** 20;
    const sorted = [...durations].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? 0;
    console.log(
      `slow consumer: cut after ${(sent / 2 ** 20).toFixed(1)} MB published, peak RSS +${growthMb.toFixed(1)} MB, ` +
        `other user's round trip median ${median.toFixed(1)} ms, max ${(sorted.at(-1) ?? 0).toFixed(1)} ms over ${sorted.length}`,
    );
    expect(growthMb).toBeLessThan(64);
    expect(median).toBeLessThan(100);
    // The publisher was never held back for long: it is still connected and publishing.
    await publisher.publishAsync('9191/after', 'ok', { qos: 1 });
    await closeAll(publisher);
  });

  it('keeps the QoS 1 messages of a persistent subscriber it cuts: every one arrives when it comes back', async () => {
    const { cut: cutAt } = await stalledSubscriber('9292', '9292/phone', 1, false);
    const publisher = await connected(connectClient(broker, 'mqtts', '9292/pub', userToken('9292')));
    const payload = Buffer.alloc(4096, 0x62);
    let cut = false;
    void cutAt.then(() => (cut = true));
    let count = 0;
    while (!cut && count * payload.length < MAX_FLOOD_BYTES) {
      payload.writeUInt32BE(count, 0);
      await publisher.publishAsync('9292/item', payload, { qos: 1 });
      count += 1;
    }
    expect(cut).toBe(true);
    // Cut at the limit (plus what the kernel's socket buffers hold), not by aedes' 10 s drain timeout.
    expect(count * payload.length).toBeLessThan(16 * 1024 * 1024);
    // A few more while it is away: queued in its session.
    for (let i = 0; i < 10; i += 1) {
      payload.writeUInt32BE(count, 0);
      await publisher.publishAsync('9292/item', payload, { qos: 1 });
      count += 1;
    }
    const seen = new Set<number>();
    const back = connectClient(broker, 'mqtts', '9292/phone', userToken('9292'), { clean: false });
    back.on('message', (_topic, message) => seen.add(message.readUInt32BE(0)));
    await connected(back);
    await expect.poll(() => seen.size, { timeout: 20_000 }).toBe(count);
    console.log(
      `slow persistent consumer: cut after ${count - 10} QoS 1 messages; all ${count} arrived on reconnect`,
    );
    await closeAll(publisher, back);
  });
});

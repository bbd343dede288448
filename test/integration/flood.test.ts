// A sustained QoS0 and QoS1 flood from several publishers to a wildcard subscriber of the same
// partition, over TLS, against the broker as its own process: it must neither crash nor wedge.
// With aedes' default emitter concurrency this killed the process (see AEDES_TUNING in broker/aedes/tuning.ts).
import { mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import mqtt, { type MqttClient } from 'mqtt';
import packet from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevCertificates } from '../../certs/dev-certs.ts';
import { supervise, type Supervised } from '../../cli/supervisor.ts';
import { TEST_CERTS_DIR, TEST_MODE, TEST_SECRET } from '../support/broker.ts';
import { userToken } from '../support/tokens.ts';

const PUBLISHERS = 4;
const FLOOD_MS = 4_000;
const BATCH = 50;
/**
 * On Redis a publish is done when Redis has it, not when it is delivered: what the subscriber's node
 * has not read yet drains after the flood, before the probe gets through (docs/scaling.md, flow control).
 */
const TEST_TIMEOUT_MS = TEST_MODE === 'redis' ? 90_000 : 30_000;

let broker: Supervised;
let port: number;
let ca: Buffer;

beforeAll(async () => {
  const { paths } = await ensureDevCertificates(TEST_CERTS_DIR);
  ca = await readFile(paths.ca);
  broker = supervise({
    name: 'broker',
    command: process.execPath,
    args: ['bin/cashew.js', 'broker', '--mqtts-port', '0', '--wss-port', '0'],
    env: {
      ...process.env,
      JWT_SECRET: TEST_SECRET,
      TLS_CERT: paths.cert,
      TLS_KEY: paths.key,
      CERTS_DIR: mkdtempSync(join(tmpdir(), 'cashew-flood-')),
      LOG_LEVEL: 'info',
      // This test is about the emitter under a flood, not about the publish rate (limits-publish-rate).
      PUBLISH_RATE: '10000000',
      PUBLISH_BURST: '10000000',
    },
  });
  // 25 s: at the start of a full run, many files compile and start processes on two shared cores.
  const listening = await broker.waitForLine((line) => line.msg === 'cashew broker listening', 25_000);
  port = (listening.ports as { mqtts: number }).mqtts;
});

afterAll(async () => {
  await broker.stop();
});

function client(clientId: string): Promise<MqttClient> {
  const connection = mqtt.connect(`mqtts://localhost:${port}`, {
    clientId,
    username: 'JWT',
    password: userToken('68946'),
    ca,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
  return new Promise((resolve, reject) => {
    connection.once('connect', () => resolve(connection));
    connection.once('error', (error) => {
      // A refusal says why in the broker's audit line: put it in the failure.
      const audit = broker.lines.findLast((line) => line.clientId === clientId && line.code !== undefined);
      reject(audit === undefined ? error : new Error(`${error.message}: ${JSON.stringify(audit)}`));
    });
  });
}

/** Publishes in batches until the deadline; waits for each batch's acks (QoS1) or for the socket to drain (QoS0). */
async function flood(publisher: MqttClient, qos: 0 | 1, until: number): Promise<number> {
  const payload = Buffer.alloc(64, 'x');
  let sent = 0;
  while (Date.now() < until && publisher.connected) {
    const batch = Array.from({ length: BATCH }, () =>
      publisher.publishAsync(`68946/flood${qos}`, payload, { qos }),
    );
    sent += BATCH;
    if (qos === 1) await Promise.all(batch);
    else if (publisher.stream.writableNeedDrain) {
      // On Redis the broker reads publishers as fast as Redis takes their messages, then spends a
      // while delivering the backlog (no flow control, docs/scaling.md): a publisher may wait past the
      // flood's end. That ends its flood; a broker that wedged fails brokerIsServing() afterwards.
      const drained = await once(publisher.stream, 'drain', { signal: AbortSignal.timeout(FLOOD_MS) }).then(
        () => true,
        () => false,
      );
      if (!drained) break;
    } else await new Promise((resolve) => setImmediate(resolve));
  }
  return sent;
}

/** A subscriber that sends CONNECT and SUBSCRIBE over TLS and then never reads: its socket fills up. */
async function stalledSubscriber(qos: 0 | 1): Promise<TLSSocket> {
  const socket = connectTls({ host: 'localhost', port, ca });
  await once(socket, 'secureConnect');
  socket.write(
    packet.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: '68946/stalled',
      keepalive: 0,
      username: 'JWT',
      password: Buffer.from(userToken('68946')),
    }),
  );
  socket.write(
    packet.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '68946/#', qos }] }),
  );
  await once(socket, 'data'); // CONNACK (and perhaps SUBACK); from here on nothing is read
  socket.pause();
  return socket;
}

async function brokerIsServing(): Promise<void> {
  const probe = await client('68946/probe');
  await probe.subscribeAsync('68946/probe', { qos: 1 });
  const echoed = new Promise<string>((resolve) =>
    probe.once('message', (_topic, payload) => resolve(payload.toString())),
  );
  await probe.publishAsync('68946/probe', 'still here', { qos: 1 });
  expect(await echoed).toBe('still here');
  await probe.endAsync();
}

async function floodFromPublishers(qos: 0 | 1): Promise<number> {
  const publishers = await Promise.all(Array.from({ length: PUBLISHERS }, (_, i) => client(`68946/pub${i}`)));
  const until = Date.now() + FLOOD_MS;
  const sent = (await Promise.all(publishers.map((publisher) => flood(publisher, qos, until)))).reduce(
    (a, b) => a + b,
  );
  await Promise.all(publishers.map((publisher) => publisher.endAsync()));
  return sent;
}

describe.each([0, 1] as const)(
  'a QoS%i flood from several publishers to one wildcard subscriber',
  { timeout: TEST_TIMEOUT_MS },
  (qos) => {
    it('is delivered while the subscriber keeps up, and the broker keeps serving', async () => {
      const subscriber = await client('68946/sub');
      await subscriber.subscribeAsync('68946/#', { qos });
      let received = 0;
      // Only this test's own topic: on Redis the previous test's flood may still be draining (docs/scaling.md).
      subscriber.on('message', (topic) => {
        if (topic === `68946/flood${qos}`) received++;
      });
      const sent = await floodFromPublishers(qos);
      if (qos === 1) {
        // QoS1: every acknowledged publish reaches the subscriber, none lost.
        const deadline = Date.now() + 15_000;
        while (received < sent && Date.now() < deadline)
          await new Promise((resolve) => setTimeout(resolve, 50));
        expect(received).toBe(sent);
      }
      process.stdout.write(`flood qos${qos}: sent ${sent}, received by the subscriber ${received}\n`);
      expect(received).toBeGreaterThan(0);
      expect(subscriber.connected).toBe(true);
      await subscriber.endAsync();
      await brokerIsServing();
      expect(broker.running).toBe(true);
    });

    it('survives the subscriber stalling (socket not read) and then vanishing mid-flood', async () => {
      // Stalled deliveries fill the emitter; when the only subscriber then vanishes, every message still
      // waiting matches nobody. With aedes' default emitter queue that unwound recursively into a RangeError.
      const subscriber = await stalledSubscriber(qos);
      const vanish = setTimeout(() => subscriber.destroy(), FLOOD_MS / 2);
      const sent = await floodFromPublishers(qos);
      clearTimeout(vanish);
      process.stdout.write(`flood qos${qos} with a stalled subscriber: sent ${sent}\n`);
      await brokerIsServing();
      expect(broker.running).toBe(true);
    });
  },
);

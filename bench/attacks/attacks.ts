// The attacks of issue 10's table, each run against Cashew's default limits from one process on
// loopback. Each returns what the broker did about it, in one line; bench/attacks.ts measures the
// broker's RSS and a bystander's round trip meanwhile.
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import {
  connectMqtt,
  encodePublish,
  encodeSubscribe,
  PACKET,
  remainingLength,
  type Endpoint,
  type MqttConnection,
} from '../lib/mqtt-wire.ts';
import { withConcurrency } from '../lib/workers.ts';

export interface AttackContext {
  readonly mqtts: Endpoint;
  readonly wss: Endpoint;
  readonly userToken: (userId: string) => string;
  readonly handlerToken: (name: string) => string;
  readonly badToken: (userId: string) => string;
}

export interface Attack {
  readonly name: string;
  run(context: AttackContext): Promise<string>;
}

const MB = 1024 * 1024;

/** A fixed header declaring `bodyLength` bytes for packet type byte `first`. */
function fixedHeader(first: number, bodyLength: number): Buffer {
  return Buffer.from([first, ...remainingLength(bodyLength)]);
}

/** Writes `total` bytes after `head` (respecting backpressure) until done or closed; bytes taken. */
function sendUntilClosed(socket: Socket, head: Buffer, total: number): Promise<number> {
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  return new Promise((resolve) => {
    let sent = 0;
    const finish = (): void => resolve(socket.bytesWritten);
    socket.once('close', finish);
    socket.on('error', () => undefined);
    const pump = (): void => {
      while (sent < total && !socket.destroyed) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      if (sent >= total) socket.end();
    };
    socket.write(head);
    pump();
  });
}

function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  if (socket.destroyed) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function connected(
  endpoint: Endpoint,
  clientId: string,
  token: string,
  clean = true,
): Promise<MqttConnection> {
  const { connection, returnCode } = await connectMqtt(endpoint, { clientId, password: token, clean });
  if (returnCode !== 0) throw new Error(`${clientId} refused: CONNACK ${returnCode}`);
  return connection;
}

async function subscribed(
  connection: MqttConnection,
  filters: string[],
  qos: 0 | 1,
  id = 1,
): Promise<number[]> {
  const suback = connection.next(PACKET.SUBACK);
  connection.write(encodeSubscribe(id, filters, qos));
  return [...(await suback).subarray(2)];
}

/** Publishes `count` QoS 1 messages with at most `window` unacknowledged. */
async function publishQos1(
  connection: MqttConnection,
  topic: string,
  payload: Buffer,
  count: number,
  window = 100,
) {
  let acked = 0;
  let next = 0;
  await new Promise<void>((resolve, reject) => {
    connection.socket.once('close', () => reject(new Error(`publisher closed after ${acked} acks`)));
    const send = (): void => {
      while (next < count && next - acked < window)
        connection.write(encodePublish(topic, payload, 1, (next++ % 65_535) + 1));
    };
    connection.onAck = (type) => {
      if (type !== PACKET.PUBACK) return;
      if (++acked === count) resolve();
      else send();
    };
    send();
  });
}

export const ATTACKS: readonly Attack[] = [
  {
    name: '20 CONNECTs declaring 64 MB each, before any token (MQTTS)',
    async run({ mqtts }) {
      const taken = await Promise.all(
        Array.from({ length: 20 }, async () => {
          const socket = connectTls({ ...mqtts, rejectUnauthorized: false });
          await new Promise((resolve) => socket.once('secureConnect', resolve));
          return sendUntilClosed(socket, fixedHeader(0x10, 64 * MB), 64 * MB);
        }),
      );
      return `all 20 closed; at most ${(Math.max(...taken) / 1024).toFixed(0)} KiB taken from one`;
    },
  },
  {
    name: 'a 64 MB PUBLISH from a valid user',
    async run({ mqtts, userToken }) {
      const watcher = await connected(mqtts, 'mallory/watch', userToken('mallory'));
      await subscribed(watcher, ['mallory/#'], 0);
      let delivered = 0;
      watcher.onPublish = () => delivered++;
      const attacker = await connected(mqtts, 'mallory/big', userToken('mallory'));
      const topic = Buffer.from('mallory/big');
      const head = Buffer.concat([
        fixedHeader(0x30, 2 + topic.length + 64 * MB),
        Buffer.from([0, topic.length]),
        topic,
      ]);
      const taken = await sendUntilClosed(attacker.socket, head, 64 * MB);
      watcher.close();
      return `closed after ${(taken / 1024).toFixed(0)} KiB sent; ${delivered} delivered`;
    },
  },
  {
    name: 'an offline persistent session sent 20,000 × 4 KB QoS 1',
    async run({ mqtts, userToken, handlerToken }) {
      const phone = await connected(mqtts, 'olive/phone', userToken('olive'), false);
      await subscribed(phone, ['olive/feed'], 1);
      phone.close();
      const handler = await connected(mqtts, '$handler/flood/1', handlerToken('flood'));
      await publishQos1(handler, 'olive/feed', Buffer.alloc(4096, 0x62), 20_000);
      handler.close();
      const again = await connected(mqtts, 'olive/phone', userToken('olive'), false);
      let received = 0;
      again.onPublish = (_topic, _payload, qos, messageId) => {
        received++;
        if (qos > 0) again.write(Buffer.from([0x40, 2, messageId >> 8, messageId & 0xff]));
      };
      await new Promise((resolve) => setTimeout(resolve, 3000));
      again.close();
      // Leave no session behind for the next attack.
      (await connected(mqtts, 'olive/phone', userToken('olive'), true)).close();
      return `${received} of 20000 delivered at reconnect (the newest; the rest dropped oldest-first)`;
    },
  },
  {
    name: 'a subscriber that stops reading, sent 128 MB',
    async run({ mqtts, userToken, handlerToken }) {
      const stalled = await connected(mqtts, 'sam/phone', userToken('sam'));
      await subscribed(stalled, ['sam/feed'], 0);
      let received = 0;
      stalled.onPublish = (_topic, payload) => (received += payload.length);
      stalled.socket.pause();
      const handler = await connected(mqtts, '$handler/feed/1', handlerToken('feed'));
      const started = Date.now();
      await publishQos1(handler, 'sam/feed', Buffer.alloc(64 * 1024, 0x63), 2048, 32);
      const seconds = (Date.now() - started) / 1000;
      handler.close();
      // A paused socket reports its end only once read: read what reached it, then see whether it is over.
      stalled.socket.resume();
      const wasCut = await closedWithin(stalled.socket, 10_000);
      stalled.socket.destroy();
      const mib = (received / 1024 / 1024).toFixed(1);
      return `${wasCut ? 'subscriber cut' : 'subscriber NOT cut'} after ${mib} MiB reached it; the handler's 128 MB acked in ${seconds.toFixed(1)} s`;
    },
  },
  {
    name: '250,000 filters from one connection (250 SUBSCRIBEs of 1,000)',
    async run({ mqtts, userToken }) {
      const greedy = await connected(mqtts, 'greg/phone', userToken('greg'));
      let granted = 0;
      let packets = 0;
      for (let packet = 0; packet < 250 && !greedy.socket.destroyed; packet++) {
        const filters = Array.from({ length: 1000 }, (_, index) => `greg/${packet}/${index}`);
        const codes = await subscribed(greedy, filters, 0, packet + 1).catch(() => []);
        granted += codes.filter((code) => code !== 0x80).length;
        packets++;
      }
      const cut = greedy.socket.destroyed;
      greedy.close();
      return `${granted} filters granted over ${packets} SUBSCRIBE(s)${cut ? '; connection cut' : ''}`;
    },
  },
  {
    name: '300 sockets that never finish a handshake (MQTTS, WSS) or send nothing after TLS (WSS)',
    async run({ mqtts, wss, userToken }) {
      const idle: Socket[] = [];
      for (let i = 0; i < 100; i++) idle.push(connectTcp(mqtts.port, mqtts.host));
      for (let i = 0; i < 100; i++) idle.push(connectTcp(wss.port, wss.host));
      for (let i = 0; i < 100; i++) idle.push(connectTls({ ...wss, rejectUnauthorized: false }));
      for (const socket of idle) socket.on('error', () => undefined);
      const started = Date.now();
      // A real device connects while they are held.
      const device = await connected(mqtts, 'dora/phone', userToken('dora'));
      device.close();
      const closed = await Promise.all(idle.map((socket) => closedWithin(socket, 20_000)));
      const seconds = (Date.now() - started) / 1000;
      for (const socket of idle) socket.destroy();
      return `${closed.filter(Boolean).length} of 300 closed by the broker within ${seconds.toFixed(1)} s; a device connected meanwhile`;
    },
  },
  {
    name: 'CONNECTs with bad tokens from one address, 15 s as fast as possible (resumed TLS)',
    async run({ mqtts, badToken }) {
      // Clients resume one TLS session, as reconnecting devices do: the broker's cost is the CONNECT.
      const first = connectTls({ ...mqtts, rejectUnauthorized: false });
      first.on('error', () => undefined);
      const session = await new Promise<Buffer>((resolve) => first.once('session', resolve));
      first.destroy();
      const resumed = { ...mqtts, session };
      const codes = new Map<number, number>();
      const deadline = Date.now() + 15_000;
      let attempt = 0;
      await withConcurrency(50, 50, async () => {
        while (Date.now() < deadline) {
          const n = attempt++;
          const code = await connectMqtt(resumed, { clientId: `eve/${n}`, password: badToken('eve') })
            .then(({ connection, returnCode }) => {
              connection.close();
              return returnCode;
            })
            .catch(() => -1);
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
      });
      const rateLimited = codes.get(3) ?? 0;
      const checked = codes.get(5) ?? codes.get(4) ?? 0;
      return `${attempt} CONNECTs: ${checked} signature-checked and refused, ${rateLimited} refused by CONNECT_RATE_PER_ADDRESS before any check`;
    },
  },
];

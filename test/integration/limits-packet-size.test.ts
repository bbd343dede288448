// The maximum packet size, over real sockets: enforced from the fixed header before the body is
// buffered, tight before the client is accepted (MAX_CONNECT_PACKET_SIZE), larger after (MAX_PACKET_SIZE).
import type { TLSSocket } from 'node:tls';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULT_MAX_CONNECT_PACKET_SIZE, DEFAULT_MAX_PACKET_SIZE } from '../../broker/limits/limits.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import {
  closeAll,
  closed,
  connectClient,
  connected,
  openMqttsSocket,
  recordMessages,
  TRANSPORTS,
} from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';
import { fixedHeader } from '../support/mqtt-bytes.ts';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

/**
 * Writes `header` then zeros in 64 KiB chunks until the broker closes the socket; resolves with the
 * bytes written by then. Gives up (resolves -1) after `maxBytes`: the broker kept buffering.
 */
function streamUntilClosed(socket: TLSSocket, header: Buffer, maxBytes: number): Promise<number> {
  return new Promise((resolve) => {
    const chunk = Buffer.alloc(64 * 1024);
    let written = header.length;
    let done = false;
    const finish = (result: number): void => {
      if (done) return;
      done = true;
      resolve(result);
    };
    socket.once('close', () => finish(written));
    socket.on('error', () => undefined);
    socket.write(header);
    const pump = (): void => {
      while (!done && !socket.destroyed) {
        if (written >= maxBytes) {
          socket.destroy();
          return finish(-1);
        }
        written += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
    };
    pump();
  });
}

describe('maximum packet size', () => {
  it('cuts a CONNECT declaring 64 MB from its fixed header, before any token is checked', async () => {
    const rssBefore = process.memoryUsage().rss;
    const socket = await openMqttsSocket(broker);
    const written = await streamUntilClosed(socket, fixedHeader(1, 64 * 1024 * 1024), 16 * 1024 * 1024);
    expect(written, 'the broker kept reading a 64 MB CONNECT').toBeGreaterThan(0);
    expect(written).toBeLessThan(16 * 1024 * 1024);
    const line = await broker.waitForLog((entry) => entry.code === 'ERR_PACKET_TOO_LARGE');
    expect(line).toMatchObject({
      audit: 'refused',
      action: 'limit',
      identity: 'unknown',
      address: '127.0.0.1',
    });
    expect(String(line.reason)).toContain(`MAX_CONNECT_PACKET_SIZE of ${DEFAULT_MAX_CONNECT_PACKET_SIZE}`);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(32 * 1024 * 1024);
  });

  it('refuses a PUBLISH pipelined before CONNACK that is over the CONNECT limit', async () => {
    const socket = await openMqttsSocket(broker);
    const connect = mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: '5150/pipelined',
      keepalive: 30,
      username: 'JWT',
      password: Buffer.from(userToken('5150')),
    });
    const publish = mqttPacket.generate({
      cmd: 'publish',
      topic: '5150/big',
      payload: Buffer.alloc(DEFAULT_MAX_CONNECT_PACKET_SIZE + 1024),
      qos: 0,
      dup: false,
      retain: false,
    });
    const closedAt = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write(Buffer.concat([connect, publish]));
    await closedAt;
    await broker.waitForLog(
      (entry) =>
        entry.code === 'ERR_PACKET_TOO_LARGE' && String(entry.reason).includes('MAX_CONNECT_PACKET_SIZE'),
    );
  });

  it('accepts a CONNECT carrying a 16 KB token', async () => {
    const token = userToken('5151', { padding: 'x'.repeat(16 * 1024) });
    expect(token.length).toBeGreaterThan(16 * 1024);
    const client = await connected(connectClient(broker, 'mqtts', '5151/big-token', token));
    await closeAll(client);
  });

  for (const transport of TRANSPORTS) {
    it(`${transport}: delivers a PUBLISH within MAX_PACKET_SIZE, closes the connection of a larger one and delivers nothing of it`, async () => {
      const user = '5152';
      const subscriber = await connected(
        connectClient(broker, transport, `${user}/sub-${transport}`, userToken(user)),
      );
      const received = recordMessages(subscriber);
      await subscriber.subscribeAsync(`${user}/#`, { qos: 1 });
      const publisher = await connected(
        connectClient(broker, transport, `${user}/pub-${transport}`, userToken(user)),
      );

      const within = Buffer.alloc(DEFAULT_MAX_PACKET_SIZE - 1024, 0x61);
      await publisher.publishAsync(`${user}/within`, within, { qos: 1 });
      expect((await received.waitFor(`${user}/within`)).payload.length).toBe(within.length);

      const over = Buffer.alloc(DEFAULT_MAX_PACKET_SIZE + 1, 0x62);
      const cut = closed(publisher);
      publisher.publish(`${user}/over`, over, { qos: 0 });
      await cut;
      const line = await broker.waitForLog(
        (entry) =>
          entry.code === 'ERR_PACKET_TOO_LARGE' && String(entry.reason).includes('MAX_PACKET_SIZE of'),
      );
      expect(line).toMatchObject({ action: 'limit' });

      // A barrier: a later message arrives, the oversized one never did.
      const other = await connected(
        connectClient(broker, transport, `${user}/other-${transport}`, userToken(user)),
      );
      await other.publishAsync(`${user}/after`, 'after', { qos: 1 });
      await received.waitFor(`${user}/after`);
      expect(received.messages.map((message) => message.topic)).not.toContain(`${user}/over`);
      await closeAll(subscriber, publisher, other);
    });
  }

  it('wss: closes a WebSocket frame larger than the limits before buffering it (close code 1009)', async () => {
    const socket = new WebSocket(broker.wssUrl, 'mqtt', { ca: broker.ca });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    const code = new Promise<number>((resolve) => socket.once('close', (closeCode) => resolve(closeCode)));
    socket.on('error', () => undefined);
    socket.send(Buffer.concat([fixedHeader(1, 4 * 1024 * 1024), Buffer.alloc(4 * 1024 * 1024)]));
    expect(await code).toBe(1009);
  });
});

// A refused CONNECT touches nothing of the session that holds its client id. aedes cleared the QoS 2
// receive state (`cleanIncoming`) of every clean-session client that closed, refused ones included:
// a CONNECT with a bad token, someone else's client id and clean session on wiped that session's
// record of the QoS 2 messages it had sent, so that the device's retransmission after a reconnect was
// delivered a second time (exactly-once broken by a peer that never authenticated; on Redis each
// refused CONNECT also cost a command). patches/aedes+1.2.0.patch clears it for admitted clients only.
import type { TLSSocket } from 'node:tls';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import {
  closeAll,
  connectClient,
  connected,
  openMqttsSocket,
  recordMessages,
  refusalCode,
} from '../support/clients.ts';
import { userToken } from '../support/tokens.ts';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await broker.close();
});

/** An MQTT 3.1.1 connection over TLS that sends packets as given (no client state, no retries). */
class RawSession {
  readonly #socket: TLSSocket;
  readonly #received: Packet[] = [];
  readonly #waiters = new Set<() => void>();

  private constructor(socket: TLSSocket) {
    this.#socket = socket;
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (packet: Packet) => {
      this.#received.push(packet);
      for (const wake of this.#waiters) wake();
    });
    socket.on('data', (data: Buffer) => parser.parse(data));
  }

  static async open(target: TestBroker): Promise<RawSession> {
    return new RawSession(await openMqttsSocket(target));
  }

  send(packet: Packet): void {
    this.#socket.write(mqttPacket.generate(packet));
  }

  /** The first packet received (from now on or before) of `cmd`, within 5 s. */
  next(cmd: Packet['cmd']): Promise<Packet> {
    return new Promise((resolve, reject) => {
      const look = (): void => {
        const index = this.#received.findIndex((packet) => packet.cmd === cmd);
        if (index === -1) return;
        clearTimeout(timer);
        this.#waiters.delete(look);
        resolve(this.#received.splice(index, 1)[0] as Packet);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(look);
        reject(new Error(`no ${cmd} within 5 s`));
      }, 5000);
      this.#waiters.add(look);
      look();
    });
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

async function persistentDevice(clientId: string, token: string): Promise<RawSession> {
  const session = await RawSession.open(broker);
  session.send({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clientId,
    clean: false,
    keepalive: 0,
    username: 'JWT',
    password: Buffer.from(token),
  });
  expect(await session.next('connack')).toMatchObject({ returnCode: 0 });
  return session;
}

describe('a refused CONNECT with the client id of a persistent session', () => {
  it('leaves its QoS 2 receive state alone: a retransmitted PUBLISH is still delivered once', async () => {
    const subscriber = await connected(connectClient(broker, 'mqtts', 'qos2/tablet', userToken('qos2')));
    await subscriber.subscribeAsync('qos2/#', { qos: 2 });
    const received = recordMessages(subscriber);
    const publish = {
      cmd: 'publish',
      topic: 'qos2/once',
      payload: Buffer.from('once'),
      qos: 2,
      messageId: 7,
      retain: false,
      dup: false,
    } as const;

    // The device publishes, gets its PUBREC, and loses the connection before its PUBREL.
    const first = await persistentDevice('qos2/phone', userToken('qos2'));
    first.send(publish);
    await first.next('pubrec');
    await received.waitFor('qos2/once');
    first.destroy();

    // A peer without a valid token CONNECTs with the device's client id and a clean session.
    const intruder = connectClient(broker, 'mqtts', 'qos2/phone', 'not-a-token', { clean: true });
    expect(await refusalCode(intruder)).toBe(5);
    await closeAll(intruder);

    // The device is back, retransmits the PUBLISH (DUP) as MQTT 3.1.1 asks, and completes it.
    const again = await persistentDevice('qos2/phone', userToken('qos2'));
    again.send({ ...publish, dup: true });
    await again.next('pubrec');
    again.send({ cmd: 'pubrel', messageId: 7 });
    await again.next('pubcomp');
    // Anything delivered for the retransmission is on its way before this marker.
    again.send({ ...publish, topic: 'qos2/marker', messageId: 8, qos: 1 });
    await again.next('puback');
    await received.waitFor('qos2/marker');
    again.destroy();

    expect(received.messages.filter((message) => message.topic === 'qos2/once')).toHaveLength(1);
    await closeAll(subscriber);
  });
});

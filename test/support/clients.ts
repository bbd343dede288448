// Real mqtt.js clients over TLS or WSS, trusting the test CA.
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { TestBroker } from './broker.ts';

export type Transport = 'mqtts' | 'wss';
export const TRANSPORTS: readonly Transport[] = ['mqtts', 'wss'];

export function connectClient(
  broker: TestBroker,
  transport: Transport,
  clientId: string,
  token: string,
  options: IClientOptions = {},
): MqttClient {
  const url = transport === 'mqtts' ? broker.mqttsUrl : broker.wssUrl;
  return mqtt.connect(url, {
    clientId,
    username: 'JWT',
    password: token,
    ca: broker.ca,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...options,
  });
}

/** A bare TLS socket to the broker's MQTTS port (no MQTT client), for raw packets; resolves once secure. */
export function openMqttsSocket(broker: TestBroker): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: broker.ports.mqtts ?? 0,
      ca: broker.ca,
      servername: 'localhost',
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Connects and resolves on CONNACK 0; rejects with the client's error (e.g. a refused CONNACK). */
export function connected(client: MqttClient, timeoutMs = 5000): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connect timed out')), timeoutMs);
    client.once('connect', () => {
      clearTimeout(timer);
      resolve(client);
    });
    client.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export async function closeAll(...clients: MqttClient[]): Promise<void> {
  await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)));
}

/**
 * Sends one SUBSCRIBE and resolves with the raw SUBACK return codes. mqtt.js 5 turns any 0x80 into an
 * error for the whole packet, so the codes are read from the packet itself.
 */
export function subscribeRaw(client: MqttClient, filters: string[], qos: 0 | 1 | 2 = 1): Promise<number[]> {
  return new Promise((resolve, reject) => {
    client.subscribe(filters, { qos }, (error, _granted, packet) => {
      const codes = (packet as { granted?: number[] } | undefined)?.granted;
      if (codes !== undefined) resolve(codes);
      else reject(error ?? new Error('no SUBACK'));
    });
  });
}

/** The CONNACK return code of a refused CONNECT (rejects if the client connects or nothing happens). */
export function refusalCode(client: MqttClient, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no CONNACK refusal')), timeoutMs);
    client.once('connect', () => {
      clearTimeout(timer);
      reject(new Error('connected, but a refusal was expected'));
    });
    client.once('error', (error) => {
      clearTimeout(timer);
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'number') resolve(code);
      else reject(error);
    });
  });
}

/** Resolves when the client sees its connection close. */
export function closed(client: MqttClient, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('connection did not close')), timeoutMs);
    client.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export interface Received {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
}

/** Records every message a client receives, and awaits one that matches (a barrier for "nothing else came"). */
export function recordMessages(client: MqttClient): {
  readonly messages: Received[];
  /** The first message on `topic` (that `match` accepts, when given). */
  waitFor(topic: string, timeoutMs?: number, match?: (message: Received) => boolean): Promise<Received>;
} {
  const messages: Received[] = [];
  const waiters = new Set<(message: Received) => void>();
  client.on('message', (topic, payload, packet) => {
    const message = { topic, payload: payload.toString('utf8'), retain: packet.retain };
    messages.push(message);
    for (const waiter of waiters) waiter(message);
  });
  function waitFor(
    topic: string,
    timeoutMs = 5000,
    match: (message: Received) => boolean = () => true,
  ): Promise<Received> {
    const seen = messages.find((message) => message.topic === topic && match(message));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no message on ${topic}`));
      }, timeoutMs);
      const waiter = (message: Received): void => {
        if (message.topic !== topic || !match(message)) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve(message);
      };
      waiters.add(waiter);
    });
  }
  return { messages, waitFor };
}

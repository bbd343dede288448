// Real mqtt.js clients over TLS or WSS, trusting the test CA.
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

// A minimal MQTT 3.1.1 client over net/tls (and WebSocket, mqtt-websocket.ts) for load generation:
// packets are encoded once (or by hand for PUBLISH) and incoming frames are split without building
// objects, so the generator costs a fraction of what the broker spends on the same message.
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { generate } from 'mqtt-packet';
import type WebSocket from 'ws';
import { openWebSocket, WEBSOCKET_PATH } from './mqtt-websocket.ts';
import { remainingLength } from '../../test/support/mqtt-bytes.ts';

export const PACKET = { CONNACK: 2, PUBLISH: 3, PUBACK: 4, SUBACK: 9, PINGRESP: 13 } as const;

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** Connect with TLS (the server certificate is not verified: loopback benchmark only). */
  readonly tls?: boolean;
  /** Source address, to open more than one port range's worth of connections to one port. */
  readonly localAddress?: string;
  /** A TLS session to resume (from `socket.getSession()` of an earlier connection). */
  readonly session?: Buffer;
  /** MQTT over WebSocket at /mqtt on that socket (with `tls`: WSS). */
  readonly webSocket?: boolean;
}

export interface ConnectParams {
  readonly clientId: string;
  readonly password?: string;
  readonly keepalive?: number;
  /** Clean session (default true); false resumes a persistent session. */
  readonly clean?: boolean;
}

export type PublishListener = (topic: string, payload: Buffer, qos: number, messageId: number) => void;
export type AckListener = (type: number, body: Buffer) => void;

// MQTT's Remaining Length encoding, shared with the raw-packet tests (test/support/mqtt-bytes.ts).
export { remainingLength };

export function encodeConnect({ clientId, password, keepalive = 0, clean = true }: ConnectParams): Buffer {
  return generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean,
    clientId,
    keepalive,
    ...(password !== undefined && { username: 'JWT', password: Buffer.from(password) }),
  });
}

export function encodeSubscribe(messageId: number, topics: readonly string[], qos: 0 | 1 = 0): Buffer {
  return generate({
    cmd: 'subscribe',
    messageId,
    subscriptions: topics.map((topic) => ({ topic, qos })),
  });
}

/** PUBLISH encoded by hand (topic and payload copied once into one buffer). */
export function encodePublish(
  topic: string,
  payload: Buffer,
  qos = 0,
  messageId = 0,
  retain = false,
): Buffer {
  const topicLength = Buffer.byteLength(topic);
  const bodyLength = 2 + topicLength + (qos > 0 ? 2 : 0) + payload.length;
  const lengthBytes = remainingLength(bodyLength);
  const buffer = Buffer.allocUnsafe(1 + lengthBytes.length + bodyLength);
  let offset = 0;
  buffer[offset++] = 0x30 | (qos << 1) | (retain ? 1 : 0);
  for (const byte of lengthBytes) buffer[offset++] = byte;
  buffer.writeUInt16BE(topicLength, offset);
  offset += 2;
  offset += buffer.write(topic, offset);
  if (qos > 0) {
    buffer.writeUInt16BE(messageId, offset);
    offset += 2;
  }
  payload.copy(buffer, offset);
  return buffer;
}

export function encodePuback(messageId: number): Buffer {
  return Buffer.from([0x40, 2, messageId >> 8, messageId & 0xff]);
}

export const DISCONNECT = Buffer.from([0xe0, 0]);

/**
 * One MQTT connection: frames are split from the byte stream (or from WebSocket messages, which may
 * cut it anywhere) and dispatched by type. `socket` is the TCP or TLS socket in either case.
 */
export class MqttConnection {
  readonly socket: Socket;
  onPublish: PublishListener | undefined;
  onAck: AckListener | undefined;
  #pending: Buffer | undefined;
  readonly #webSocket: WebSocket | undefined;

  constructor(socket: Socket, webSocket?: WebSocket) {
    this.socket = socket;
    this.#webSocket = webSocket;
    socket.setNoDelay(true);
    // ws delivers binary messages as Buffers (its default binaryType, "nodebuffer").
    if (webSocket !== undefined) webSocket.on('message', (data) => this.#receive(data as Buffer));
    else socket.on('data', (chunk: Buffer) => this.#receive(chunk));
  }

  #receive(chunk: Buffer): void {
    let data = this.#pending === undefined ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = undefined;
    let offset = 0;
    while (offset + 2 <= data.length) {
      const first = data[offset] as number;
      let length = 0;
      let multiplier = 1;
      let cursor = offset + 1;
      let complete = false;
      while (cursor < data.length) {
        const byte = data[cursor++] as number;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || cursor + length > data.length) break;
      this.#dispatch(first >> 4, first & 0x0f, data.subarray(cursor, cursor + length));
      offset = cursor + length;
    }
    if (offset < data.length) this.#pending = Buffer.from(data.subarray(offset));
    data = Buffer.alloc(0);
  }

  #dispatch(type: number, flags: number, body: Buffer): void {
    if (type === PACKET.PUBLISH) {
      const qos = (flags >> 1) & 3;
      const topicLength = body.readUInt16BE(0);
      const topic = body.toString('utf8', 2, 2 + topicLength);
      let offset = 2 + topicLength;
      let messageId = 0;
      if (qos > 0) {
        messageId = body.readUInt16BE(offset);
        offset += 2;
      }
      this.onPublish?.(topic, body.subarray(offset), qos, messageId);
      return;
    }
    this.onAck?.(type, body);
  }

  /** False when the socket asks to wait for `drain`. */
  write(buffer: Buffer): boolean {
    if (this.#webSocket === undefined) return this.socket.write(buffer);
    this.#webSocket.send(buffer);
    return !this.socket.writableNeedDrain;
  }

  /** Resolves with the next packet of the given type. */
  next(type: number, timeoutMs = 30_000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const previous = this.onAck;
      const timer = setTimeout(() => {
        this.onAck = previous;
        reject(new Error(`no packet of type ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.onAck = (ackType, body) => {
        if (ackType !== type) return previous?.(ackType, body);
        clearTimeout(timer);
        this.onAck = previous;
        resolve(body);
      };
    });
  }

  /** DISCONNECT, then the socket is dropped (no WebSocket closing handshake: MQTT has said goodbye). */
  close(): void {
    if (!this.socket.destroyed) {
      if (this.#webSocket === undefined) this.socket.end(DISCONNECT);
      else this.#webSocket.send(DISCONNECT);
    }
    this.socket.destroy();
  }
}

/** Creates the TCP or TLS socket of an endpoint; `onConnect` runs once it is connected (TLS: secure). */
function createSocket(endpoint: Endpoint, onConnect: () => void): Socket {
  const options = {
    host: endpoint.host,
    port: endpoint.port,
    ...(endpoint.localAddress !== undefined && { localAddress: endpoint.localAddress }),
  };
  const socket = endpoint.tls
    ? connectTls(
        {
          ...options,
          rejectUnauthorized: false,
          ...(endpoint.session !== undefined && { session: endpoint.session }),
        },
        onConnect,
      )
    : connectTcp(options, onConnect);
  // From the start: over WebSocket, the upgrade request follows the TLS Finished at once.
  socket.setNoDelay(true);
  return socket;
}

/** Opens the socket (TCP or TLS); `onSocket` sees it before the handshake (to hear `session`). */
export function openSocket(endpoint: Endpoint, onSocket?: (socket: Socket) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(endpoint, () => {
      socket.off('error', reject);
      resolve(socket);
    });
    onSocket?.(socket);
    socket.once('error', reject);
  });
}

/** Opens the socket and, for a WebSocket endpoint, upgrades it; then wraps it as an MqttConnection. */
async function openConnection(
  endpoint: Endpoint,
  onSocket?: (socket: Socket) => void,
): Promise<MqttConnection> {
  if (endpoint.webSocket !== true) return new MqttConnection(await openSocket(endpoint, onSocket));
  // ws writes the upgrade request once the socket is connected; it hears the socket's errors itself.
  const socket = createSocket(endpoint, () => undefined);
  onSocket?.(socket);
  const scheme = endpoint.tls ? 'wss' : 'ws';
  const url = `${scheme}://${endpoint.host}:${endpoint.port}${WEBSOCKET_PATH}`;
  try {
    return new MqttConnection(socket, await openWebSocket(url, socket));
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

export interface Connected {
  readonly connection: MqttConnection;
  /** CONNACK return code (0 = accepted). */
  readonly returnCode: number;
}

/**
 * Opens a socket, sends CONNECT and resolves on CONNACK, whatever its return code. `prepare` sees the
 * connection before CONNECT is sent (a session's queued PUBLISHes may follow CONNACK in one read).
 */
export async function connectMqtt(
  endpoint: Endpoint,
  params: ConnectParams,
  onSocket?: (socket: Socket) => void,
  prepare?: (connection: MqttConnection) => void,
): Promise<Connected> {
  const connection = await openConnection(endpoint, onSocket);
  const { socket } = connection;
  prepare?.(connection);
  let fail: (error: unknown) => void = () => undefined;
  const closed = new Promise<never>((_resolve, reject) => {
    fail = reject;
  });
  closed.catch(() => undefined);
  const onClose = (): void => fail(new Error('closed before CONNACK'));
  socket.once('close', onClose);
  socket.once('error', fail);
  const connack = connection.next(PACKET.CONNACK);
  connection.write(encodeConnect(params));
  try {
    const body = await Promise.race([connack, closed]);
    return { connection, returnCode: body[1] ?? 255 };
  } finally {
    // Only our own listeners: a TLS socket has its own on `close` (it frees the TLS state there).
    socket.off('close', onClose);
    socket.off('error', fail);
    socket.on('error', () => undefined);
  }
}

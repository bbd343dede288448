// The app-side client: observe events, publish commands, request/response over one connection.
import type { IPublishPacket } from 'mqtt';
import {
  CashewError,
  decodeEvent,
  decodeReply,
  encodeCommand,
  isValidName,
  isValidUserId,
  replyFilter,
  REPLY_LEVEL,
} from '../protocol/index.ts';
import { Connection, type ConnectionState } from './connection.ts';
import { deviceIdOf } from './device-id.ts';
import { EventDedupe } from './event-dedupe.ts';
import { userIdOf } from './jwt-claims.ts';
import { parseOptions, type ConnectOptions, type ResolvedOptions } from './options.ts';
import { PendingRequests } from './pending-requests.ts';
import { observePresence, type PresenceListener } from './presence.ts';
import { TokenRefresher } from './token-refresh.ts';

export interface EventMeta {
  readonly topic: string;
  /** The payload bytes, untouched (a Buffer in Node and in mqtt.js' browser build). */
  readonly payload: Uint8Array;
}

export type EventListener<T> = (data: T, meta: EventMeta) => void;

export interface ObserveOptions {
  /** Hand over the payload bytes instead of parsed JSON (binary events). */
  readonly raw?: boolean;
}

export interface SendOptions {
  /** While offline: true (default) queues and sends on reconnect; false rejects with ERR_OFFLINE. */
  readonly queue?: boolean;
}

export interface RequestOptions extends SendOptions {
  /** Rejects with ERR_TIMEOUT when no reply came in this many ms (offline time included). */
  readonly timeout?: number;
}

type Observer = { readonly fn: EventListener<unknown>; readonly raw: boolean };

function assertName(name: string, what: string): void {
  if (!isValidName(name))
    throw new CashewError('ERR_BAD_PAYLOAD', `invalid ${what} name ${JSON.stringify(name)}`);
}

/** Commands are JSON envelopes; a Uint8Array is sent as it is (fire-and-forget only). */
function commandPayload(data: unknown, id?: string): string | Uint8Array {
  if (data instanceof Uint8Array) return data;
  return encodeCommand(id === undefined ? { data } : { id, data });
}

export class CashewClient {
  readonly userId: string;
  readonly clientId: string;
  readonly #options: ResolvedOptions;
  readonly #connection: Connection;
  readonly #pending = new PendingRequests();
  readonly #dedupe = new EventDedupe();
  readonly #observers = new Map<string, Set<Observer>>();
  /** Events that arrived with nobody observing them yet (a persistent session replays at connect). */
  readonly #buffered = new Map<string, { data: Buffer; topic: string }[]>();
  #bufferedCount = 0;
  #refresher: TokenRefresher | undefined;
  #fatal: CashewError | undefined;

  constructor(options: ResolvedOptions, userId: string, clientIdSuffix: string) {
    this.#options = options;
    this.userId = userId;
    this.clientId = `${userId}/${clientIdSuffix}`;
    this.#connection = new Connection({
      url: options.url,
      getToken: options.getToken,
      clientIdFor: () => this.clientId,
      clean: options.clean,
      connectTimeoutMs: options.connectTimeoutMs,
      backoff: options.backoff,
      mqtt: options.mqtt,
      ...(options.logger !== undefined && { logger: options.logger }),
    });
  }

  /** @internal Opens the connection and subscribes to the replies; `connect()` calls it. */
  async start(): Promise<void> {
    const client = await this.#connection.open();
    client.on('message', (topic, payload, packet) => this.#onMessage(topic, payload, packet));
    // The token is refreshed over the connection before it expires (docs/client-sdk.md#tokens).
    this.#refresher = new TokenRefresher({
      connection: this.#connection,
      getToken: this.#options.getToken,
      inBand: this.#options.refreshToken,
      timeoutMs: this.#options.connectTimeoutMs,
      ...(this.#options.logger !== undefined && { logger: this.#options.logger }),
      onFatal: (error) => {
        this.#fatal = error;
        this.#pending.failAll(error);
      },
    });
    await this.#connection.subscribe(replyFilter(this.userId));
  }

  /** Why the client gave up its connection for good (a refused token, see onState), if it did. */
  get failure(): CashewError | undefined {
    return this.#fatal;
  }

  get state(): ConnectionState {
    return this.#connection.state;
  }

  get connected(): boolean {
    return this.#connection.state === 'online';
  }

  /** Calls `listener` on every state change ('online', 'offline', 'connecting', 'closed'). */
  onState(listener: (state: ConnectionState, error?: CashewError) => void): () => void {
    return this.#connection.onState(listener);
  }

  #onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (topic.startsWith('$')) return; // the broker's control answers (token-refresh.ts reads them)
    const [, name, third] = topic.split('/');
    if (name === undefined) return;
    if (third === REPLY_LEVEL) {
      const reply = decodeReply(payload);
      if (reply === undefined || !this.#pending.settle(reply))
        this.#options.logger?.debug({ topic }, 'reply with no waiting request ignored');
      return;
    }
    if (third !== undefined || !this.#dedupe.accept(packet.messageId, packet.dup)) return;
    const observers = this.#observers.get(name);
    if (observers === undefined || observers.size === 0) {
      if (this.#bufferedCount >= this.#options.maxBufferedEvents) return;
      this.#bufferedCount += 1;
      const list = this.#buffered.get(name) ?? [];
      list.push({ data: payload, topic });
      this.#buffered.set(name, list);
      return;
    }
    for (const observer of observers) this.#notify(observer, topic, payload);
  }

  #notify(observer: Observer, topic: string, payload: Buffer): void {
    const data = observer.raw ? payload : decodeEvent(payload).data;
    try {
      observer.fn(data, { topic, payload });
    } catch (error) {
      this.#options.logger?.error({ topic, err: String(error) }, 'an event listener threw');
    }
  }

  /**
   * Calls `fn` for every `<userId>/<event>` message, with parsed JSON (or the bytes with `raw`).
   * Resolves once the broker granted the subscription; the returned function stops observing.
   */
  async observe<T = unknown>(
    event: string,
    fn: EventListener<T>,
    options: ObserveOptions = {},
  ): Promise<() => Promise<void>> {
    assertName(event, 'event');
    const observer: Observer = { fn: fn as EventListener<unknown>, raw: options.raw ?? false };
    let observers = this.#observers.get(event);
    if (observers === undefined) {
      observers = new Set();
      this.#observers.set(event, observers);
      await this.#connection.subscribe(`${this.userId}/${event}`);
    }
    observers.add(observer);
    const buffered = this.#buffered.get(event) ?? [];
    this.#buffered.delete(event);
    this.#bufferedCount -= buffered.length;
    for (const item of buffered) this.#notify(observer, item.topic, item.data);
    return async () => {
      observers.delete(observer);
      if (observers.size > 0 || this.#observers.get(event) !== observers) return;
      this.#observers.delete(event);
      await this.#connection.unsubscribe(`${this.userId}/${event}`).catch(() => undefined);
    };
  }

  /** Presence events a handler relays to this user (`<userId>/presence`); see client-sdk/presence.ts. */
  observePresence(listener: PresenceListener): Promise<() => Promise<void>> {
    return observePresence(this, listener, this.#options.logger);
  }

  /**
   * Publishes QoS 1 and resolves on the broker's PUBACK, or at once when offline (queued by mqtt.js,
   * sent after the reconnect). Rejects with ERR_TIMEOUT when no PUBACK came within `timeoutMs` (the
   * message stays queued and is re-sent after a reconnect).
   */
  #send(
    command: string,
    payload: string | Uint8Array,
    options: SendOptions,
    timeoutMs: number,
  ): Promise<void> {
    assertName(command, 'command');
    if (this.#connection.state === 'closed')
      return Promise.reject(this.#fatal ?? new CashewError('ERR_CLOSED'));
    if (!this.connected && options.queue === false)
      return Promise.reject(new CashewError('ERR_OFFLINE', `offline: ${command} not sent`));
    const online = this.connected;
    return new Promise((resolve, reject) => {
      const timer = online
        ? setTimeout(() => reject(new CashewError('ERR_TIMEOUT', `no PUBACK for ${command}`)), timeoutMs)
        : undefined;
      this.#connection.client.publish(`${this.userId}/${command}`, payload as string, { qos: 1 }, (error) => {
        clearTimeout(timer);
        if (online && error !== undefined && error !== null)
          reject(new CashewError('ERR_OFFLINE', error.message, { cause: error }));
        else if (online) resolve();
      });
      if (!online) resolve();
    });
  }

  /** Publishes a command on `<userId>/<command>` with no reply expected (fire-and-forget). */
  async publish(command: string, data?: unknown, options: SendOptions = {}): Promise<void> {
    await this.#send(command, commandPayload(data), options, this.#options.requestTimeoutMs);
  }

  /** Sends a command with a correlation id and resolves with the handler's reply. */
  async request<T = unknown>(command: string, data?: unknown, options: RequestOptions = {}): Promise<T> {
    if (data instanceof Uint8Array)
      throw new CashewError('ERR_BAD_PAYLOAD', 'request data is JSON; send bytes with publish()');
    const id = this.#pending.nextId();
    const timeoutMs = options.timeout ?? this.#options.requestTimeoutMs;
    const reply = this.#pending.wait(id, command, timeoutMs);
    // The request's own timeout bounds the wait; a late PUBACK is not a failure of the request.
    this.#send(command, commandPayload(data, id), options, timeoutMs).catch((error: unknown) => {
      if (!(error instanceof CashewError && error.code === 'ERR_TIMEOUT'))
        this.#pending.fail(id, error instanceof CashewError ? error : new CashewError('ERR_OFFLINE'));
    });
    return (await reply) as T;
  }

  /** Drops the connection but keeps the client (and the broker session): `reconnect()` resumes. */
  async disconnect(): Promise<void> {
    await this.#connection.suspend();
  }

  reconnect(): void {
    this.#connection.resume();
  }

  /** Closes for good; waiting requests reject with ERR_CLOSED. */
  async close(): Promise<void> {
    this.#refresher?.stop();
    this.#pending.failAll(new CashewError('ERR_CLOSED'));
    await this.#connection.close();
  }
}

/** Connects with a token (or `getToken`); resolves once online and subscribed to the replies. */
export async function connect(options: ConnectOptions): Promise<CashewClient> {
  const resolved = parseOptions(options);
  const userId = userIdOf(await resolved.getToken(), resolved.userIdClaim);
  if (!isValidUserId(userId))
    throw new CashewError(
      'ERR_BAD_PAYLOAD',
      `the token's user id ${JSON.stringify(userId)} cannot be a topic level`,
    );
  const suffix = resolved.clientIdSuffix ?? (await deviceIdOf(resolved.storage, resolved.logger));
  const client = new CashewClient(resolved, userId, suffix);
  await client.start();
  return client;
}

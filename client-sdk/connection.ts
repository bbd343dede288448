// One MQTT connection that stays up: a fresh token on every (re)connect, reconnects with backoff,
// keeps mqtt.js' stores across reconnects (queued QoS 1 messages survive). Used by the SDK and by the
// handler runtime. Transport-agnostic: mqtt.js picks TLS or WSS from the URL.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { CashewError } from '../protocol/index.ts';
import { reconnectDelay, type BackoffOptions } from './backoff.ts';
import type { SdkLogger } from './logger.ts';

export type TokenSource = () => string | Promise<string>;

export interface ConnectionOptions {
  readonly url: string;
  readonly getToken: TokenSource;
  /** The client id for a token (called once, with the first token). */
  readonly clientIdFor: (token: string) => string;
  /** false keeps a persistent session: subscriptions and QoS 1 messages survive a disconnect. */
  readonly clean: boolean;
  /** How long the first connection may take before `open()` rejects with ERR_TIMEOUT. */
  readonly connectTimeoutMs: number;
  readonly backoff?: BackoffOptions;
  /** Extra mqtt.js options (e.g. `ca` for a private CA in Node, `keepalive`). */
  readonly mqtt?: IClientOptions;
  readonly logger?: SdkLogger;
}

export type ConnectionState = 'connecting' | 'online' | 'offline' | 'closed';

/** A Node socket (TLS/TCP) can turn Nagle's algorithm off; a browser WebSocket stream cannot. */
interface MaybeNodeSocket {
  setNoDelay?: (noDelay: boolean) => unknown;
}

/** MQTT 3.1.1 CONNACK codes meaning "your credentials were refused" (2: a client id not bound to the token). */
const REFUSED_CODES = new Set([2, 4, 5]);

export class Connection {
  readonly #options: ConnectionOptions;
  #client: MqttClient | undefined;
  #state: ConnectionState = 'connecting';
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #suspended = false;
  readonly #listeners = new Set<(state: ConnectionState, error?: CashewError) => void>();
  /** Granted subscriptions, made again after a reconnect that found no session. */
  readonly #filters = new Map<string, 0 | 1>();
  /** Filters added while offline, not yet sent. */
  readonly #unsent = new Set<string>();
  #connectedBefore = false;

  constructor(options: ConnectionOptions) {
    this.#options = options;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The mqtt.js client, once `open()` has started. */
  get client(): MqttClient {
    if (this.#client === undefined) throw new CashewError('ERR_CLOSED', 'the connection is not open');
    return this.#client;
  }

  onState(listener: (state: ConnectionState, error?: CashewError) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #set(state: ConnectionState, error?: CashewError): void {
    this.#state = state;
    for (const listener of this.#listeners) listener(state, error);
  }

  /** Connects; resolves on the first CONNACK accepted, rejects on a refusal or after the timeout. */
  async open(): Promise<MqttClient> {
    const token = await this.#options.getToken();
    const client = mqtt.connect(this.#options.url, {
      protocolVersion: 4,
      ...this.#options.mqtt,
      clientId: this.#options.clientIdFor(token),
      username: 'JWT',
      password: token,
      clean: this.#options.clean,
      reconnectPeriod: 0,
      connectTimeout: this.#options.connectTimeoutMs,
    });
    this.#client = client;
    client.on('connect', (connack) => {
      this.#attempt = 0;
      // Small MQTT packets must not wait for the peer's delayed ACK (40 ms stalls per round trip).
      (client.stream as MaybeNodeSocket).setNoDelay?.(true);
      this.#resubscribe(this.#connectedBefore && !connack.sessionPresent);
      this.#connectedBefore = true;
      this.#set('online');
    });
    client.on('close', () => this.#scheduleReconnect());
    client.on('error', (error: Error & { code?: unknown }) => {
      const refused = typeof error.code === 'number' && REFUSED_CODES.has(error.code);
      const code = refused ? 'ERR_NOT_AUTHORIZED' : 'ERR_OFFLINE';
      this.#options.logger?.warn({ err: error.message, code }, 'connection error');
      if (this.#state !== 'closed')
        this.#set(this.#state, new CashewError(code, error.message, { cause: error }));
    });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        void this.close();
        reject(new CashewError('ERR_TIMEOUT', `no connection to ${this.#options.url} within the timeout`));
      }, this.#options.connectTimeoutMs);
      const stop = this.onState((state, error) => {
        if (state === 'online') {
          clearTimeout(timer);
          stop();
          resolve();
        } else if (error?.code === 'ERR_NOT_AUTHORIZED') {
          clearTimeout(timer);
          stop();
          void this.close();
          reject(error);
        }
      });
    });
    return client;
  }

  /** Closed or suspended (re-read after every await). */
  #stopped(): boolean {
    return this.#state === 'closed' || this.#suspended;
  }

  /**
   * Subscribes one filter (one per SUBSCRIBE: mqtt.js fails a whole packet on one 0x80) and keeps it
   * for reconnects; rejects with ERR_NOT_AUTHORIZED when the broker refuses it, ERR_TIMEOUT when no
   * SUBACK comes within the connect timeout. Offline, it resolves at once and the filter is
   * subscribed on the next connection (a refusal then is logged).
   */
  subscribe(filter: string, qos: 0 | 1 = 1): Promise<void> {
    const client = this.client;
    if (!client.connected) {
      this.#filters.set(filter, qos);
      this.#unsent.add(filter);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new CashewError('ERR_TIMEOUT', `no SUBACK for ${filter}`)),
        this.#options.connectTimeoutMs,
      );
      client.subscribe(filter, { qos }, (error, granted) => {
        clearTimeout(timer);
        const refused = granted?.some((grant) => grant.qos === 128) ?? false;
        if ((error === null || error === undefined) && !refused) {
          this.#filters.set(filter, qos);
          resolve();
          return;
        }
        reject(new CashewError('ERR_NOT_AUTHORIZED', `the broker refused ${filter}`, { cause: error }));
      });
    });
  }

  async unsubscribe(filter: string): Promise<void> {
    this.#filters.delete(filter);
    this.#unsent.delete(filter);
    if (this.client.connected) await this.client.unsubscribeAsync(filter);
  }

  /** After a connect: every filter when the broker kept no session, else those added while offline. */
  #resubscribe(all: boolean): void {
    const filters = all ? [...this.#filters.keys()] : [...this.#unsent];
    this.#unsent.clear();
    for (const filter of filters) {
      this.subscribe(filter, this.#filters.get(filter) ?? 1).catch((error: unknown) =>
        this.#options.logger?.warn({ filter, err: String(error) }, 'resubscription refused'),
      );
    }
  }

  #scheduleReconnect(): void {
    if (this.#state === 'closed' || this.#suspended || this.#timer !== undefined) return;
    if (this.#state !== 'offline') this.#set('offline');
    const delay = reconnectDelay(this.#attempt++, this.#options.backoff);
    this.#options.logger?.info({ delayMs: delay, attempt: this.#attempt }, 'reconnecting');
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#reconnect();
    }, delay);
  }

  async #reconnect(): Promise<void> {
    const client = this.#client;
    if (client === undefined || this.#state === 'closed' || this.#suspended) return;
    try {
      client.options.password = await this.#options.getToken();
    } catch (error) {
      // A token source that can never give a token (e.g. refused client credentials) is reported, not retried.
      if (error instanceof CashewError && error.code === 'ERR_TOKEN_SOURCE')
        return this.#set(this.#state, error);
      this.#options.logger?.warn({ err: String(error) }, 'getToken failed; retrying');
      this.#scheduleReconnect();
      return;
    }
    if (this.#stopped()) return;
    this.#set('connecting');
    // Keeping the stores keeps queued and unacknowledged QoS 1 messages across the reconnect.
    client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
  }

  /**
   * Drops the connection as a network loss would, and does not reconnect until `resume()`. The broker
   * keeps the session; mqtt.js keeps its stores, so commands published meanwhile are queued.
   */
  async suspend(): Promise<void> {
    this.#suspended = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const client = this.#client;
    if (client !== undefined && !client.stream.destroyed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#options.connectTimeoutMs);
        client.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        client.stream.destroy();
      });
    }
    if (this.#state !== 'closed') this.#set('offline');
  }

  resume(): void {
    if (!this.#suspended) return;
    this.#suspended = false;
    void this.#reconnect();
  }

  /** Closes for good (DISCONNECT sent when online); nothing reconnects after. `reason`: why, for the listeners. */
  async close(reason?: CashewError): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#state === 'closed') return;
    this.#set('closed', reason);
    await this.#client?.endAsync(false).catch(() => undefined);
  }
}

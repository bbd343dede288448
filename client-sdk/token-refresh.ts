// Keeps a live connection's token fresh (docs/protocol.md#token-refresh), for the SDK and the handler
// runtime alike: when two thirds of the token's lifetime have passed, a new token from the token
// source is sent over the open connection on `$cashew/refresh`. When the broker refuses it for a
// reason a new token may cure, or does not answer, the connection falls back to a reconnect with a
// fresh token. A refusal no new token cures, or CONNECTs refused again and again, end it: the
// connection is closed and `onFatal` is told why, once — nothing retries forever.
import {
  CashewError,
  decodeRefreshReply,
  encodeRefreshRequest,
  isCashewError,
  PERMANENT_REFRESH_CODES,
  refreshError,
  TOKEN_REFRESH_REPLY_TOPIC,
  TOKEN_REFRESH_TOPIC,
  type TokenRefreshReply,
} from '../protocol/index.ts';
import type { Connection, TokenSource } from './connection.ts';
import { decodeClaims } from './jwt-claims.ts';
import type { SdkLogger } from './logger.ts';

/** No refresh sooner than this after the last (the broker's TOKEN_REFRESH_INTERVAL_MS default). */
export const MIN_REFRESH_DELAY_MS = 1000;
/** The longest a timer may run (about 24.8 days); a longer wait fires early and is scheduled again. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** CONNECTs refused in a row (each with a token fresh from the source) before giving up. */
export const DEFAULT_MAX_REFUSED_CONNECTS = 3;

export interface TokenRefresherOptions {
  readonly connection: Connection;
  readonly getToken: TokenSource;
  /** false: no in-band refresh, only the watch over refused CONNECTs (the broker closes at exp). */
  readonly inBand?: boolean;
  /** How long the broker's answer may take before falling back to a reconnect. */
  readonly timeoutMs: number;
  readonly logger?: SdkLogger;
  /** Called once with the reason the connection was given up; it is closed already. */
  readonly onFatal: (error: CashewError) => void;
  /** A refusal the token itself explains (e.g. a handler token for another name): given up at once. */
  readonly explain?: (token: string) => CashewError | undefined;
  readonly maxRefusedConnects?: number;
}

/** The token's `exp` in ms since the epoch; 0 when it has none (or is no JWT). */
export function expiryOf(token: string): number {
  try {
    const { exp } = decodeClaims(token);
    return typeof exp === 'number' ? exp * 1000 : 0;
  } catch {
    return 0;
  }
}

export class TokenRefresher {
  readonly #options: TokenRefresherOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #refused = 0;
  #counter = 0;
  #done = false;

  constructor(options: TokenRefresherOptions) {
    this.#options = options;
    options.connection.onState((state, error) => {
      if (this.#done) return;
      if (state === 'online') {
        this.#refused = 0;
        this.#schedule();
      } else if (state === 'closed') this.stop();
      else if (error?.code === 'ERR_TOKEN_SOURCE') this.#fail(error);
      else if (error?.code === 'ERR_NOT_AUTHORIZED') this.#connectRefused(error);
    });
    if (options.connection.state === 'online') this.#schedule();
  }

  stop(): void {
    this.#done = true;
    clearTimeout(this.#timer);
  }

  /** The token the connection last connected or refreshed with. */
  #current(): string {
    const password = this.#options.connection.client.options.password;
    return password === undefined ? '' : password.toString();
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#done || this.#options.inBand === false) return;
    const remaining = expiryOf(this.#current()) - Date.now();
    if (remaining <= 0) return; // the broker closes it; the reconnect takes a fresh token
    const delay = Math.min(MAX_TIMER_MS, Math.max(MIN_REFRESH_DELAY_MS, Math.round((remaining * 2) / 3)));
    this.#timer = setTimeout(() => void this.#refresh(), delay);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  async #refresh(): Promise<void> {
    const { connection, logger } = this.#options;
    if (this.#done || connection.state !== 'online') return;
    let token: string;
    try {
      token = await this.#options.getToken();
    } catch (error) {
      if (isCashewError(error) && error.code === 'ERR_TOKEN_SOURCE') return this.#fail(error);
      logger?.warn({ err: String(error) }, 'no new token yet; trying again');
      return this.#schedule();
    }
    // Nothing newer yet (a cached or a static token): ask again later, the broker closes at exp.
    if (expiryOf(token) <= expiryOf(this.#current())) return this.#schedule();
    const reply = await this.#ask(token);
    if (this.#done) return;
    if (reply?.ok === true) {
      connection.client.options.password = token;
      logger?.debug({ expiresAt: reply.expiresAt }, 'token refreshed');
      return this.#schedule();
    }
    const error =
      reply === undefined
        ? new CashewError('ERR_TIMEOUT', 'no answer to the token refresh')
        : refreshError(reply.error);
    if (PERMANENT_REFRESH_CODES.has(error.code)) return this.#fail(error);
    logger?.warn(
      { code: error.code, err: error.message },
      'token refresh failed; reconnecting with a fresh token',
    );
    await connection.suspend();
    if (!this.#done) connection.resume();
  }

  /** Publishes the token and resolves with the broker's answer, or undefined after the timeout. */
  #ask(token: string): Promise<TokenRefreshReply | undefined> {
    const client = this.#options.connection.client;
    this.#counter += 1;
    const id = `refresh-${this.#counter}`;
    return new Promise((resolve) => {
      const finish = (reply: TokenRefreshReply | undefined): void => {
        clearTimeout(timer);
        client.off('message', onMessage);
        resolve(reply);
      };
      const onMessage = (topic: string, payload: Uint8Array): void => {
        if (topic !== TOKEN_REFRESH_REPLY_TOPIC) return;
        const reply = decodeRefreshReply(payload.toString());
        if (reply?.id === id) finish(reply);
      };
      const timer = setTimeout(() => finish(undefined), this.#options.timeoutMs);
      client.on('message', onMessage);
      // QoS 0: a token is not worth queueing for a later connection, which takes a fresh one anyway.
      client.publish(TOKEN_REFRESH_TOPIC, encodeRefreshRequest({ id, token }), { qos: 0 });
    });
  }

  #connectRefused(error: CashewError): void {
    this.#refused += 1;
    const token = this.#current();
    const explained = this.#options.explain?.(token);
    if (explained !== undefined) return this.#fail(explained);
    if (this.#refused < (this.#options.maxRefusedConnects ?? DEFAULT_MAX_REFUSED_CONNECTS)) return;
    const exp = expiryOf(token);
    this.#fail(
      exp !== 0 && exp <= Date.now()
        ? new CashewError(
            'ERR_TOKEN_EXPIRED',
            `the token expired at ${new Date(exp).toISOString()} and the token source gave no fresh one`,
          )
        : new CashewError(
            'ERR_NOT_AUTHORIZED',
            `the broker refused ${this.#refused} CONNECTs in a row: ${error.message} (a bad signature, issuer, audience or algorithm)`,
          ),
    );
  }

  #fail(error: CashewError): void {
    if (this.#done) return;
    this.stop();
    this.#options.logger?.error({ code: error.code, err: error.message }, 'connection given up');
    void this.#options.connection.close(error);
    this.#options.onFatal(error);
  }
}

// Where the JWKS document comes from: the one network fetch behind jwks-rsa (its `fetcher`). It
// decides when the identity provider is asked: not again within the cooldown after a good answer
// (a flood of invented `kid`s cannot hammer it), after a failure only once the backoff has passed
// (1×, 2×, 4× JWKS_RETRY_MS … up to the cooldown), and it remembers the last good answer so that
// refusals can say the real cause (`JWKS unreachable`) and the key set can bound stale serving.
import { CashewError, isRecord } from '../../protocol/index.ts';
import type { JwksTimings } from './token-options.ts';

export const DEFAULT_JWKS_TIMEOUT_MS = 5_000;

export interface JwksDocument {
  readonly keys: readonly unknown[];
}

export class JwksDocumentSource {
  readonly #url: string;
  readonly #timings: JwksTimings;
  readonly #timeoutMs: number;
  #lastGood:
    { readonly document: JwksDocument; readonly at: number; readonly kids: ReadonlySet<string> } | undefined;
  #failures = 0;
  #retryAt = 0;
  #lastFailure = '';
  #pending: Promise<JwksDocument> | undefined;
  /** Requests sent to the identity provider (logs and tests). */
  fetches = 0;

  readonly #onFetch: (outcome: 'ok' | 'error') => void;

  constructor(
    url: string,
    timings: JwksTimings,
    timeoutMs = DEFAULT_JWKS_TIMEOUT_MS,
    /** Told of every fetch's outcome (the metrics). */
    onFetch: (outcome: 'ok' | 'error') => void = () => undefined,
  ) {
    this.#url = url;
    this.#timings = timings;
    this.#timeoutMs = timeoutMs;
    this.#onFetch = onFetch;
  }

  /** When the last good document arrived (ms since the epoch), if one ever did. */
  get lastGoodAt(): number | undefined {
    return this.#lastGood?.at;
  }

  /** The kids of the last good document: a key not among them was removed from the set. */
  publishedKids(): ReadonlySet<string> | undefined {
    return this.#lastGood?.kids;
  }

  /** Why the identity provider is treated as unreachable now, or undefined when it is not. */
  unreachable(now = Date.now()): string | undefined {
    return this.#failures > 0 ? this.#describeFailure(now) : undefined;
  }

  /** The document: the last good one within the cooldown, else a fetch (shared by concurrent callers). */
  document(now = Date.now()): Promise<JwksDocument> {
    const lastGood = this.#lastGood;
    if (lastGood !== undefined && this.#failures === 0 && now - lastGood.at < this.#timings.cooldownMs)
      return Promise.resolve(lastGood.document);
    if (this.#pending !== undefined) return this.#pending;
    if (now < this.#retryAt)
      return Promise.reject(new CashewError('ERR_JWKS_UNAVAILABLE', this.#describeFailure(now)));
    this.#pending = this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  #describeFailure(now: number): string {
    const retryIn = Math.max(0, this.#retryAt - now);
    return `JWKS unreachable (${this.#url}: ${this.#lastFailure}); next attempt in ${retryIn} ms`;
  }

  async #fetch(): Promise<JwksDocument> {
    this.fetches++;
    try {
      const document = await this.#download();
      const kids = new Set(
        document.keys.flatMap((key) => (isRecord(key) && typeof key.kid === 'string' ? [key.kid] : [])),
      );
      this.#lastGood = { document, at: Date.now(), kids };
      this.#failures = 0;
      this.#retryAt = 0;
      this.#onFetch('ok');
      return document;
    } catch (cause) {
      this.#failures++;
      const cap = Math.max(this.#timings.retryMs, this.#timings.cooldownMs);
      const backoff = Math.min(cap, this.#timings.retryMs * 2 ** Math.min(this.#failures - 1, 20));
      this.#retryAt = Date.now() + backoff;
      this.#lastFailure = cause instanceof Error ? cause.message : String(cause);
      this.#onFetch('error');
      throw new CashewError('ERR_JWKS_UNAVAILABLE', this.#describeFailure(Date.now()), { cause });
    }
  }

  async #download(): Promise<JwksDocument> {
    let response: Response;
    try {
      response = await fetch(this.#url, { signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (cause) {
      const reason = isRecord(cause) && cause.cause instanceof Error ? cause.cause.message : undefined;
      throw new Error(reason ?? (cause instanceof Error ? cause.message : 'fetch failed'), { cause });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`answered ${response.status}`);
    }
    const document: unknown = await response.json().catch(() => undefined);
    if (!isRecord(document) || !Array.isArray(document.keys)) throw new Error('not a key set');
    return { keys: document.keys as unknown[] };
  }
}

// A remote JSON Web Key Set (Auth0-style): keys cached by `kid`, refetched when an unknown `kid`
// shows up (key rotation), at most once per cooldown so a flood of bad tokens cannot hammer the IdP.
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { CashewError, isRecord } from '../../protocol/index.ts';

export const DEFAULT_JWKS_TIMEOUT_MS = 5_000;

interface CachedKey {
  readonly key: KeyObject;
  readonly alg: string | undefined;
}

/** Turns the `keys` of a JWKS document into KeyObjects; symmetric and non-signing keys are skipped. */
export function parseJwks(document: unknown): Map<string, CachedKey> {
  const keys = new Map<string, CachedKey>();
  if (!isRecord(document) || !Array.isArray(document.keys)) return keys;
  for (const jwk of document.keys as unknown[]) {
    if (!isRecord(jwk) || typeof jwk.kid !== 'string' || jwk.kty === 'oct') continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    try {
      const publicPart: Record<string, unknown> = { ...jwk };
      delete publicPart.d; // a published private part is never used
      const key = createPublicKey({ key: publicPart as JsonWebKey, format: 'jwk' });
      keys.set(jwk.kid, { key, alg: typeof jwk.alg === 'string' ? jwk.alg : undefined });
    } catch {
      // a key this runtime cannot import is not one anybody can sign with for us: skip it
    }
  }
  return keys;
}

export interface RemoteKeySetOptions {
  readonly url: string;
  readonly cooldownMs: number;
  readonly timeoutMs?: number;
}

export class RemoteKeySet {
  readonly #url: string;
  readonly #cooldownMs: number;
  readonly #timeoutMs: number;
  #keys = new Map<string, CachedKey>();
  #lastFetch = Number.NEGATIVE_INFINITY;
  #pending: Promise<void> | undefined;
  /** How many times the set was fetched (for logs and tests). */
  fetches = 0;

  constructor(options: RemoteKeySetOptions) {
    this.#url = options.url;
    this.#cooldownMs = options.cooldownMs;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_JWKS_TIMEOUT_MS;
  }

  /** The key for `kid`, refetching the set once (rate-limited) when the kid is unknown. */
  async keyFor(kid: unknown, alg: string): Promise<KeyObject> {
    if (typeof kid !== 'string') throw new CashewError('ERR_JWKS_NO_MATCHING_KEY', 'the token has no kid');
    let cached = this.#keys.get(kid);
    if (cached === undefined && Date.now() - this.#lastFetch >= this.#cooldownMs) {
      await this.refresh();
      cached = this.#keys.get(kid);
    }
    if (cached === undefined) throw new CashewError('ERR_JWKS_NO_MATCHING_KEY', `no JWKS key has kid ${kid}`);
    if (cached.alg !== undefined && cached.alg !== alg) {
      throw new CashewError('ERR_TOKEN_ALGORITHM', `key ${kid} is for ${cached.alg}, the token says ${alg}`);
    }
    return cached.key;
  }

  /** Fetches the set now; concurrent callers share one request. */
  refresh(): Promise<void> {
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetch(): Promise<void> {
    this.#lastFetch = Date.now();
    this.fetches++;
    let response: Response;
    try {
      response = await fetch(this.#url, { signal: AbortSignal.timeout(this.#timeoutMs) });
    } catch (cause) {
      throw new CashewError('ERR_JWKS_UNAVAILABLE', `JWKS fetch from ${this.#url} failed`, { cause });
    }
    if (!response.ok) {
      throw new CashewError(
        'ERR_JWKS_UNAVAILABLE',
        `JWKS fetch from ${this.#url} answered ${response.status}`,
      );
    }
    const document: unknown = await response.json().catch(() => undefined);
    if (!isRecord(document) || !Array.isArray(document.keys)) {
      // keep the keys we have: a broken answer must not log everybody out
      throw new CashewError('ERR_JWKS_UNAVAILABLE', `JWKS from ${this.#url} is not a key set`);
    }
    this.#keys = parseJwks(document);
  }
}

// Verified tokens, remembered so that a device reconnecting with the token it used before is spared
// the signature check (RS256 ~245,000 and ES256 ~838,000 instructions: most of such a CONNECT).
//
// A hit skips only what depends on nothing but the token's text and the key: the signature, `alg`,
// `crit`, the token's shape. Whatever depends on time or on state is done again at every use, hit or
// miss: `exp`, `nbf`, `iss`, `aud` (the trust's `finish`, claims.ts), the key still being trusted (a
// JWKS key is looked up again each time, and an entry serves only the key it was verified with), bans
// and revocations (the ban guard, after verification). Refusals are never remembered.
//
// Keyed by the SHA-256 of the token, never the token itself: a heap snapshot of the broker holds no
// bearer token. Bounded: at most `JWT_CACHE_SIZE` entries per trust, least recently used evicted
// first (lru-cache), each gone at its token's `exp` (+ the clock tolerance). docs/security.md.
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Claims } from './claims.ts';

export type CacheLookup = 'hit' | 'miss';

interface Remembered {
  readonly claims: Claims;
  /** What verified the signature: a hit needs the same object (the same key) in force. */
  readonly key: object;
}

export class VerifiedTokens {
  readonly #entries: LRUCache<string, Remembered>;
  readonly #clockToleranceMs: number;
  readonly #onLookup: ((result: CacheLookup) => void) | undefined;

  constructor(max: number, clockToleranceSec: number, onLookup?: (result: CacheLookup) => void) {
    this.#entries = new LRUCache({ max });
    this.#clockToleranceMs = clockToleranceSec * 1000;
    this.#onLookup = onLookup;
  }

  /** `JWT_CACHE_SIZE=0` turns the cache off. */
  static create(
    max: number,
    clockToleranceSec: number,
    onLookup?: (result: CacheLookup) => void,
  ): VerifiedTokens | undefined {
    return max === 0 ? undefined : new VerifiedTokens(max, clockToleranceSec, onLookup);
  }

  /** The key an entry is stored under. */
  digest(token: string): string {
    return hash('sha256', token, 'base64');
  }

  /** The claims the token was verified to carry with `key`; undefined when it was not (or by another key). */
  recall(digest: string, key: object): Claims | undefined {
    const entry = this.#entries.get(digest);
    const claims = entry?.key === key ? entry.claims : undefined;
    this.#onLookup?.(claims === undefined ? 'miss' : 'hit');
    return claims;
  }

  /** After a successful verification by `key` (claims checked, so `exp` is a number). */
  remember(digest: string, key: object, claims: Claims): void {
    const ttl = Math.floor(Number(claims.exp) * 1000 + this.#clockToleranceMs - Date.now());
    if (!(ttl > 0)) return;
    this.#entries.set(digest, { claims: Object.freeze(claims), key }, { ttl });
  }
}

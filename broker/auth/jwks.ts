// A remote JSON Web Key Set (Auth0-style), kept by jwks-rsa (Auth0's JWKS client): keys imported by
// `kid`, each trusted for JWKS_MAX_AGE_MS and then checked against the set again (a key removed from
// the set stops being trusted), the last good key served for JWKS_STALE_MS more while the set cannot
// be fetched. The fetch itself (cooldown, backoff, causes) is jwks-document.ts. Each key gets its own
// fast-jwt verifier, pinned to the configured algorithms that fit the key.
import { createPublicKey } from 'node:crypto';
import { JwksClient, SigningKeyNotFoundError } from 'jwks-rsa';
import { CashewError } from '../../protocol/index.ts';
import { isAlgorithm, type Algorithm } from './algorithms.ts';
import { JwksDocumentSource, type JwksDocument } from './jwks-document.ts';
import { algorithmsFitting, keyTypeOf } from './key-fit.ts';
import { signatureCheckFor, type SignatureCheck } from './keys.ts';
import type { JwksTimings } from './token-options.ts';

export interface RemoteKeySetOptions {
  readonly url: string;
  /** The setting that named the URL, for messages (`JWKS_URL`, `HANDLER_JWKS_URL`). */
  readonly setting: string;
  readonly algorithms: readonly Algorithm[];
  readonly clockToleranceSec: number;
  readonly timings: JwksTimings;
  readonly timeoutMs?: number;
  /** Told of every fetch's outcome (the metrics). */
  readonly onFetch?: (outcome: 'ok' | 'error') => void;
}

interface KeyVerifier {
  readonly pem: string;
  readonly algorithms: readonly Algorithm[];
  readonly check: SignatureCheck;
}

/** Verifiers kept per kid; a set that publishes more keys than this is refetched, not cached. */
const MAX_KEYS = 64;

export class RemoteKeySet {
  readonly #options: RemoteKeySetOptions;
  readonly #source: JwksDocumentSource;
  readonly #client: JwksClient;
  readonly #verifiers = new Map<string, KeyVerifier>();
  /** At start: the document just fetched, handed to jwks-rsa while it imports every key of it. */
  #warming: JwksDocument | undefined;

  constructor(options: RemoteKeySetOptions) {
    this.#options = options;
    this.#source = new JwksDocumentSource(options.url, options.timings, options.timeoutMs, options.onFetch);
    this.#client = new JwksClient({
      jwksUri: options.url,
      fetcher: () => (this.#warming === undefined ? this.#source.document() : Promise.resolve(this.#warming)),
      cache: true,
      cacheMaxEntries: MAX_KEYS,
      cacheMaxAge: options.timings.maxAgeMs,
      cacheMaxAgeFallback: options.timings.staleMs,
      rateLimit: false, // the document source rate-limits (cooldown) and backs off
    });
  }

  /** Requests sent to the identity provider so far. */
  get fetches(): number {
    return this.#source.fetches;
  }

  /** Fetches the set now and imports its keys (at start); rejects with ERR_JWKS_UNAVAILABLE naming the cause. */
  async refresh(): Promise<void> {
    const document = await this.#source.document();
    this.#warming = document;
    try {
      for (const kid of this.#source.publishedKids() ?? [])
        await this.#client.getSigningKey(kid).catch(() => undefined);
    } finally {
      this.#warming = undefined;
    }
  }

  /** The verifier for the key a token names by `kid`, for the token's `alg`. */
  async checkFor(kid: unknown, alg: unknown): Promise<SignatureCheck> {
    if (typeof kid !== 'string' || kid === '')
      throw new CashewError('ERR_JWKS_NO_MATCHING_KEY', 'the token has no kid');
    if (!isAlgorithm(alg) || !this.#options.algorithms.includes(alg))
      throw new CashewError('ERR_TOKEN_ALGORITHM', `algorithm ${String(alg)} is not accepted`);
    const pem = await this.#signingKey(kid);
    this.#assertFresh();
    // jwks-rsa keeps a key until its max age; a refetch that no longer lists it ends its trust now
    if (this.#source.publishedKids()?.has(kid) === false)
      throw new CashewError(
        'ERR_JWKS_NO_MATCHING_KEY',
        `no key of ${this.#options.setting} has kid ${kid} (removed)`,
      );
    const verifier = this.#verifierFor(kid, pem);
    if (!verifier.algorithms.includes(alg)) {
      throw new CashewError(
        'ERR_TOKEN_ALGORITHM',
        `key ${kid} verifies ${verifier.algorithms.join(', ') || 'none of the configured algorithms'}, the token says ${alg}`,
      );
    }
    return verifier.check;
  }

  async #signingKey(kid: string): Promise<{ pem: string; alg: string | undefined }> {
    try {
      const key = await this.#client.getSigningKey(kid);
      return {
        pem: key.getPublicKey(),
        alg: 'alg' in key && typeof key.alg === 'string' ? key.alg : undefined,
      };
    } catch (error) {
      if (error instanceof CashewError) throw error;
      if (error instanceof SigningKeyNotFoundError) {
        const down = this.#source.unreachable();
        if (down !== undefined) throw new CashewError('ERR_JWKS_UNAVAILABLE', down, { cause: error });
        throw new CashewError(
          'ERR_JWKS_NO_MATCHING_KEY',
          `no key of ${this.#options.setting} has kid ${kid}`,
          {
            cause: error,
          },
        );
      }
      // a set with no usable signing key at all
      throw new CashewError(
        'ERR_JWKS_NO_MATCHING_KEY',
        `${this.#options.setting}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  /** Stale serving is bounded: keys not confirmed by the IdP for max age + stale time are not used. */
  #assertFresh(): void {
    const lastGoodAt = this.#source.lastGoodAt;
    const { maxAgeMs, staleMs } = this.#options.timings;
    if (lastGoodAt !== undefined && Date.now() - lastGoodAt > maxAgeMs + staleMs) {
      const down = this.#source.unreachable() ?? 'JWKS unreachable';
      throw new CashewError(
        'ERR_JWKS_UNAVAILABLE',
        `${down}; the last good key set is older than JWKS_MAX_AGE_MS + JWKS_STALE_MS`,
      );
    }
  }

  #verifierFor(kid: string, key: { pem: string; alg: string | undefined }): KeyVerifier {
    const cached = this.#verifiers.get(kid);
    if (cached !== undefined && cached.pem === key.pem) return cached;
    const publicKey = createPublicKey(key.pem);
    let algorithms = algorithmsFitting(publicKey, this.#options.algorithms);
    // a key that names its algorithm is used for that one only
    if (key.alg !== undefined) algorithms = algorithms.filter((alg) => alg === key.alg);
    const verifier: KeyVerifier = {
      pem: key.pem,
      algorithms,
      check:
        algorithms.length === 0
          ? () => {
              throw new CashewError(
                'ERR_TOKEN_ALGORITHM',
                `key ${kid} (${keyTypeOf(publicKey)}) fits no configured algorithm`,
              );
            }
          : signatureCheckFor(key.pem, algorithms, this.#options.clockToleranceSec),
    };
    if (this.#verifiers.size >= MAX_KEYS) this.#verifiers.clear();
    this.#verifiers.set(kid, verifier);
    return verifier;
  }
}

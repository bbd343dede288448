// A stand-in identity provider for tests: a real loopback HTTP server that publishes a JSON Web Key
// Set, plus the signing keys behind it, so tests can rotate, remove and lose keys the way Auth0 does.
//
//   const idp = await startStandInIdp();            // one RS256 key, kid 'k1', on 127.0.0.1:<ephemeral>
//   idp.jwksUrl                                      // http://127.0.0.1:<port>/.well-known/jwks.json
//   idp.sign({ sub: '68946' })                       // RS256 token by the newest key (kid in the header)
//   idp.sign(claims, { kid: 'k1' })                  // by a given key (also one no longer published)
//   idp.addKey('k2', 'ES256')                        // publish another key (rotation: old + new)
//   idp.rotate('k3')                                 // publish a new key and unpublish all others
//   idp.removeKey('k1')                              // unpublish a key; it can still sign (a leaked key)
//   idp.goDown('refuse' | '503' | 'hang')            // listener closed (ECONNREFUSED), HTTP 503, or no answer
//   await idp.comeBack()                             // same port again, serving the current set
//   idp.fetches                                      // JWKS requests answered with the set so far
//   await idp.waitForFetches(n)                      // resolves once n were served (timeout: rejects)
//   await idp.close()
//
// JWKS only: an OAuth2 token endpoint for handler credentials lives in its own support file.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';

export type IdpAlgorithm = 'RS256' | 'ES256';
export type Outage = 'refuse' | '503' | 'hang';

export const JWKS_PATH = '/.well-known/jwks.json';

interface IdpKey {
  readonly kid: string;
  readonly alg: IdpAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export interface StandInIdp {
  readonly jwksUrl: string;
  /** The `iss` its tokens carry by default (`http://127.0.0.1:<port>/`). */
  readonly issuer: string;
  readonly fetches: number;
  /** The kids published now. */
  published(): string[];
  addKey(kid: string, alg?: IdpAlgorithm): void;
  rotate(kid: string, alg?: IdpAlgorithm): void;
  removeKey(kid: string): void;
  sign(claims: Record<string, unknown>, options?: { kid?: string; expiresInSec?: number }): string;
  goDown(outage?: Outage): Promise<void>;
  comeBack(): Promise<void>;
  waitForFetches(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function generate(kid: string, alg: IdpAlgorithm): IdpKey {
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, alg, ...pair };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startStandInIdp(first: { kid?: string; alg?: IdpAlgorithm } = {}): Promise<StandInIdp> {
  const keys = new Map<string, IdpKey>(); // every key ever made, published or not
  let published: string[] = [];
  let outage: Outage | undefined;
  let fetches = 0;
  const waiters = new Set<() => void>();
  const hanging = new Set<ServerResponse>();

  const add = (kid: string, alg: IdpAlgorithm = 'RS256'): void => {
    keys.set(kid, generate(kid, alg));
    published = [...published.filter((k) => k !== kid), kid];
  };
  add(first.kid ?? 'k1', first.alg ?? 'RS256');

  const answer = (request: IncomingMessage, response: ServerResponse): void => {
    if (request.url !== JWKS_PATH) return void response.writeHead(404).end();
    if (outage === '503') return void response.writeHead(503).end('maintenance');
    if (outage === 'hang') return void hanging.add(response);
    const set = published.map((kid) => {
      const key = keys.get(kid) as IdpKey;
      return { ...key.publicKey.export({ format: 'jwk' }), kid, alg: key.alg, use: 'sig' };
    });
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: set }));
    fetches++;
    for (const wake of waiters) wake();
  };
  let server = createServer(answer);
  const port = await listen(server, 0);
  const issuer = `http://127.0.0.1:${port}/`;

  return {
    jwksUrl: `http://127.0.0.1:${port}${JWKS_PATH}`,
    issuer,
    get fetches() {
      return fetches;
    },
    published: () => [...published],
    addKey: add,
    rotate(kid, alg) {
      add(kid, alg);
      published = [kid];
    },
    removeKey(kid) {
      published = published.filter((k) => k !== kid);
    },
    sign(claims, options = {}) {
      const kid = options.kid ?? published.at(-1) ?? [...keys.keys()].at(-1);
      const key = kid === undefined ? undefined : keys.get(kid);
      if (key === undefined) throw new Error(`stand-in IdP: no key ${String(kid)}`);
      return jwt.sign({ iss: issuer, ...claims }, key.privateKey, {
        algorithm: key.alg,
        keyid: key.kid,
        expiresIn: options.expiresInSec ?? 3600,
      });
    },
    async goDown(kind = 'refuse') {
      outage = kind;
      if (kind === 'refuse') await closeServer(server);
    },
    async comeBack() {
      outage = undefined;
      for (const response of hanging) response.destroy();
      hanging.clear();
      if (!server.listening) {
        server = createServer(answer);
        await listen(server, port);
      }
    },
    waitForFetches(count, timeoutMs = 5000) {
      if (fetches >= count) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`stand-in IdP: ${fetches} fetches, waited for ${count}`));
        }, timeoutMs);
        const wake = (): void => {
          if (fetches < count) return;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        };
        waiters.add(wake);
      });
    },
    async close() {
      for (const response of hanging) response.destroy();
      hanging.clear();
      await closeServer(server);
    },
  };
}

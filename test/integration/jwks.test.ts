// RS256 against a JWKS HTTP server the test starts: kid lookup, an unknown kid refused, Auth0-style key
// rotation picked up by a refetch, and the refetch rate-limited (the server's hits are counted).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditOf, startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected, refusalCode, TRANSPORTS } from '../support/clients.ts';
import { generateTestKeyPair, publicJwk, signWith } from '../support/keys.ts';

interface JwksServer {
  readonly url: string;
  hits: number;
  keys: Record<string, unknown>[];
  close(): Promise<void>;
}

async function startJwksServer(keys: Record<string, unknown>[]): Promise<JwksServer> {
  const state = { hits: 0, keys };
  const server: Server = createServer((request, response) => {
    if (request.url !== '/.well-known/jwks.json') {
      response.writeHead(404).end();
      return;
    }
    state.hits++;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}

const oldKey = generateTestKeyPair('RS256');
const newKey = generateTestKeyPair('RS256');
const token = (kid: string, pair = oldKey) => signWith(pair, { sub: '68946' }, { kid });

describe('a broker with JWKS_URL (refetch allowed at once: JWKS_COOLDOWN_MS=0)', () => {
  let jwks: JwksServer;
  let broker: TestBroker;
  beforeAll(async () => {
    jwks = await startJwksServer([publicJwk(oldKey, 'k1')]);
    broker = await startTestBroker({ JWT_SECRET: '', JWKS_URL: jwks.url, JWKS_COOLDOWN_MS: '0' });
  });
  afterAll(async () => {
    await broker.close();
    await jwks.close();
  });

  it.each(TRANSPORTS)(
    'accepts an RS256 token whose kid is in the set, over %s, from the cache',
    async (transport) => {
      const hits = jwks.hits;
      const client = await connected(connectClient(broker, transport, `68946/k1-${transport}`, token('k1')));
      expect(jwks.hits).toBe(hits);
      await closeAll(client);
    },
  );

  it.each(TRANSPORTS)(
    'refuses an unknown kid with ERR_JWKS_NO_MATCHING_KEY after one refetch, over %s',
    async (transport) => {
      const hits = jwks.hits;
      const clientId = `68946/unknown-${transport}`;
      expect(await refusalCode(connectClient(broker, transport, clientId, token('nope')))).toBe(5);
      expect(await broker.waitForLog(auditOf(clientId))).toMatchObject({
        code: 'ERR_JWKS_NO_MATCHING_KEY',
        returnCode: 5,
      });
      expect(jwks.hits).toBe(hits + 1);
    },
  );

  it('follows a key rotation: the new kid is accepted after the refetch, the old one per the served set', async () => {
    // the identity provider publishes the new key next to the old one, then retires the old one
    jwks.keys = [publicJwk(oldKey, 'k1'), publicJwk(newKey, 'k2')];
    let hits = jwks.hits;
    const fresh = await connected(connectClient(broker, 'mqtts', '68946/k2-a', token('k2', newKey)));
    expect(jwks.hits).toBe(hits + 1);
    const old = await connected(connectClient(broker, 'wss', '68946/k1-a', token('k1')));
    await closeAll(fresh, old);

    jwks.keys = [publicJwk(newKey, 'k2')];
    hits = jwks.hits;
    // k1 is still cached until a refetch happens: an unknown kid causes one
    expect(await refusalCode(connectClient(broker, 'mqtts', '68946/k3', token('k3', newKey)))).toBe(5);
    expect(jwks.hits).toBe(hits + 1);
    expect(await refusalCode(connectClient(broker, 'wss', '68946/k1-b', token('k1')))).toBe(5);
    expect(await broker.waitForLog(auditOf('68946/k1-b'))).toMatchObject({
      code: 'ERR_JWKS_NO_MATCHING_KEY',
    });
    const still = await connected(connectClient(broker, 'mqtts', '68946/k2-b', token('k2', newKey)));
    await closeAll(still);
  });

  it('refuses a token signed by another key under a known kid', async () => {
    const forged = signWith(generateTestKeyPair('RS256'), { sub: '68946' }, { kid: 'k2' });
    expect(await refusalCode(connectClient(broker, 'mqtts', '68946/forged', forged))).toBe(5);
    expect(await broker.waitForLog(auditOf('68946/forged'))).toMatchObject({ code: 'ERR_TOKEN_SIGNATURE' });
  });
});

describe('a broker whose JWKS endpoint goes away', () => {
  it('answers CONNACK 3 (server unavailable) for a kid it must fetch, and keeps serving cached kids', async () => {
    const jwks = await startJwksServer([publicJwk(oldKey, 'k1')]);
    const broker = await startTestBroker({ JWT_SECRET: '', JWKS_URL: jwks.url, JWKS_COOLDOWN_MS: '0' });
    try {
      await jwks.close();
      expect(await refusalCode(connectClient(broker, 'mqtts', '68946/down', token('k9')))).toBe(3);
      expect(await broker.waitForLog(auditOf('68946/down'))).toMatchObject({
        code: 'ERR_JWKS_UNAVAILABLE',
        returnCode: 3,
      });
      const cached = await connected(connectClient(broker, 'wss', '68946/cached', token('k1')));
      await closeAll(cached);
    } finally {
      await broker.close();
    }
  });
});

describe('a broker with the default-style cooldown (JWKS_COOLDOWN_MS=60000)', () => {
  let jwks: JwksServer;
  let broker: TestBroker;
  beforeAll(async () => {
    jwks = await startJwksServer([publicJwk(oldKey, 'k1')]);
    broker = await startTestBroker({ JWT_SECRET: '', JWKS_URL: jwks.url, JWKS_COOLDOWN_MS: '60000' });
  });
  afterAll(async () => {
    await broker.close();
    await jwks.close();
  });

  it('fetches once at start and does not refetch for a flood of unknown kids within the cooldown', async () => {
    expect(jwks.hits).toBe(1);
    const attempts = TRANSPORTS.flatMap((transport) =>
      Array.from({ length: 10 }, (_, i) =>
        connectClient(broker, transport, `68946/flood-${transport}-${i}`, token(`bogus-${i}`)),
      ),
    );
    expect(await Promise.all(attempts.map((client) => refusalCode(client)))).toEqual(attempts.map(() => 5));
    expect(jwks.hits).toBe(1);
    const good = await connected(connectClient(broker, 'wss', '68946/good', token('k1')));
    expect(jwks.hits).toBe(1);
    await closeAll(good, ...attempts);
  });
});

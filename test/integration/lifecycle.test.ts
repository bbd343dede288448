// Client lifecycle on aedes' own events: a client whose socket closes while its token is being verified
// (a slow JWKS fetch) leaves nothing behind — no pool member, no expiry timer, no identity, no aedes
// client — while a client that stays connected gets all of it, and gives it all back when it leaves.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { finished } from 'node:stream/promises';
import type { Client } from 'aedes';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasLocalClient } from '../../broker/aedes/broker-internals.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { closeAll, connectClient, connected, type Transport } from '../support/clients.ts';
import { generateTestKeyPair, publicJwk, signWith } from '../support/keys.ts';

const ABANDONED = 50;
const KEY = generateTestKeyPair('ES256');
const KID = 'slow-k1';

/**
 * A JWKS endpoint that fails its first request (the broker's fetch at start, so the key is fetched
 * lazily, when a token needs it) and holds every later answer until `release()`.
 */
interface GatedJwks {
  readonly url: string;
  /** Resolves when a JWKS request is being held. */
  readonly held: Promise<void>;
  release(): void;
  close(): Promise<void>;
}

async function startGatedJwks(): Promise<GatedJwks> {
  let requests = 0;
  let onHeld = (): void => undefined;
  const held = new Promise<void>((resolve) => (onHeld = resolve));
  let open = (): void => undefined;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const body = JSON.stringify({ keys: [publicJwk(KEY, KID)] });
  const server: Server = createServer((_request, response) => {
    requests += 1;
    if (requests === 1) {
      response.writeHead(503).end();
      return;
    }
    onHeld();
    void gate.then(() => response.writeHead(200, { 'content-type': 'application/json' }).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    held,
    release: open,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const userToken = (userId: string): string => signWith(KEY, { sub: userId }, { kid: KID });
const handlerToken = (name: string): string =>
  signWith(
    KEY,
    { sub: `handler:${name}`, handler: { name, commands: ['get_apples'], events: ['got_apples'] } },
    { kid: KID },
  );

/** Counts the calls of aedes' `authenticate` hook and of their answers, and keeps the clients seen. */
function watchAuthentication(broker: TestBroker): {
  readonly clients: Client[];
  started(count: number): Promise<void>;
  answered(count: number): Promise<void>;
} {
  const clients: Client[] = [];
  let answers = 0;
  const waiters: { kind: 'started' | 'answered'; count: number; resolve: () => void }[] = [];
  const check = (): void => {
    for (const waiter of [...waiters]) {
      const reached = waiter.kind === 'started' ? clients.length : answers;
      if (reached >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  const authenticate = broker.aedes.authenticate;
  broker.aedes.authenticate = (client, username, password, done) => {
    clients.push(client);
    check();
    authenticate(client, username, password, (error, success) => {
      answers += 1;
      check();
      done(error, success);
    });
  };
  const waitFor = (kind: 'started' | 'answered', count: number, timeoutMs = 10_000): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${kind} ${count} timed out`)), timeoutMs);
      waiters.push({
        kind,
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      check();
    });
  return {
    clients,
    started: (count) => waitFor('started', count),
    answered: (count) => waitFor('answered', count),
  };
}

/** Resolves after `count` clientDisconnect events. */
function disconnections(broker: TestBroker, count: number, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const timer = setTimeout(() => reject(new Error(`${seen} of ${count} disconnections`)), timeoutMs);
    const onDisconnect = (): void => {
      seen += 1;
      if (seen < count) return;
      clearTimeout(timer);
      broker.aedes.off('clientDisconnect', onDisconnect);
      resolve();
    };
    broker.aedes.on('clientDisconnect', onDisconnect);
  });
}

describe('clients that go away while their token is verified (JWKS answering late)', () => {
  let jwks: GatedJwks;
  let broker: TestBroker;
  beforeAll(async () => {
    jwks = await startGatedJwks();
    broker = await startTestBroker({
      JWT_SECRET: '',
      JWKS_URL: jwks.url,
      JWKS_COOLDOWN_MS: '0',
      // the failed fetch at start is retried after a backoff: 10 ms, long over before the first CONNECT
      JWKS_RETRY_MS: '10',
      JWT_ALGORITHMS: 'ES256',
    });
  });
  afterAll(async () => {
    await broker.close();
    await jwks.close();
  });

  it(`leave nothing behind (${ABANDONED} abandoned, users and handlers, TLS and WSS), while the clients that stay get everything`, async () => {
    const watch = watchAuthentication(broker);
    const abandoned: MqttClient[] = [];
    const abandonedIds = new Map<string, Transport>();
    for (let index = 0; index < ABANDONED; index += 1) {
      const handler = index % 2 === 0;
      const clientId = handler ? `$handler/apples/gone-${index}` : `u${index}/phone`;
      const token = handler ? handlerToken('apples') : userToken(`u${index}`);
      const transport: Transport = index % 4 < 2 ? 'mqtts' : 'wss'; // users and handlers over both
      const client = connectClient(broker, transport, clientId, token);
      client.on('error', () => undefined);
      abandoned.push(client);
      abandonedIds.set(clientId, transport);
    }
    const stayingUser = connectClient(broker, 'mqtts', 'alice/phone', userToken('alice'));
    const stayingHandler = connectClient(broker, 'wss', '$handler/apples/stays', handlerToken('apples'));
    const stay = Promise.all([connected(stayingUser, 10_000), connected(stayingHandler, 10_000)]);

    const events: string[] = [];
    for (const event of ['client', 'clientDisconnect'] as const)
      broker.aedes.on(event, (client) => {
        const transport = abandonedIds.get(client.id);
        if (transport !== undefined) events.push(`${event} ${transport}`);
      });

    // Every CONNECT is in authenticate, waiting for the one JWKS request the broker holds open.
    await watch.started(ABANDONED + 2);
    await jwks.held;
    const abandonedOnBroker = watch.clients.filter((client) => abandonedIds.has(client.id));
    expect(abandonedOnBroker).toHaveLength(ABANDONED);
    const closedOnBroker = (transport: Transport): Promise<unknown> =>
      Promise.all(
        abandonedOnBroker
          .filter((client) => abandonedIds.get(client.id) === transport)
          .map((client) => finished(client.conn).catch(() => undefined)), // after aedes' own listener
      );
    const tlsClosed = closedOnBroker('mqtts');
    const wssClosed = closedOnBroker('wss');
    for (const client of abandoned) client.stream.destroy();
    // A TLS socket that closes is seen at once: aedes will ignore the answer of authenticate. A
    // WebSocket stream is not (aedes stops reading while it authenticates, and the stream ends only
    // when read): aedes learns it is gone only after accepting it, when it writes the CONNACK.
    await tlsClosed;

    // The JWKS answers: every verification succeeds, after its client has gone.
    jwks.release();
    await watch.answered(ABANDONED + 2);
    await stay;
    await wssClosed;
    expect(abandonedOnBroker.every((client) => client.closed)).toBe(true);
    // Both paths: no aedes event at all (TLS), or registered and unregistered at once (WSS).
    const wss = [...abandonedIds.values()].filter((transport) => transport === 'wss').length;
    expect(events.sort()).toEqual([
      ...Array<string>(wss).fill('client wss'),
      ...Array<string>(wss).fill('clientDisconnect wss'),
    ]);

    expect(broker.adapter.registrations()).toEqual({ clients: 2, expiryTimers: 2, poolMembers: 1 });
    expect(broker.aedes.connectedClients).toBe(2);
    expect(abandonedOnBroker.filter((client) => broker.adapter.identityOf(client) !== undefined)).toEqual([]);
    expect(abandonedOnBroker.filter((client) => hasLocalClient(broker.aedes, client.id))).toEqual([]);
    const stayingOnBroker = watch.clients.filter((client) => !abandonedOnBroker.includes(client));
    expect(stayingOnBroker.map((client) => broker.adapter.identityOf(client)?.role).sort()).toEqual([
      'handler',
      'user',
    ]);

    // The clients that stayed give everything back when they leave.
    const gone = disconnections(broker, 2);
    await closeAll(stayingUser, stayingHandler);
    await gone;
    expect(broker.adapter.registrations()).toEqual({ clients: 0, expiryTimers: 0, poolMembers: 0 });
    expect(broker.aedes.connectedClients).toBe(0);
    expect(stayingOnBroker.filter((client) => broker.adapter.identityOf(client) !== undefined)).toEqual([]);
  });
});

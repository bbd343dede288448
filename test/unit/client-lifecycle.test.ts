// ClientLifecycle without sockets: what is registered on aedes' `client` event and undone on
// `clientDisconnect`, including the orders aedes can produce that a happy path never shows.
// The real-socket proof is test/integration/lifecycle.test.ts.
import { EventEmitter } from 'node:events';
import type { Aedes, Client } from 'aedes';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientLifecycle } from '../../broker/aedes/client-lifecycle.ts';
import type { HandlerIdentity, Identity, UserIdentity } from '../../broker/auth/identity.ts';
import { HandlerPools } from '../../broker/pools/handler-pools.ts';
import { ConnectGate } from '../../broker/limits/connect-gate.ts';
import { resolveLimits } from '../../broker/limits/limits.ts';

const HOUR = 3_600_000;
const user = (expiresAt: number): UserIdentity => ({
  role: 'user',
  userId: 'u1',
  partitionPrefix: 'u1/',
  expiresAt,
});
const handler = (expiresAt: number): HandlerIdentity => ({
  role: 'handler',
  name: 'apples',
  commands: new Set(['get_apples']),
  events: new Set(['got_apples']),
  expiresAt,
});

/** The part of an aedes Client the lifecycle and the pools touch. */
function fakeClient(id: string): Client & { closed: boolean } {
  return Object.assign(new EventEmitter(), { id, closed: false }) as unknown as Client & { closed: boolean };
}

let pools: HandlerPools;
let expired: [Client, Identity][];
let lifecycle: ClientLifecycle;
let aedes: EventEmitter;

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
  pools = new HandlerPools();
  expired = [];
  lifecycle = new ClientLifecycle({
    pools,
    gate: new ConnectGate(resolveLimits({}).connect),
    onExpired: (client, identity) => expired.push([client, identity]),
  });
  aedes = new EventEmitter();
  lifecycle.attach(aedes as unknown as Aedes);
});

afterEach(() => {
  pools.close();
  vi.useRealTimers();
});

describe('ClientLifecycle', () => {
  it('registers nothing for a verified client until aedes registers it, then everything', () => {
    const client = fakeClient('$handler/apples/1');
    lifecycle.verified(client, handler(HOUR));
    expect(lifecycle.identityOf(client)?.role).toBe('handler');
    expect(lifecycle.registrations()).toEqual({ clients: 0, expiryTimers: 0, poolMembers: 0 });
    aedes.emit('client', client);
    expect(lifecycle.registrations()).toEqual({ clients: 1, expiryTimers: 1, poolMembers: 1 });
    expect(pools.size('apples')).toBe(1);
  });

  it('undoes everything on clientDisconnect, once, however often aedes emits it', () => {
    const client = fakeClient('$handler/apples/1');
    lifecycle.verified(client, handler(HOUR));
    aedes.emit('client', client);
    aedes.emit('clientDisconnect', client);
    aedes.emit('clientDisconnect', client);
    expect(lifecycle.registrations()).toEqual({ clients: 0, expiryTimers: 0, poolMembers: 0 });
    expect(lifecycle.identityOf(client)).toBeUndefined();
    vi.advanceTimersByTime(2 * HOUR);
    expect(expired).toEqual([]);
  });

  it('does not admit a client that aedes registers after it closed (no clientDisconnect would follow)', () => {
    const client = fakeClient('u1/phone');
    lifecycle.verified(client, user(HOUR));
    client.closed = true;
    aedes.emit('client', client);
    expect(lifecycle.registrations()).toEqual({ clients: 0, expiryTimers: 0, poolMembers: 0 });
  });

  it('ignores a client it never verified, and a second client event for the same client', () => {
    const stranger = fakeClient('x');
    aedes.emit('client', stranger);
    const client = fakeClient('$handler/apples/1');
    lifecycle.verified(client, handler(HOUR));
    aedes.emit('client', client);
    aedes.emit('client', client);
    expect(lifecycle.registrations()).toEqual({ clients: 1, expiryTimers: 1, poolMembers: 1 });
  });

  it('calls onExpired when the token expires, and re-arms timers longer than Node allows', () => {
    const far = 30 * 24 * HOUR; // past the 24.8-day limit of one timer
    const client = fakeClient('u1/phone');
    lifecycle.verified(client, user(far));
    aedes.emit('client', client);
    vi.advanceTimersByTime(2 ** 31 - 1);
    expect(expired).toEqual([]);
    expect(lifecycle.registrations().expiryTimers).toBe(1);
    vi.advanceTimersByTime(far);
    expect(expired).toEqual([[client, user(far)]]);
    expect(lifecycle.registrations().expiryTimers).toBe(0);
  });
});

// The pure parts of the in-band token refresh: the wire format, the policy rule, and the lifecycle's
// swap of the identity and its expiry (fake timers). The real-socket proof is
// test/integration/token-refresh.test.ts.
import { EventEmitter } from 'node:events';
import type { Aedes, Client } from 'aedes';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientLifecycle } from '../../broker/aedes/client-lifecycle.ts';
import type { HandlerIdentity, Identity, UserIdentity } from '../../broker/auth/identity.ts';
import { ConnectGate } from '../../broker/limits/connect-gate.ts';
import { resolveLimits } from '../../broker/limits/limits.ts';
import { authorizeDelivery, authorizeTokenRefresh, isTokenRefresh } from '../../broker/policy/policy.ts';
import { HandlerPools } from '../../broker/pools/handler-pools.ts';
import {
  CashewError,
  decodeRefreshReply,
  decodeRefreshRequest,
  encodeRefreshReply,
  encodeRefreshRequest,
  refreshError,
  TOKEN_REFRESH_REPLY_TOPIC,
} from '../../protocol/index.ts';

const user = (userId: string, expiresAt = 1): UserIdentity => ({
  role: 'user',
  userId,
  partitionPrefix: `${userId}/`,
  expiresAt,
});
const handler = (
  name: string,
  commands: string[] | '*',
  events: string[] | '*' = [],
  expiresAt = 1,
): HandlerIdentity => ({
  role: 'handler',
  name,
  commands: commands === '*' ? '*' : new Set(commands),
  events: events === '*' ? '*' : new Set(events),
  expiresAt,
});

describe('the refresh wire format', () => {
  it('round-trips a request and both answers', () => {
    expect(decodeRefreshRequest(encodeRefreshRequest({ id: 'r1', token: 'a.b.c' }))).toEqual({
      id: 'r1',
      token: 'a.b.c',
    });
    const ok = { id: 'r1', ok: true as const, expiresAt: 5 };
    expect(decodeRefreshReply(encodeRefreshReply(ok))).toEqual(ok);
    const refused = { id: 'r2', ok: false as const, error: { code: 'ERR_TOKEN_SIGNATURE', message: 'x' } };
    expect(decodeRefreshReply(Buffer.from(encodeRefreshReply(refused)))).toEqual(refused);
  });

  it('refuses anything else with ERR_BAD_PAYLOAD', () => {
    for (const payload of [
      '',
      'not json',
      '[]',
      '{"id":1,"token":"t"}',
      '{"id":"r"}',
      '{"id":"r","token":""}',
    ])
      expect(() => decodeRefreshRequest(payload)).toThrow(
        expect.objectContaining({ code: 'ERR_BAD_PAYLOAD' }),
      );
    expect(decodeRefreshReply('{"id":"r","ok":true}')).toBeUndefined();
  });

  it('rebuilds a refusal into a typed error; an unknown code is ERR_NOT_AUTHORIZED', () => {
    expect(refreshError({ code: 'ERR_REFRESH_GRANTS', message: '' })).toMatchObject({
      code: 'ERR_REFRESH_GRANTS',
    });
    const unknown = refreshError({ code: 'NOPE', message: 'm' });
    expect(unknown).toBeInstanceOf(CashewError);
    expect(unknown.code).toBe('ERR_NOT_AUTHORIZED');
  });
});

describe('authorizeTokenRefresh', () => {
  it('keeps a user to its user id', () => {
    expect(authorizeTokenRefresh(user('u1'), user('u1'))).toEqual({ allowed: true });
    expect(authorizeTokenRefresh(user('u1'), user('u2'))).toMatchObject({ code: 'ERR_REFRESH_IDENTITY' });
    expect(authorizeTokenRefresh(user('u1'), handler('u1', []))).toMatchObject({
      code: 'ERR_REFRESH_IDENTITY',
    });
    expect(authorizeTokenRefresh(handler('h', []), user('h'))).toMatchObject({
      code: 'ERR_REFRESH_IDENTITY',
    });
    expect(authorizeTokenRefresh(handler('h', []), handler('g', []))).toMatchObject({
      code: 'ERR_REFRESH_IDENTITY',
    });
  });

  it('lets a handler keep or shrink its grants, never widen them', () => {
    const current = handler('h', ['a', 'b'], ['x']);
    expect(authorizeTokenRefresh(current, handler('h', ['a', 'b'], ['x']))).toEqual({ allowed: true });
    expect(authorizeTokenRefresh(current, handler('h', ['a'], []))).toEqual({ allowed: true });
    expect(authorizeTokenRefresh(current, handler('h', ['a', 'c'], ['x']))).toMatchObject({
      code: 'ERR_REFRESH_GRANTS',
    });
    expect(authorizeTokenRefresh(current, handler('h', ['a'], '*'))).toMatchObject({
      code: 'ERR_REFRESH_GRANTS',
    });
    expect(authorizeTokenRefresh(current, handler('h', '*', ['x']))).toMatchObject({
      code: 'ERR_REFRESH_GRANTS',
    });
    expect(authorizeTokenRefresh(handler('h', '*', '*'), handler('h', ['a'], '*'))).toEqual({
      allowed: true,
    });
  });

  it('is the one $ topic a client publishes to, and its answer only comes from the broker', () => {
    expect(isTokenRefresh('$cashew/refresh')).toBe(true);
    expect(isTokenRefresh('$cashew/refresh/reply')).toBe(false);
    expect(isTokenRefresh('u1/refresh')).toBe(false);
    const reply = { topic: TOKEN_REFRESH_REPLY_TOPIC, retain: false };
    expect(authorizeDelivery(user('u1'), { ...reply, publisherId: undefined })).toEqual({ allowed: true });
    expect(authorizeDelivery(user('u1'), { ...reply, publisherId: 'u1/x' }).allowed).toBe(false);
    expect(authorizeDelivery(handler('h', '*'), { ...reply, publisherId: '$handler/h/1' }).allowed).toBe(
      false,
    );
  });
});

describe('ClientLifecycle.refreshed', () => {
  afterEach(() => vi.useRealTimers());

  it('swaps the identity and moves the expiry; a gone client is not refreshed', () => {
    vi.useFakeTimers({ now: 0 });
    const expired: Identity[] = [];
    const pools = new HandlerPools();
    const lifecycle = new ClientLifecycle({
      pools,
      gate: new ConnectGate(resolveLimits({}).connect),
      onExpired: (_client, identity) => expired.push(identity),
    });
    const aedes = new EventEmitter();
    lifecycle.attach(aedes as unknown as Aedes);
    const client = Object.assign(new EventEmitter(), { id: 'u1/a', closed: false }) as unknown as Client;
    expect(lifecycle.refreshed(client, user('u1', 10_000))).toBe(false);
    lifecycle.verified(client, user('u1', 1000));
    aedes.emit('client', client);
    const next = user('u1', 10_000);
    expect(lifecycle.refreshed(client, next)).toBe(true);
    expect(lifecycle.identityOf(client)).toBe(next);
    expect(lifecycle.registrations().expiryTimers).toBe(1);
    vi.advanceTimersByTime(5000);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(5000);
    expect(expired).toEqual([next]);
    aedes.emit('clientDisconnect', client);
    expect(lifecycle.refreshed(client, user('u1', 20_000))).toBe(false);
    expect(lifecycle.registrations()).toEqual({ clients: 0, expiryTimers: 0, poolMembers: 0 });
    pools.close();
  });
});

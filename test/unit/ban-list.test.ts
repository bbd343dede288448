// The ban list, pure: each kind matches what it names and nothing else, CIDRs over IPv4, IPv6 and
// IPv4-mapped IPv6, iat cut-offs, expiry; and the admin settings' validation.
import { describe, expect, it } from 'vitest';
import { resolveAdminOptions } from '../../broker/admin/admin-options.ts';
import { invalidBanValue, type Ban, type BanKind } from '../../broker/bans/ban.ts';
import { BanList } from '../../broker/bans/ban-list.ts';
import { CashewError } from '../../protocol/index.ts';

const NOW = 1_800_000_000_000;

function ban(kind: BanKind, value: string, extra: Partial<Ban> = {}): Ban {
  return { kind, value, createdAt: NOW, expiresAt: NOW + 60_000, ...extra };
}

function listOf(...bans: Ban[]): BanList {
  const list = new BanList();
  for (const entry of bans) list.put(entry);
  return list;
}

describe('BanList', () => {
  it('matches users, client ids and jtis exactly', () => {
    const list = listOf(ban('user', '42'), ban('clientId', '7/phone'), ban('jti', 'abc'));
    expect(list.match({ clientId: '42/x', userId: '42' }, NOW)?.kind).toBe('user');
    expect(list.match({ clientId: '420', userId: '420' }, NOW)).toBeUndefined();
    expect(list.match({ clientId: '7/phone', userId: '7' }, NOW)?.kind).toBe('clientId');
    expect(list.match({ clientId: '7/tablet', userId: '7' }, NOW)).toBeUndefined();
    expect(list.match({ clientId: '8', userId: '8', jti: 'abc' }, NOW)?.kind).toBe('jti');
  });

  it('matches addresses in subnets, IPv4-mapped IPv6 as IPv4', () => {
    const list = listOf(
      ban('address', '10.1.0.0/16'),
      ban('address', '2001:db8::/32'),
      ban('address', '192.0.2.7'),
    );
    expect(list.match({ clientId: 'a', address: '10.1.200.3' }, NOW)?.value).toBe('10.1.0.0/16');
    expect(list.match({ clientId: 'a', address: '::ffff:10.1.2.3' }, NOW)?.value).toBe('10.1.0.0/16');
    expect(list.match({ clientId: 'a', address: '10.2.0.1' }, NOW)).toBeUndefined();
    expect(list.match({ clientId: 'a', address: '2001:db8:5::1' }, NOW)?.value).toBe('2001:db8::/32');
    expect(list.match({ clientId: 'a', address: '192.0.2.7' }, NOW)?.value).toBe('192.0.2.7');
    expect(list.match({ clientId: 'a', address: '192.0.2.8' }, NOW)).toBeUndefined();
    expect(list.match({ clientId: 'a' }, NOW)).toBeUndefined();
  });

  it('revokes tokens of a user issued at or before the cut-off, and tokens without iat', () => {
    const cutOff = Math.floor(NOW / 1000);
    const list = listOf(ban('issuedBefore', '42', { issuedBeforeSec: cutOff }));
    expect(list.match({ clientId: '42', userId: '42', issuedAtSec: cutOff }, NOW)).toBeDefined();
    expect(list.match({ clientId: '42', userId: '42' }, NOW)).toBeDefined();
    expect(list.match({ clientId: '42', userId: '42', issuedAtSec: cutOff + 1 }, NOW)).toBeUndefined();
    expect(list.match({ clientId: '43', userId: '43', issuedAtSec: 0 }, NOW)).toBeUndefined();
  });

  it('forgets expired entries', () => {
    const list = listOf(ban('user', '42', { expiresAt: NOW + 10 }));
    expect(list.match({ clientId: '42', userId: '42' }, NOW + 10)).toBeUndefined();
    expect(list.prune(NOW + 10)).toHaveLength(1);
    expect(list.size).toBe(0);
  });

  it('validates values by kind', () => {
    expect(invalidBanValue('address', '10.0.0.0/33')).toBeDefined();
    expect(invalidBanValue('address', 'example.com')).toBeDefined();
    expect(invalidBanValue('user', '+')).toBeDefined();
    expect(invalidBanValue('jti', '')).toBeDefined();
    expect(invalidBanValue('address', '::1')).toBeUndefined();
  });
});

describe('admin settings', () => {
  it('default to off in dev mode and 127.0.0.1:9883 in production', () => {
    expect(resolveAdminOptions({}, 'dev').port).toBeUndefined();
    expect(resolveAdminOptions({}, 'production')).toMatchObject({
      port: 9883,
      host: '127.0.0.1',
      tls: false,
    });
    expect(resolveAdminOptions({ ADMIN_PORT: 'off' }, 'production').port).toBeUndefined();
  });

  it('refuse a short token, a bad port, and a non-loopback host without a token', () => {
    const codeOf = (run: () => unknown): unknown => {
      try {
        run();
      } catch (error) {
        return error instanceof CashewError ? error.code : error;
      }
      return undefined;
    };
    expect(codeOf(() => resolveAdminOptions({ ADMIN_TOKEN: 'short' }, 'dev'))).toBe('ERR_CONFIG_INVALID');
    expect(codeOf(() => resolveAdminOptions({ ADMIN_PORT: '70000' }, 'dev'))).toBe('ERR_CONFIG_INVALID');
    expect(codeOf(() => resolveAdminOptions({ ADMIN_HOST: '10.0.0.5' }, 'production'))).toBe(
      'ERR_CONFIG_INVALID',
    );
    expect(codeOf(() => resolveAdminOptions({ BANS_MAX: '0' }, 'dev'))).toBe('ERR_CONFIG_INVALID');
  });
});

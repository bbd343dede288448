// The admin listener's settings (docs/configuration.md, docs/operations.md), resolved once at start
// by broker/options.ts like the limits are.
import ipaddr from 'ipaddr.js';
import { CashewError } from '../../protocol/index.ts';
import { wholeSetting } from '../whole-setting.ts';

export const ADMIN_SETTINGS = [
  'ADMIN_PORT',
  'ADMIN_HOST',
  'ADMIN_TOKEN',
  'BANS_MAX',
  'BAN_MAX_TTL_SEC',
] as const;
export type AdminSetting = (typeof ADMIN_SETTINGS)[number];

export interface AdminOptions {
  /**
   * The admin listener's port (`ADMIN_PORT`): 9883 in production, off in dev mode (several dev
   * brokers share a machine) unless set; `off` turns it off. 0 picks a free port.
   */
  readonly port?: number;
  /** Where it binds (`ADMIN_HOST`, default 127.0.0.1). Anything but loopback needs HTTPS and a token. */
  readonly host: string;
  /** Bearer token every admin request must carry (`ADMIN_TOKEN`; required off loopback). */
  readonly token?: string;
  /** Whether the listener speaks HTTPS (with the broker's certificate): when it binds off loopback. */
  readonly tls: boolean;
  /** Bans and revocations in force at once, all kinds together (`BANS_MAX`, default 10000). */
  readonly maxBans: number;
  /** The longest a ban may last, seconds (`BAN_MAX_TTL_SEC`, default 365 days); also the default. */
  readonly maxBanTtlSec: number;
}

export const DEFAULT_ADMIN_PORT = 9883;
export const DEFAULT_ADMIN_HOST = '127.0.0.1';
export const DEFAULT_BANS_MAX = 10_000;
export const DEFAULT_BAN_MAX_TTL_SEC = 365 * 24 * 3600;
const MIN_TOKEN_LENGTH = 32;

function invalid(setting: AdminSetting, value: string, expected: string): CashewError {
  return new CashewError(
    'ERR_CONFIG_INVALID',
    `${setting}=${JSON.stringify(value)} is invalid: expected ${expected}`,
  );
}

function whole(raw: string | undefined, name: AdminSetting, fallback: number, max: number): number {
  return wholeSetting(raw, name, fallback, 1, max);
}

export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  try {
    const address = ipaddr.process(host);
    return address.range() === 'loopback';
  } catch {
    return false;
  }
}

function adminPort(raw: string | undefined, mode: 'dev' | 'production'): number | undefined {
  const value = raw?.trim();
  if (value === 'off') return undefined;
  if (value === undefined || value === '') return mode === 'production' ? DEFAULT_ADMIN_PORT : undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw invalid('ADMIN_PORT', value, 'a port 0-65535 or off');
  return port;
}

export function resolveAdminOptions(
  settings: Partial<Record<AdminSetting, string>>,
  mode: 'dev' | 'production',
): AdminOptions {
  const port = adminPort(settings.ADMIN_PORT, mode);
  const host = settings.ADMIN_HOST?.trim() || DEFAULT_ADMIN_HOST;
  const token = settings.ADMIN_TOKEN?.trim() || undefined;
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH)
    throw invalid('ADMIN_TOKEN', '<hidden>', `a token of at least ${MIN_TOKEN_LENGTH} characters`);
  const tls = !isLoopbackHost(host);
  if (port !== undefined && tls && token === undefined)
    throw invalid('ADMIN_TOKEN', '', `a token when ADMIN_HOST=${host} is not a loopback address`);
  return {
    ...(port !== undefined && { port }),
    host,
    ...(token !== undefined && { token }),
    tls,
    maxBans: whole(settings.BANS_MAX, 'BANS_MAX', DEFAULT_BANS_MAX, 1_000_000),
    maxBanTtlSec: whole(
      settings.BAN_MAX_TTL_SEC,
      'BAN_MAX_TTL_SEC',
      DEFAULT_BAN_MAX_TTL_SEC,
      10 * 365 * 24 * 3600,
    ),
  };
}

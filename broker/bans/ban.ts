// What an operator can ban, and who a connection is for the purpose of a ban: a user id, a client
// id, a source address or subnet (CIDR), a token `jti`, and "every token of a user issued before a
// time" (a revocation by `iat`). Each entry expires; the list is bounded (BANS_MAX).
import ipaddr from 'ipaddr.js';
import { isValidUserId } from '../../protocol/index.ts';

export const BAN_KINDS = ['user', 'clientId', 'address', 'jti', 'issuedBefore'] as const;
export type BanKind = (typeof BAN_KINDS)[number];

export interface Ban {
  readonly kind: BanKind;
  /**
   * The user id (`user`, and `issuedBefore`: whose tokens), the client id, the address or CIDR, or
   * the jti.
   */
  readonly value: string;
  /** ms since the epoch; the entry is forgotten then. */
  readonly expiresAt: number;
  /** ms since the epoch. */
  readonly createdAt: number;
  /** `issuedBefore` only: tokens whose `iat` (seconds) is at or before this are refused. */
  readonly issuedBeforeSec?: number;
  /** Free text from the operator, shown in lists and audit lines. */
  readonly reason?: string;
}

/** Who a connection is, as far as bans are concerned. */
export interface BanSubject {
  readonly clientId: string;
  readonly userId?: string;
  readonly address?: string;
  readonly jti?: string;
  /** The token's `iat` in seconds; absent when the token has none. */
  readonly issuedAtSec?: number;
}

/** One key per entry: a new ban of the same kind and value replaces the old one. */
export function banKey(kind: BanKind, value: string): string {
  return `${kind}:${value}`;
}

const MAX_VALUE_LENGTH = 256;

/** Why `value` cannot be banned as `kind`, or undefined when it can. */
export function invalidBanValue(kind: BanKind, value: string): string | undefined {
  if (value === '' || value.length > MAX_VALUE_LENGTH)
    return `value must be 1-${MAX_VALUE_LENGTH} characters`;
  switch (kind) {
    case 'user':
    case 'issuedBefore':
      return isValidUserId(value) ? undefined : 'not a valid user id';
    case 'address':
      return parseSubnet(value) === undefined ? 'not an IP address or CIDR' : undefined;
    default:
      return undefined;
  }
}

export type Subnet = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** An address is a /32 (/128) subnet; IPv4-mapped IPv6 addresses are taken as IPv4. */
export function parseSubnet(value: string): Subnet | undefined {
  try {
    if (value.includes('/')) {
      const [address, bits] = ipaddr.parseCIDR(value);
      const ipv4 = normalized(address);
      // ::ffff:10.0.0.0/104 is 10.0.0.0/8
      return ipv4 !== address && bits >= 96 ? [ipv4, bits - 96] : [address, bits];
    }
    const address = normalized(ipaddr.parse(value));
    return [address, address.kind() === 'ipv4' ? 32 : 128];
  } catch {
    return undefined;
  }
}

export function parseAddress(value: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  try {
    return normalized(ipaddr.parse(value));
  } catch {
    return undefined;
  }
}

function normalized(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

/** Whether `ban` (not expired: the caller prunes) applies to `subject`; address bans: see ban-list.ts. */
export function banApplies(ban: Ban, subject: BanSubject): boolean {
  switch (ban.kind) {
    case 'user':
      return subject.userId === ban.value;
    case 'clientId':
      return subject.clientId === ban.value;
    case 'jti':
      return subject.jti === ban.value;
    case 'issuedBefore':
      return (
        subject.userId === ban.value &&
        (subject.issuedAtSec === undefined || subject.issuedAtSec <= (ban.issuedBeforeSec ?? 0))
      );
    case 'address': {
      const subnet = parseSubnet(ban.value);
      const address = subject.address === undefined ? undefined : parseAddress(subject.address);
      return subnet !== undefined && address !== undefined && inSubnet(address, subnet);
    }
  }
}

/** The error code a ban answers with (CONNECT refused, or the live connection closed). */
export function banCodeOf(ban: Ban): 'ERR_TOKEN_REVOKED' | 'ERR_BANNED' {
  return ban.kind === 'issuedBefore' || ban.kind === 'jti' ? 'ERR_TOKEN_REVOKED' : 'ERR_BANNED';
}

/** A short description for audit lines: `user 68946 until 2026-…`. */
export function describeBan(ban: Ban): string {
  const what =
    ban.kind === 'issuedBefore'
      ? `tokens of user ${ban.value} issued at or before ${new Date((ban.issuedBeforeSec ?? 0) * 1000).toISOString()}`
      : `${ban.kind} ${ban.value}`;
  return `${what} banned until ${new Date(ban.expiresAt).toISOString()}`;
}

export function inSubnet(address: ipaddr.IPv4 | ipaddr.IPv6, subnet: Subnet): boolean {
  return address.kind() === subnet[0].kind() && address.match(subnet);
}

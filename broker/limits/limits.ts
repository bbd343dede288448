// The bounds on what one client can make the broker hold, each a setting with a default that is on.
// docs/configuration.md lists them beside the defaults of Mosquitto, EMQX and AWS IoT.
import { CashewError } from '../../protocol/index.ts';

export interface Limits {
  /** The largest CONNECT (any packet before the client is accepted), bytes (`MAX_CONNECT_PACKET_SIZE`). */
  readonly maxConnectPacketSize: number;
  /** The largest packet after the client is accepted, bytes (`MAX_PACKET_SIZE`). */
  readonly maxPacketSize: number;
  /** TLS handshake, and on the WSS port the HTTP upgrade request, must finish within this, ms (`HANDSHAKE_TIMEOUT_MS`). */
  readonly handshakeTimeoutMs: number;
}

/** A CONNECT carries a client id, the token (Auth0 tokens with custom claims reach 4–8 KB) and a will. */
export const DEFAULT_MAX_CONNECT_PACKET_SIZE = 32 * 1024;
/** Between AWS IoT's 128 KB and EMQX's 1 MB. */
export const DEFAULT_MAX_PACKET_SIZE = 256 * 1024;
/** Node's own TLS default is 120 s; a CONNECT must follow within aedes' connectTimeout (10 s) anyway. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** MQTT's Remaining Length encodes at most 268,435,455 bytes (plus a 5-byte fixed header). */
const MQTT_MAX_PACKET_SIZE = 268_435_460;

export const LIMIT_SETTINGS = ['MAX_CONNECT_PACKET_SIZE', 'MAX_PACKET_SIZE', 'HANDSHAKE_TIMEOUT_MS'] as const;
export type LimitSetting = (typeof LIMIT_SETTINGS)[number];

function whole(
  settings: Partial<Record<LimitSetting, string>>,
  name: LimitSetting,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = settings[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new CashewError(
      'ERR_CONFIG_INVALID',
      `${name}=${JSON.stringify(raw)} is invalid: expected a whole number ${min}-${max}`,
    );
  }
  return value;
}

export function resolveLimits(settings: Partial<Record<LimitSetting, string>>): Limits {
  const maxPacketSize = whole(settings, 'MAX_PACKET_SIZE', DEFAULT_MAX_PACKET_SIZE, 64, MQTT_MAX_PACKET_SIZE);
  const maxConnectPacketSize = whole(
    settings,
    'MAX_CONNECT_PACKET_SIZE',
    DEFAULT_MAX_CONNECT_PACKET_SIZE,
    64,
    MQTT_MAX_PACKET_SIZE,
  );
  return {
    maxConnectPacketSize,
    maxPacketSize,
    handshakeTimeoutMs: whole(settings, 'HANDSHAKE_TIMEOUT_MS', DEFAULT_HANDSHAKE_TIMEOUT_MS, 100, 120_000),
  };
}

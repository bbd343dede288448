// The bounds on what one client can make the broker hold, each a setting with a default that is on.
// docs/configuration.md lists them beside the defaults of Mosquitto, EMQX and AWS IoT.
import { wholeSetting } from '../whole-setting.ts';
import type { ConnectLimits } from './connect-gate.ts';
import type { QueueCap } from '../aedes/persistence/session-queues.ts';
import type { PublishRate } from './publish-rate.ts';
import type { RetainedLimits } from './retained-quota.ts';
import type { TopicBounds } from './topic-bounds.ts';

export interface Limits {
  /** The largest CONNECT (any packet before the client is accepted), bytes (`MAX_CONNECT_PACKET_SIZE`). */
  readonly maxConnectPacketSize: number;
  /** The largest packet after the client is accepted, bytes (`MAX_PACKET_SIZE`). */
  readonly maxPacketSize: number;
  /** TLS handshake, and on the WSS port the HTTP upgrade request, must finish within this, ms (`HANDSHAKE_TIMEOUT_MS`). */
  readonly handshakeTimeoutMs: number;
  /** Bytes written to a connection and not yet taken by its peer beyond which it is cut (`MAX_OUTGOING_BUFFER`). */
  readonly maxOutgoingBuffer: number;
  /** Topic and filter length and levels (topic-bounds.ts). */
  readonly topics: TopicBounds;
  /** Live subscriptions of one connection, its restored session's included (`MAX_SUBSCRIPTIONS_PER_CONNECTION`). */
  readonly maxSubscriptionsPerConnection: number;
  /** Filters in one SUBSCRIBE packet; a packet with more closes the connection (`MAX_FILTERS_PER_SUBSCRIBE`). */
  readonly maxFiltersPerSubscribe: number;
  /** Retained messages, and their bytes, per user partition (retained-quota.ts). */
  readonly retained: RetainedLimits;
  /** PUBLISHes per second of one user connection, and of one handler connection (publish-rate.ts). */
  readonly publishRate: { readonly user: PublishRate; readonly handler: PublishRate };
  /** Who may connect how often, and how many at once (connect-gate.ts). */
  readonly connect: ConnectLimits;
  /** Least time between two in-band token refreshes of one connection, ms (`TOKEN_REFRESH_INTERVAL_MS`). */
  readonly tokenRefreshIntervalMs: number;
  /** What a persistent session may hold while its client is away, and for how long (session-expiry.ts). */
  readonly sessions: SessionLimits;
}

export interface SessionLimits {
  /** Queued per persistent session: `MAX_QUEUED_MESSAGES` and `MAX_QUEUED_BYTES`; past either, the oldest are dropped. */
  readonly queue: QueueCap;
  /** A persistent session whose client has been away this long is removed with its queue (`SESSION_EXPIRY_MS`). */
  readonly expiryMs: number;
  /** Persistent sessions one user's client ids may hold; past it the one away longest is removed (`MAX_SESSIONS_PER_USER`). */
  readonly maxPerUser: number;
}

/** A CONNECT carries a client id, the token (Auth0 tokens with custom claims reach 4–8 KB) and a will. */
export const DEFAULT_MAX_CONNECT_PACKET_SIZE = 32 * 1024;
/** Between AWS IoT's 128 KB and EMQX's 1 MB. */
export const DEFAULT_MAX_PACKET_SIZE = 256 * 1024;
/** Node's own TLS default is 120 s; a CONNECT must follow within aedes' connectTimeout (10 s) anyway. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** MQTT's Remaining Length encodes at most 268,435,455 bytes (plus a 5-byte fixed header). */
const MQTT_MAX_PACKET_SIZE = 268_435_460;

/** `<userId>/<name>/reply` with a 128-character user id and name fits; AWS IoT: 256 bytes. */
export const DEFAULT_MAX_TOPIC_LENGTH = 512;
/** AWS IoT: 8 levels; Cashew's own topics have 2 or 3. */
export const DEFAULT_MAX_TOPIC_LEVELS = 16;
/** AWS IoT: 50 per connection. */
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION = 100;
/**
 * AWS IoT: 8; EMQX, Mosquitto: none. Not below MAX_SUBSCRIPTIONS_PER_CONNECTION: mqtt.js resubscribes
 * everything a client holds in one SUBSCRIBE after a reconnect without a session.
 */
export const DEFAULT_MAX_FILTERS_PER_SUBSCRIBE = 100;
/** EMQX: max_retained_messages 0 (unlimited, broker-wide); Mosquitto: none; AWS IoT: a per-account quota. */
export const DEFAULT_MAX_RETAINED_PER_PARTITION = 100;
/** EMQX: max_payload_size 1 MB per retained message; Mosquitto: none. */
export const DEFAULT_MAX_RETAINED_BYTES_PER_PARTITION = 1024 * 1024;
/** AWS IoT: 100 publishes/s per connection; a device's own traffic is far below either. */
export const DEFAULT_PUBLISH_RATE = 1000;
export const DEFAULT_PUBLISH_BURST = 2000;
/** A handler emits to every user it serves. */
export const DEFAULT_HANDLER_PUBLISH_RATE = 20_000;
export const DEFAULT_HANDLER_PUBLISH_BURST = 40_000;
/** Centrifugo's default for a connection's write queue. */
export const DEFAULT_MAX_OUTGOING_BUFFER = 1024 * 1024;
/** Sized so a NAT'd fleet reconnecting at once converges: see docs/configuration.md. */
export const DEFAULT_CONNECT_RATE_PER_ADDRESS = 50;
export const DEFAULT_CONNECT_BURST_PER_ADDRESS = 200;
export const DEFAULT_MAX_CONNECTIONS = 50_000;
/** A user has a few devices and tabs, not thousands; the benchmark fans out to 100 connections of one user. */
export const DEFAULT_MAX_CONNECTIONS_PER_USER = 128;
/** EMQX's flapping detection: 15 connects in 1 min, banned 5 min. */
export const DEFAULT_FLAPPING_MAX_CONNECTS = 30;
export const DEFAULT_FLAPPING_WINDOW_MS = 60_000;
export const DEFAULT_FLAPPING_BAN_MS = 60_000;
/** Mosquitto's max_queued_messages and EMQX's max_mqueue_len: 1000. */
export const DEFAULT_MAX_QUEUED_MESSAGES = 1000;
/** Mosquitto's max_queued_bytes is unlimited; 1000 messages of a phone's few KB fit. */
export const DEFAULT_MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** EMQX expires sessions after 2 h; a phone is often away overnight. */
export const DEFAULT_SESSION_EXPIRY_MS = 24 * 60 * 60 * 1000;
/** A user's phones, tablets and browsers, each with one stable client id (the SDK keeps one per install). */
export const DEFAULT_MAX_SESSIONS_PER_USER = 32;
/** A refresh costs a signature check (and maybe a JWKS fetch); a client needs one per token lifetime. */
export const DEFAULT_TOKEN_REFRESH_INTERVAL_MS = 1000;

export const LIMIT_SETTINGS = [
  'MAX_CONNECT_PACKET_SIZE',
  'MAX_PACKET_SIZE',
  'HANDSHAKE_TIMEOUT_MS',
  'MAX_OUTGOING_BUFFER',
  'MAX_TOPIC_LENGTH',
  'MAX_TOPIC_LEVELS',
  'MAX_SUBSCRIPTIONS_PER_CONNECTION',
  'MAX_FILTERS_PER_SUBSCRIBE',
  'MAX_RETAINED_PER_PARTITION',
  'MAX_RETAINED_BYTES_PER_PARTITION',
  'PUBLISH_RATE',
  'PUBLISH_BURST',
  'HANDLER_PUBLISH_RATE',
  'HANDLER_PUBLISH_BURST',
  'CONNECT_RATE_PER_ADDRESS',
  'CONNECT_BURST_PER_ADDRESS',
  'MAX_CONNECTIONS',
  'MAX_CONNECTIONS_PER_USER',
  'FLAPPING_MAX_CONNECTS',
  'FLAPPING_WINDOW_MS',
  'FLAPPING_BAN_MS',
  'MAX_QUEUED_MESSAGES',
  'MAX_QUEUED_BYTES',
  'SESSION_EXPIRY_MS',
  'MAX_SESSIONS_PER_USER',
  'TOKEN_REFRESH_INTERVAL_MS',
] as const;
export type LimitSetting = (typeof LIMIT_SETTINGS)[number];

function whole(
  settings: Partial<Record<LimitSetting, string>>,
  name: LimitSetting,
  fallback: number,
  min: number,
  max: number,
): number {
  return wholeSetting(settings[name], name, fallback, min, max);
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
    maxOutgoingBuffer: whole(
      settings,
      'MAX_OUTGOING_BUFFER',
      DEFAULT_MAX_OUTGOING_BUFFER,
      64 * 1024,
      1024 ** 3,
    ),
    topics: {
      maxTopicLength: whole(settings, 'MAX_TOPIC_LENGTH', DEFAULT_MAX_TOPIC_LENGTH, 16, 65_535),
      maxTopicLevels: whole(settings, 'MAX_TOPIC_LEVELS', DEFAULT_MAX_TOPIC_LEVELS, 2, 1024),
    },
    maxSubscriptionsPerConnection: whole(
      settings,
      'MAX_SUBSCRIPTIONS_PER_CONNECTION',
      DEFAULT_MAX_SUBSCRIPTIONS_PER_CONNECTION,
      1,
      1_000_000,
    ),
    maxFiltersPerSubscribe: whole(
      settings,
      'MAX_FILTERS_PER_SUBSCRIBE',
      DEFAULT_MAX_FILTERS_PER_SUBSCRIBE,
      1,
      1_000_000,
    ),
    retained: {
      maxPerPartition: whole(
        settings,
        'MAX_RETAINED_PER_PARTITION',
        DEFAULT_MAX_RETAINED_PER_PARTITION,
        1,
        10_000_000,
      ),
      maxBytesPerPartition: whole(
        settings,
        'MAX_RETAINED_BYTES_PER_PARTITION',
        DEFAULT_MAX_RETAINED_BYTES_PER_PARTITION,
        1,
        1024 ** 4,
      ),
    },
    publishRate: {
      user: {
        perSecond: whole(settings, 'PUBLISH_RATE', DEFAULT_PUBLISH_RATE, 1, 10_000_000),
        burst: whole(settings, 'PUBLISH_BURST', DEFAULT_PUBLISH_BURST, 1, 10_000_000),
      },
      handler: {
        perSecond: whole(settings, 'HANDLER_PUBLISH_RATE', DEFAULT_HANDLER_PUBLISH_RATE, 1, 10_000_000),
        burst: whole(settings, 'HANDLER_PUBLISH_BURST', DEFAULT_HANDLER_PUBLISH_BURST, 1, 10_000_000),
      },
    },
    connect: {
      connectRatePerAddress: whole(
        settings,
        'CONNECT_RATE_PER_ADDRESS',
        DEFAULT_CONNECT_RATE_PER_ADDRESS,
        1,
        1_000_000,
      ),
      connectBurstPerAddress: whole(
        settings,
        'CONNECT_BURST_PER_ADDRESS',
        DEFAULT_CONNECT_BURST_PER_ADDRESS,
        1,
        1_000_000,
      ),
      maxConnections: whole(settings, 'MAX_CONNECTIONS', DEFAULT_MAX_CONNECTIONS, 1, 10_000_000),
      maxConnectionsPerUser: whole(
        settings,
        'MAX_CONNECTIONS_PER_USER',
        DEFAULT_MAX_CONNECTIONS_PER_USER,
        1,
        1_000_000,
      ),
      flappingMaxConnects: whole(
        settings,
        'FLAPPING_MAX_CONNECTS',
        DEFAULT_FLAPPING_MAX_CONNECTS,
        1,
        1_000_000,
      ),
      flappingWindowMs: whole(settings, 'FLAPPING_WINDOW_MS', DEFAULT_FLAPPING_WINDOW_MS, 1000, 86_400_000),
      flappingBanMs: whole(settings, 'FLAPPING_BAN_MS', DEFAULT_FLAPPING_BAN_MS, 0, 86_400_000),
    },
    sessions: {
      queue: {
        maxMessages: whole(settings, 'MAX_QUEUED_MESSAGES', DEFAULT_MAX_QUEUED_MESSAGES, 1, 10_000_000),
        maxBytes: whole(settings, 'MAX_QUEUED_BYTES', DEFAULT_MAX_QUEUED_BYTES, 1024, 1024 ** 4),
      },
      expiryMs: whole(settings, 'SESSION_EXPIRY_MS', DEFAULT_SESSION_EXPIRY_MS, 1000, 365 * 86_400_000),
      maxPerUser: whole(settings, 'MAX_SESSIONS_PER_USER', DEFAULT_MAX_SESSIONS_PER_USER, 1, 100_000),
    },
    tokenRefreshIntervalMs: whole(
      settings,
      'TOKEN_REFRESH_INTERVAL_MS',
      DEFAULT_TOKEN_REFRESH_INTERVAL_MS,
      0,
      3_600_000,
    ),
  };
}

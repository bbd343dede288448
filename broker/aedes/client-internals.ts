// The aedes Client internals Cashew reads (checked against aedes 1.2.0, lib/client.js,
// lib/handlers/connect.js and lib/handlers/subscribe.js). None is in aedes' published types (types/client.d.ts); each is pinned by
// test/unit/aedes-boundary/client-internals.test.ts, which fails when an upgrade moves it.
import type { AedesPublishPacket, Client, PublishPacket } from 'aedes';

/** A packet as mqtt-packet's parser emits it; aedes handles the same object after the listeners. */
interface ParsedPacket {
  readonly cmd: string;
  messageId?: number;
  /** A SUBSCRIBE's filters. */
  subscriptions?: unknown[];
}

type PacketListener = (packet: ParsedPacket) => void;

/** The fields read below, as aedes 1.2 sets them on every Client. */
interface ClientInternals {
  /** The CONNECT's will, set before `authenticate` runs; `client.will` is set only after it succeeds. */
  readonly _will?: PublishPacket | null;
  /** The mqtt-packet parser of the connection: emits every packet the client sends. */
  readonly _parser?: {
    on(event: 'packet', listener: PacketListener): unknown;
    prependListener(event: 'packet', listener: PacketListener): unknown;
    removeListener(event: 'packet', listener: PacketListener): unknown;
    listeners(event: 'packet'): PacketListener[];
  };
  /** The client's live subscriptions by filter (an Object.create(null) map), with the granted QoS. */
  readonly subscriptions: Readonly<Record<string, { readonly qos?: number } | undefined>>;
}

function internals(client: Client): ClientInternals {
  return client as unknown as ClientInternals;
}

/**
 * The will declared in the CONNECT being authenticated. aedes keeps it in `_will` while `authenticate`
 * runs and copies it to the typed `will` only once the client is accepted (connect.js, storeWill), so
 * the will can be judged when it is declared.
 */
export function declaredWill(client: Client): PublishPacket | undefined {
  return internals(client)._will ?? undefined;
}

/**
 * Calls `listener` with every PUBACK/PUBCOMP the client sends (its message id). aedes emits `ack`
 * without the acknowledged packet for clean sessions, so a pool reads the id off the client's parser.
 */
export function onClientAcknowledgement(client: Client, listener: (messageId: number) => void): void {
  internals(client)._parser?.on('packet', (packet) => {
    if ((packet.cmd === 'puback' || packet.cmd === 'pubcomp') && packet.messageId !== undefined)
      listener(packet.messageId);
  });
}

/**
 * Shows every SUBSCRIBE the client sends to `admit` (its number of filters) before aedes handles it.
 * aedes' own `packet` listener on the parser (lib/client.js, `enqueue`) handles each packet as soon as
 * it is parsed, and never shows the packet to a hook: `authorizeSubscribe` runs once per filter. The
 * screen takes that listener's place and calls it after looking at the packet, so that the parser
 * still has one listener: with two, every packet (each PUBLISH, each PUBACK) would cost the emitter a
 * copy of its listener array and one more call. When `admit` answers false, aedes is left
 * nothing to do: the filters are emptied (lib/handlers/subscribe.js then authorizes, stores and
 * subscribes nothing and reads no retained message) and the message id removed (`completeSubscribe`
 * writes a SUBACK only for a packet that has one); the caller closes the connection.
 * Call it while the CONNECT is handled (the `preConnect` hook, which aedes calls synchronously from
 * the CONNECT's own `packet` event): a SUBSCRIBE sent right behind the CONNECT is parsed from the
 * same chunk, before any later hook runs — and before aedes sets `client.id` (on the next turn,
 * connect.js `init`): `admit` is told the CONNECT's `clientId`. `admit` is meant to be one function
 * for all clients: the listener, held as long as the connection, is then the only closure per client.
 * Should the parser hold other listeners than aedes' own, the screen is put first beside them.
 */
export function screenSubscribes(
  client: Client,
  clientId: string,
  admit: (client: Client, clientId: string, filterCount: number) => boolean,
): void {
  const parser = internals(client)._parser;
  if (parser === undefined) return;
  const listeners = parser.listeners('packet');
  const own = listeners.length === 1 ? listeners[0] : undefined;
  if (own === undefined) {
    parser.prependListener('packet', (packet) => screen(packet, client, clientId, admit));
    return;
  }
  // Replaced while the CONNECT's own `packet` event runs it: the emitter called that one listener
  // directly, and the packets after the CONNECT reach the screen.
  parser.removeListener('packet', own);
  parser.on('packet', function screenThenHandle(this: unknown, packet: ParsedPacket): void {
    if (packet.cmd === 'subscribe') screen(packet, client, clientId, admit);
    own.call(this, packet);
  });
}

function screen(
  packet: ParsedPacket,
  client: Client,
  clientId: string,
  admit: (client: Client, clientId: string, filterCount: number) => boolean,
): void {
  if (packet.cmd !== 'subscribe' || packet.subscriptions === undefined) return;
  if (admit(client, clientId, packet.subscriptions.length)) return;
  packet.subscriptions = [];
  delete packet.messageId;
}

/** The filters of the client's live subscriptions (restored from its session, then granted). */
export function subscribedFilters(client: Client): string[] {
  return Object.keys(internals(client).subscriptions);
}

/** The QoS granted to the client's live subscription `filter`, or undefined when it has none. */
export function subscriptionQos(client: Client, filter: string): number | undefined {
  return internals(client).subscriptions[filter]?.qos;
}

/**
 * The peer address: the upgrade request's socket for WebSocket clients (aedes keeps the request as
 * `req`), the connection itself for TLS/TCP (`conn` is typed as a Duplex, which has no address).
 */
export function remoteAddressOf(client: Client): string | undefined {
  const socket = client.req?.socket ?? (client.conn as { readonly remoteAddress?: string });
  return socket.remoteAddress;
}

/** Where a packet handed straight to one client says it comes from: aedes' per-broker dedupe key. */
export interface DedupeKey {
  readonly brokerId: string;
  readonly brokerCounter: number;
}

/**
 * Delivers a message straight to one client (`client.publish`, bypassing the emitter) under a dedupe
 * key of the caller's choosing. aedes keeps `brokerId`/`brokerCounter` of the message it is given
 * (aedes-packet) and drops, per client and brokerId, any counter not above the last one delivered
 * (client.js, `dedupe`): a re-dispatched command needs a key of its own, or the member it goes to,
 * which saw the original, would drop it. `authorizeForward` still sees the message, with that key.
 */
export function deliverUnder(
  client: Client,
  message: Pick<AedesPublishPacket, 'topic' | 'payload' | 'qos'>,
  key: DedupeKey,
  done: (error?: Error) => void,
): void {
  const packet: PublishPacket & DedupeKey = {
    cmd: 'publish',
    topic: message.topic,
    payload: message.payload,
    qos: message.qos,
    retain: false,
    dup: false,
    brokerId: key.brokerId,
    brokerCounter: key.brokerCounter,
  };
  client.publish(packet, done);
}

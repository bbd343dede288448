// The aedes broker internals Cashew reads or changes (checked against aedes 1.2.0, aedes.js and
// types/instance.d.ts). Pinned by test/unit/aedes-boundary/broker-internals.test.ts, which fails when an upgrade moves
// one of them.
import type { Duplex } from 'node:stream';
import type { Aedes, Client } from 'aedes';

/** The fields read below, as aedes 1.2 sets them on the instance. */
interface BrokerInternals {
  /** Connected clients by id (an Object.create(null) map), filled by registerClient. */
  readonly clients: Readonly<Record<string, object | undefined>>;
  /** When each broker's heartbeat was last heard; `_clearWills` publishes the wills of the others. */
  readonly brokers: Record<string, number>;
  /** The persistence passed as `persistence` (typed `any` in aedes' options, absent from the instance). */
  readonly persistence: unknown;
}

function internals(aedes: Aedes): BrokerInternals {
  return aedes as unknown as BrokerInternals;
}

/** Whether a client with this id is connected to this broker instance (`aedes.clients`). */
export function hasLocalClient(aedes: Aedes, clientId: string): boolean {
  return internals(aedes).clients[clientId] !== undefined;
}

/** The connection of every client registered with this instance (`aedes.clients`). */
export function localConnections(aedes: Aedes): Duplex[] {
  const connections: Duplex[] = [];
  for (const client of Object.values(internals(aedes).clients))
    if (client !== undefined) connections.push((client as Client).conn);
  return connections;
}

/**
 * Marks brokers as heard now, in the table aedes keeps from `$SYS/+/heartbeat` (`aedes.brokers`,
 * typed read-only) and reads every 4 heartbeats to publish the wills of brokers it has not heard
 * from. Used after a Redis outage, when no heartbeat could arrive.
 */
export function markBrokersAlive(aedes: Aedes, brokerIds: Iterable<string>, at: number): void {
  const { brokers } = internals(aedes);
  for (const id of brokerIds) brokers[id] = at;
}

/** The persistence instance aedes runs on (for metrics and tests). */
export function persistenceOf(aedes: Aedes): unknown {
  return internals(aedes).persistence;
}

/**
 * Listens to the instance's `error` event: aedes emits it when a periodic will check fails (Redis
 * away); unhandled, it would kill the process. aedes' typed `on` overloads do not list `error`.
 */
export function onBrokerError(aedes: Aedes, listener: (error: Error) => void): void {
  (aedes as NodeJS.EventEmitter).on('error', listener);
}

/** aedes calls `publish(packet, done)` for its own events and `publish(packet, client, done)` for clients'. */
type Publish = (packet: { readonly topic: string }, clientOrDone?: unknown, done?: unknown) => void;

/**
 * Replaces `aedes.publish` so that publications whose topic `skip` accepts are acknowledged (their
 * callback runs on the next tick) without being published. aedes routes its `$SYS` announcements,
 * wills and every client PUBLISH through `this.publish`, with the 2- and 3-argument forms above.
 * Fixed parameters, no rest/spread or array allocation: this runs for every PUBLISH.
 */
export function skipPublications(aedes: Aedes, skip: (topic: string) => boolean): void {
  const publish = aedes.publish.bind(aedes) as unknown as Publish;
  const filtered = (packet: { readonly topic: string }, clientOrDone?: unknown, done?: unknown): void => {
    if (skip(packet.topic)) {
      const callback = typeof done === 'function' ? done : clientOrDone;
      if (typeof callback === 'function') process.nextTick(callback);
      return;
    }
    if (done === undefined) publish(packet, clientOrDone);
    else publish(packet, clientOrDone, done);
  };
  aedes.publish = filtered;
}

// What the in-band token refresh asks of aedes (checked against aedes 1.2.0, lib/client.js and
// lib/handlers/unsubscribe.js): answering one connection, and taking subscriptions away from it.
// `client.publish` and `client.unsubscribe` are in aedes' published types, but what they do with a
// message or a packet Cashew builds (below) is not documented; `client.broker` is private. Pinned by
// test/unit/aedes-boundary/session-internals.test.ts, which fails when an upgrade changes either.
import type { Client } from 'aedes';
import { deliverUnder } from './client-internals.ts';

/** The persistence API used below (aedes types `persistence` as `any`). */
interface PersistenceInternals {
  removeSubscriptions(client: Client, filters: string[]): Promise<void>;
}

interface ClientBroker {
  readonly broker: { readonly persistence: PersistenceInternals };
}

/** The brokerId of the broker's answers to one client: its own dedupe counter space in aedes. */
const ANSWER_BROKER_ID = 'cashew-client-answer';
let answerCounter = 0;

/**
 * Writes a QoS 0 PUBLISH straight to this one connection: `client.publish` of a QoS 0 message is
 * `deliver0`, which bypasses the emitter (no other subscriber, no other node, no session store) and
 * still asks `authorizeForward`. Under a dedupe key of its own (`deliverUnder`): with the broker's
 * own id and counter, a message routed through Redis that was numbered before the answer but arrives
 * after it would be dropped by aedes as already delivered. Resolves once written (or dropped).
 */
export function writeToClient(client: Client, topic: string, payload: string): Promise<void> {
  answerCounter += 1;
  const key = { brokerId: ANSWER_BROKER_ID, brokerCounter: answerCounter };
  return new Promise((resolve) => {
    deliverUnder(client, { topic, payload: Buffer.from(payload, 'utf8'), qos: 0 }, key, () => resolve());
  });
}

/**
 * Removes subscriptions of a live client as if it had unsubscribed, without an UNSUBACK: an
 * UNSUBSCRIBE with no message id is applied to the emitter and `client.subscriptions` only
 * (unsubscribe.js, `handleUnsubscribe`), and fires aedes' `unsubscribe` event. A persistent session
 * keeps its stored subscriptions unless they are removed from the persistence as well.
 */
export async function dropSubscriptions(client: Client, filters: string[]): Promise<void> {
  if (filters.length === 0) return;
  await new Promise<void>((resolve, reject) => {
    // No messageId: no UNSUBACK is written, nothing is removed from the persistence.
    client.unsubscribe({ cmd: 'unsubscribe', unsubscriptions: filters }, (error) =>
      error === undefined || error === null ? resolve() : reject(error),
    );
  });
  if (!client.clean)
    await (client as unknown as ClientBroker).broker.persistence.removeSubscriptions(client, filters);
}

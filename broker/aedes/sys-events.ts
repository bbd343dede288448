// aedes announces every connect, disconnect, SUBSCRIBE and UNSUBSCRIBE as a `$SYS/<brokerId>/…`
// publish. A single Cashew process has no reader for them: no user or handler may subscribe to
// `$`-topics, and aedes' own listener (closeSameClients) only acts on other nodes' announcements.
// Each costs a full publish (packet, emitter match, JSON for subscriptions) on the connect and
// SUBSCRIBE hot paths, so the embedded broker drops them. Scale-out keeps them: other nodes use
// `new/clients` to close a client id that moved (broker/cluster/), so this is wired only when aedes
// runs on its own in-process emitter.
import type { Aedes } from 'aedes';
import { skipPublications } from './broker-internals.ts';

/** The announcements nobody reads on a single node; heartbeat and birth are kept. */
export const UNOBSERVED_SYS_EVENTS = [
  'new/clients',
  'disconnect/clients',
  'new/subscribes',
  'new/unsubscribes',
] as const;

export function dropUnobservedSysEvents(aedes: Aedes): void {
  const prefix = `$SYS/${aedes.id}/`;
  const dropped = new Set<string>(UNOBSERVED_SYS_EVENTS.map((event) => prefix + event));
  skipPublications(aedes, (topic) => topic.charCodeAt(0) === 36 /* $ */ && dropped.has(topic));
}

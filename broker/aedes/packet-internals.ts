// The client id aedes stamps on packets (checked against aedes 1.2.0, aedes.js `emitPacket`;
// aedes-persistence 11 and aedes-persistence-redis 12, `putWill`). Not in the published packet types;
// pinned by test/unit/aedes-boundary/packet-internals.test.ts.
import type { PublishPacket } from 'aedes';

/**
 * The client id of whoever published the packet: aedes sets `clientId` on every packet a client
 * publishes before handing it to the emitter, and the persistences set it on every stored will (a
 * will of a client that died on another node arrives with no client, only this id). Undefined for
 * the broker's own publications.
 */
export function publisherIdOf(packet: PublishPacket): string | undefined {
  const { clientId } = packet as { readonly clientId?: unknown };
  return typeof clientId === 'string' ? clientId : undefined;
}

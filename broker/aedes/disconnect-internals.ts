// How a client's connection ended, as aedes 1.2 records it (lib/handlers/index.js): a DISCONNECT
// packet sets `client._disconnected` before the socket is destroyed, and nothing else sets it (it is
// also what decides whether the will is published, lib/client.js `close`). Not in aedes' published
// types; pinned by test/unit/aedes-boundary/disconnect-internals.test.ts.
import type { Client } from 'aedes';

interface DisconnectInternals {
  readonly _disconnected?: boolean;
}

/** Whether the client ended its connection with a DISCONNECT packet (a clean goodbye). */
export function sentDisconnect(client: Client): boolean {
  return (client as unknown as DisconnectInternals)._disconnected === true;
}

// Pins the aedes internal read by broker/aedes/disconnect-internals.ts against the installed aedes: a
// real broker, real mqtt.js clients over real sockets.
import type { Client } from 'aedes';
import { describe, expect, it } from 'vitest';
import { sentDisconnect } from '../../../broker/aedes/disconnect-internals.ts';
import { nextEvent, useBareAedes } from '../../support/bare-aedes.ts';

const { start, connect, nextClient } = useBareAedes();

describe('disconnect-internals.ts (aedes 1.2 lib/handlers/index.js)', () => {
  it('sentDisconnect: true after a DISCONNECT packet, as clientDisconnect fires', async () => {
    const bare = await start();
    const serverSide = nextClient(bare);
    const client = await connect(bare.tcpUrl, { clientId: 'polite' });
    const server = await serverSide;
    expect(sentDisconnect(server)).toBe(false);
    const gone = nextEvent<[Client]>(bare.aedes, 'clientDisconnect');
    await client.endAsync();
    const [disconnected] = await gone;
    expect(disconnected).toBe(server);
    expect(sentDisconnect(server)).toBe(true);
  });

  it('sentDisconnect: false when the socket closes without a DISCONNECT', async () => {
    const bare = await start();
    const serverSide = nextClient(bare);
    const client = await connect(bare.tcpUrl, { clientId: 'abrupt' });
    const server = await serverSide;
    const gone = nextEvent<[Client]>(bare.aedes, 'clientDisconnect');
    client.stream.destroy();
    await gone;
    expect(sentDisconnect(server)).toBe(false);
  });
});

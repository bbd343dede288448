// Pins the aedes client events broker/aedes/client-lifecycle.ts follows, against the installed
// aedes: when `client` and `clientDisconnect` fire, and that nothing fires for a client that goes
// away while authenticate is pending.
import { finished } from 'node:stream/promises';
import type { Client } from 'aedes';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { hasLocalClient } from '../../../broker/aedes/broker-internals.ts';
import { nextEvent, useBareAedes } from '../../support/bare-aedes.ts';

const { start, connect, track } = useBareAedes();

describe("aedes' client events (client-lifecycle.ts)", () => {
  it("'client' when aedes registers a client (before CONNACK), 'clientDisconnect' when it closes", async () => {
    const bare = await start();
    const events: string[] = [];
    const record = (name: string) => (client: Client) => events.push(`${name}:${client.id}`);
    bare.aedes.on('client', record('client'));
    bare.aedes.on('connackSent', (_packet, client) => events.push(`connack:${client.id}`));
    bare.aedes.on('clientReady', record('ready'));
    bare.aedes.on('clientDisconnect', record('disconnect'));
    const client = await connect(bare.tcpUrl, { clientId: 'e1' });
    const gone = nextEvent(bare.aedes, 'clientDisconnect');
    client.stream.destroy();
    await gone;
    expect(events).toEqual(['client:e1', 'connack:e1', 'ready:e1', 'disconnect:e1']);
  });

  it('a client whose socket closes while authenticate is pending: its answer is ignored and no event fires', async () => {
    let pending: { client: Client; answer: (ok: boolean) => void } | undefined;
    let authenticating = (): void => undefined;
    const called = new Promise<void>((resolve) => (authenticating = resolve));
    const bare = await start({
      authenticate: (client, _username, _password, done) => {
        pending = { client, answer: (ok) => done(null, ok) };
        authenticating();
      },
    });
    const events: string[] = [];
    for (const event of ['client', 'clientReady', 'clientDisconnect'] as const)
      bare.aedes.on(event, () => events.push(event));
    const client = mqtt.connect(bare.tcpUrl, { clientId: 'slow', protocolVersion: 4, reconnectPeriod: 0 });
    client.on('error', () => undefined);
    track(client);
    await called;
    const server = pending!.client;
    const socketFinished = finished(server.conn).catch(() => undefined); // after aedes' own listener
    client.stream.destroy();
    await socketFinished;
    expect(server.closed).toBe(true);
    pending!.answer(true); // aedes checks client.closed synchronously in its callback
    expect(events).toEqual([]);
    expect(bare.aedes.connectedClients).toBe(0);
    expect(hasLocalClient(bare.aedes, 'slow')).toBe(false);
  });
});

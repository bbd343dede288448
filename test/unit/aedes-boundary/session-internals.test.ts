// Pins what broker/aedes/session-internals.ts relies on against the installed aedes: a real broker,
// real mqtt.js clients over real sockets. An upgrade that changes either behaviour fails here, by name.
import type { AedesPublishPacket, Client } from 'aedes';
import { describe, expect, it } from 'vitest';
import { dropSubscriptions, writeToClient } from '../../../broker/aedes/session-internals.ts';
import { recordMessages } from '../../support/clients.ts';
import { useBareAedes } from '../../support/bare-aedes.ts';

const { start, connect, nextClient } = useBareAedes();

describe('session-internals.ts (aedes 1.2 lib/client.js, lib/handlers/unsubscribe.js)', () => {
  it('writeToClient: reaches that connection only, through authorizeForward, not the emitter', async () => {
    const forwarded: string[] = [];
    const bare = await start({
      authorizeForward: (client: Client, packet: AedesPublishPacket) => {
        forwarded.push(`${client.id} ${packet.topic}`);
        return packet;
      },
    });
    const emitted: string[] = [];
    bare.aedes.on('publish', (packet: AedesPublishPacket) => emitted.push(packet.topic));
    const serverSide = nextClient(bare);
    const asker = await connect(bare.tcpUrl, { clientId: 'asker' });
    const server = await serverSide;
    const other = await connect(bare.tcpUrl, { clientId: 'other' });
    await other.subscribeAsync('#');
    await other.subscribeAsync('$x/#');
    const askerSeen = recordMessages(asker);
    const otherSeen = recordMessages(other);
    await writeToClient(server, '$x/answer', 'hello');
    expect((await askerSeen.waitFor('$x/answer')).payload).toBe('hello');
    await asker.publishAsync('barrier', '');
    await otherSeen.waitFor('barrier');
    expect(otherSeen.messages.map((message) => message.topic)).toEqual(['barrier']);
    expect(forwarded).toContain('asker $x/answer');
    expect(emitted.filter((topic) => topic === '$x/answer')).toEqual([]);
  });

  it('writeToClient: a message numbered before the answer but arriving after it is still delivered', async () => {
    const bare = await start();
    const serverSide = nextClient(bare);
    const client = await connect(bare.tcpUrl, { clientId: 'late' });
    const server = await serverSide;
    await client.subscribeAsync('late/#', { qos: 0 });
    const seen = recordMessages(client);
    // As mqemitter-redis does: numbered by this broker now, handed to the client later.
    const routed = {
      cmd: 'publish' as const,
      topic: 'late/1',
      payload: Buffer.from('routed'),
      qos: 0 as const,
    };
    const numbered = { ...routed, retain: false, dup: false, brokerId: bare.aedes.id, brokerCounter: 1 };
    await writeToClient(server, '$x/answer', 'first');
    await seen.waitFor('$x/answer');
    // aedes types its emitter as `mq` only on the options; the instance has it (aedes.js)
    (bare.aedes as unknown as { mq: { emit(packet: unknown): void } }).mq.emit(numbered);
    expect((await seen.waitFor('late/1')).payload).toBe('routed');
  });

  it('dropSubscriptions: removed live and from a persistent session, no UNSUBACK sent', async () => {
    const bare = await start();
    const serverSide = nextClient(bare);
    const client = await connect(bare.tcpUrl, { clientId: 'p1', clean: false });
    const server = await serverSide;
    await client.subscribeAsync({ 'keep/+': { qos: 1 }, 'drop/+': { qos: 1 } });
    const packets: string[] = [];
    client.on('packetreceive', (packet) => packets.push(packet.cmd));
    const unsubscribed = new Promise<string[]>((resolve) =>
      bare.aedes.once('unsubscribe', (filters: string[]) => resolve(filters)),
    );
    await dropSubscriptions(server, ['drop/+']);
    expect(await unsubscribed).toEqual(['drop/+']);
    const seen = recordMessages(client);
    const publisher = await connect(bare.tcpUrl, { clientId: 'pub' });
    await publisher.publishAsync('drop/1', 'x', { qos: 1 });
    await publisher.publishAsync('keep/1', 'y', { qos: 1 });
    await seen.waitFor('keep/1');
    expect(seen.messages.map((message) => message.topic)).toEqual(['keep/1']);
    expect(packets).not.toContain('unsuback');
    // aedes types its persistence as any; the memory persistence's own API
    const { persistence } = bare.aedes as unknown as {
      persistence: { subscriptionsByClient(client: { id: string }): Promise<{ topic: string }[]> };
    };
    const stored = await persistence.subscriptionsByClient({ id: 'p1' });
    expect(stored.map((subscription) => subscription.topic)).toEqual(['keep/+']);
  });
});

// Pins the memory cuts of patches/aedes+1.2.0.patch under the broker option `lightweightClients`
// (AEDES_PATCH_OPTIONS, Cashew only; docs/memory-per-connection.md) and checks over real sockets that
// each behaves as upstream aedes does. A source check fails when the patch is not applied or when the
// upstream code it relies on changes; the behaviour checks run with the option, as Cashew does.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as connectTcp, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AedesOptions, Client } from 'aedes';
import { describe, expect, it } from 'vitest';
import { AEDES_PATCH_OPTIONS, AEDES_TUNING } from '../../../broker/aedes/tuning.ts';
import { nextEvent, useBareAedes } from '../../support/bare-aedes.ts';

const modules = fileURLToPath(new URL('../../../node_modules/', import.meta.url));
const source = (file: string): string => readFileSync(join(modules, file), 'utf8');
const lightweight = { ...AEDES_TUNING, ...AEDES_PATCH_OPTIONS } as AedesOptions;

/** The aedes Client fields these cuts change (lib/client.js). */
interface Internals {
  readonly _parser: { readonly settings: Record<string, unknown> };
  readonly duplicates: Record<string, number>;
  readonly _inboundInflight: Set<number> | null;
  readonly _pendingDrains: readonly unknown[];
  readonly conn: Socket;
  waitForDrain(callback: (error: Error | null) => void): void;
}
const internals = (client: Client): Internals => client as unknown as Internals;

describe('lightweightClients: the parser forgets the CONNECT (lib/handlers/connect.js)', () => {
  const { start, connect, nextClient } = useBareAedes();
  const secret = { username: 'JWT', password: 'secret' };

  it('replaces the parser settings in handleConnect; mqtt-packet reads only protocolVersion and bridgeMode', () => {
    expect(source('aedes/lib/handlers/connect.js')).toContain(
      'client._parser.settings = parserSettingsOf(packet)',
    );
    const parser = source('mqtt-packet/parser.js');
    expect(parser).toContain('this.settings = packet');
    const read = new Set([...parser.matchAll(/this\.settings\.(\w+)/g)].map((match) => match[1]));
    expect([...read].sort()).toEqual(['bridgeMode', 'protocolVersion']);
  });

  it('holds no password after CONNECT, and parses the SUBSCRIBE and PUBLISH that follow (MQTT 3.1.1 and 3.1)', async () => {
    const bare = await start(lightweight);
    for (const [protocolVersion, protocolId, clientId] of [
      [4, 'MQTT', 'v311'],
      [3, 'MQIsdp', 'v31'],
    ] as const) {
      const client = nextClient(bare);
      const device = await connect(bare.tcpUrl, { clientId, protocolVersion, protocolId, ...secret });
      const { settings } = internals(await client)._parser;
      expect(settings).toEqual({ protocolVersion, bridgeMode: undefined });
      expect(Object.isFrozen(settings)).toBe(true);
      await device.subscribeAsync(`${clientId}/#`, { qos: 1 });
      const message = nextEvent<[string, Buffer]>(device, 'message');
      await device.publishAsync(`${clientId}/x`, 'hello', { qos: 1 });
      expect((await message)[1].toString()).toBe('hello');
    }
  });

  it('without the option: upstream, the parser keeps the CONNECT', async () => {
    const bare = await start({ ...AEDES_TUNING });
    const client = nextClient(bare);
    await connect(bare.tcpUrl, { clientId: 'upstream', ...secret });
    expect(String(internals(await client)._parser.settings.password)).toBe('secret');
  });
});

describe('lightweightClients: empty tables created on first use (lib/client.js, handlers)', () => {
  const { start, connect, nextClient } = useBareAedes();

  it('patches Client, dedupe, waitForDrain, the QoS 2 receive window and PUBREL', () => {
    const client = source('aedes/lib/client.js');
    expect(client).toContain('this.duplicates = lightweight ? NO_DUPLICATES : Object.create(null)');
    expect(client).toContain('this._inboundInflight = lightweight ? null : new Set()');
    expect(client).toContain('this._pendingDrains = lightweight ? NO_PENDING_DRAINS : []');
    expect(client).toContain(
      'if (duplicates === NO_DUPLICATES) duplicates = client.duplicates = Object.create(null)',
    );
    expect(client).toContain('if (this._pendingDrains === NO_PENDING_DRAINS) this._pendingDrains = []');
    expect(source('aedes/lib/handlers/publish.js')).toContain(
      'const inflight = client._inboundInflight ?? (client._inboundInflight = new Set())',
    );
    expect(source('aedes/lib/handlers/pubrel.js')).toContain(
      'client._inboundInflight?.delete(arg.packet.messageId)',
    );
    // upstream: a peer broker's birth deletes from every client's table (a no-op on the shared empty one)
    expect(source('aedes/aedes.js')).toContain('delete that.clients[clientId].duplicates[brokerId]');
  });

  it('an idle client holds the shared empty ones; delivery, dedupe and a peer broker birth work', async () => {
    const bare = await start(lightweight);
    const first = nextClient(bare);
    const device = await connect(bare.tcpUrl, { clientId: 'idle' });
    const aedesClient = await first;
    const client = internals(aedesClient);
    expect(Object.isFrozen(client.duplicates)).toBe(true);
    expect(client._inboundInflight).toBeNull();
    expect(Object.isFrozen(client._pendingDrains)).toBe(true);
    const second = nextClient(bare);
    await connect(bare.tcpUrl, { clientId: 'idle2' });
    expect(internals(await second).duplicates).toBe(client.duplicates);

    // aedes' emitter (not in its types): a peer broker announcing it (re)started
    const { mq } = bare.aedes as unknown as { mq: { emit(packet: object, done: () => void): void } };
    const birth = (brokerId: string): Promise<void> =>
      new Promise((resolve) => mq.emit({ topic: `$SYS/${brokerId}/birth`, payload: brokerId }, resolve));
    await birth('peer'); // deletes from the shared empty table: no error
    await device.subscribeAsync('idle/#', { qos: 1 });
    const received: string[] = [];
    device.on('message', (_topic, payload) => received.push(payload.toString()));
    const send = (payload: string, brokerCounter: number): Promise<void> =>
      new Promise((resolve) => {
        const packet = { cmd: 'publish', topic: 'idle/x', payload, qos: 1, retain: false, dup: false };
        aedesClient.publish({ ...packet, brokerId: 'peer', brokerCounter } as never, () => resolve());
      });
    await send('one', 1);
    await send('again', 1); // the same broker id and counter: dropped by dedupe
    await send('two', 2);
    await expect.poll(() => received).toEqual(['one', 'two']);
    expect(Object.isFrozen(client.duplicates)).toBe(false);
    expect(client.duplicates.peer).toBe(2);
    await birth('peer'); // a peer broker restarted: its counter starts again
    expect(client.duplicates.peer).toBeUndefined();
  });

  it('QoS 2 from the client: the receive window is created, used and emptied by PUBREL', async () => {
    const bare = await start({ ...lightweight, maxInflightInbound: 1 });
    const first = nextClient(bare);
    const device = await connect(bare.tcpUrl, { clientId: 'qos2' });
    const client = internals(await first);
    await device.subscribeAsync('qos2/#', { qos: 2 });
    const message = nextEvent<[string, Buffer]>(device, 'message');
    await device.publishAsync('qos2/x', 'exactly once', { qos: 2 });
    expect((await message)[1].toString()).toBe('exactly once');
    expect(client._inboundInflight).toBeInstanceOf(Set);
    await expect.poll(() => client._inboundInflight?.size).toBe(0);
  });

  it('a write that waits for drain gets its own queue: drained, or failed when the client closes', async () => {
    const bare = await start({ ...lightweight, drainTimeout: 5000 });
    const first = nextClient(bare);
    await connect(bare.tcpUrl, { clientId: 'drain' });
    const client = internals(await first);
    const drained = new Promise<Error | null>((resolve) => client.waitForDrain(resolve));
    expect(client._pendingDrains).toHaveLength(1);
    client.conn.emit('drain');
    expect(await drained).toBeNull();
    const failed = new Promise<Error | null>((resolve) => client.waitForDrain(resolve));
    (await first).close();
    expect((await failed)?.message).toBe('connection closed');
  });
});

describe('lightweightClients: listeners shared by all clients (lib/client.js)', () => {
  const { start, connect, nextClient } = useBareAedes();

  it('patches the Client constructor; upstream binds per client', () => {
    const client = source('aedes/lib/client.js');
    expect(client).toContain("conn.on('error', emitErrorOnClient)");
    expect(client).toContain("this._parser.on('error', emitErrorOnClient)");
    expect(client).toContain("conn.on('close', closeClient)");
    expect(client).toContain('this._eos = removeCloseListener');
    expect(client).toContain("conn.on('error', this.emit.bind(this, 'error'))");
  });

  it('a malformed packet and a socket error each end their own client with clientError', async () => {
    const bare = await start(lightweight);
    const next = nextClient(bare);
    await connect(bare.tcpUrl, { clientId: 'good' });
    const good = internals(await next);
    const nextBad = nextClient(bare);
    const raw = connectTcp(Number(new URL(bare.tcpUrl).port), '127.0.0.1');
    raw.on('error', () => undefined);
    const connack = new Promise((resolve) => raw.once('data', resolve));
    // CONNECT, MQTT 3.1.1, clean, keepalive 0, client id "bad"
    raw.write(Buffer.from([0x10, 15, 0, 4, 77, 81, 84, 84, 4, 2, 0, 0, 0, 3, 98, 97, 100]));
    await connack;
    const bad = internals(await nextBad);
    expect(bad.conn.listeners('error')).toEqual(good.conn.listeners('error'));
    const closeListeners = bad.conn.listeners('close').length;
    const parserError = nextEvent<[Client, Error]>(bare.aedes, 'clientError');
    raw.write(Buffer.from([0x30, 0x00])); // a PUBLISH without a topic
    const [errored, error] = await parserError;
    expect(errored.id).toBe('bad');
    expect(error.message).toMatch(/topic/i);
    await expect.poll(() => bare.aedes.connectedClients).toBe(1);
    expect(bad.conn.listeners('close')).toHaveLength(closeListeners - 1);
    raw.destroy();

    const socketError = nextEvent<[Client, Error]>(bare.aedes, 'clientError');
    good.conn.emit('error', new Error('socket failed'));
    expect((await socketError)[1].message).toBe('socket failed');
    await expect.poll(() => bare.aedes.connectedClients).toBe(0);
  });
});

describe('lightweightClients: delivery and read functions bound to the client (lib/client.js)', () => {
  const { start, connect } = useBareAedes();

  it('binds shared copies of the constructor closures; the upstream closures they copy are unchanged', () => {
    const client = source('aedes/lib/client.js');
    expect(client).toContain('this._nextBatch = lightweight ? nextBatchOfClient.bind(this) : nextBatch');
    expect(client).toContain('this.deliver0 = deliverQoS0OfClient.bind(this)');
    expect(client).toContain('this.deliverQoS = deliverQoSOfClient.bind(this)');
    expect(client).toContain('setTimeout(emitConnectTimeout, broker.connectTimeout, this)');
    // The upstream closures nextBatch, getToForwardPacket/deliverQoS0/deliverQoS and the connect timer,
    // by digest: when an aedes upgrade changes one, its copy after the class must change with it.
    const digest = (from: string, to: string): string => {
      const start = client.indexOf(from);
      expect(start, from).toBeGreaterThan(-1);
      return createHash('sha256')
        .update(client.slice(start, client.indexOf(to, start)))
        .digest('hex')
        .slice(0, 16);
    };
    expect(
      digest('    function nextBatch (err) {', '    // cashew patch: with lightweightClients, the delivery'),
    ).toBe('5fbccd7dca4adbd1');
    expect(
      digest(
        '    const getToForwardPacket = (_packet) => {',
        '    this._keepaliveTimer = null\n    this._keepaliveInterval = -1\n\n',
      ),
    ).toBe('2f1d233fab68bce8');
    expect(digest('    this._connectTimer = setTimeout(function () {', '  _onError (err) {')).toBe(
      '1094a1e7dcab92b2',
    );
  });

  it('delivers QoS 0, QoS 1 downgraded to the subscription, and QoS 1 to a persistent session', async () => {
    const bare = await start(lightweight);
    const clean = await connect(bare.tcpUrl, { clientId: 'clean' });
    const persistent = await connect(bare.tcpUrl, { clientId: 'persistent', clean: false });
    await clean.subscribeAsync('d/#', { qos: 0 });
    await persistent.subscribeAsync('d/#', { qos: 1 });
    const atClean = nextEvent<[string, Buffer, { qos: number }]>(clean, 'message');
    const atPersistent = nextEvent<[string, Buffer, { qos: number }]>(persistent, 'message');
    await clean.publishAsync('d/one', 'qos1', { qos: 1 });
    const [[, cleanPayload, cleanPacket], [, persistentPayload, persistentPacket]] = await Promise.all([
      atClean,
      atPersistent,
    ]);
    expect([cleanPayload.toString(), cleanPacket.qos]).toEqual(['qos1', 0]);
    expect([persistentPayload.toString(), persistentPacket.qos]).toEqual(['qos1', 1]);
    const again = nextEvent<[string, Buffer]>(persistent, 'message');
    await clean.publishAsync('d/two', 'qos0', { qos: 0 });
    expect((await again)[1].toString()).toBe('qos0');
  });

  it('keepalive: a client silent for 1.5 × its keepalive is closed (keepaliveTimeout)', async () => {
    const bare = await start(lightweight);
    const raw = connectTcp(Number(new URL(bare.tcpUrl).port), '127.0.0.1');
    raw.on('error', () => undefined);
    const connack = new Promise((resolve) => raw.once('data', resolve));
    // CONNECT, MQTT 3.1.1, clean, keepalive 1 s, client id "ka"
    raw.write(Buffer.from([0x10, 14, 0, 4, 77, 81, 84, 84, 4, 2, 0, 1, 0, 2, 107, 97]));
    await connack;
    const connectedAt = Date.now();
    const [timedOut] = await nextEvent<[Client]>(bare.aedes, 'keepaliveTimeout', 5000);
    expect(timedOut.id).toBe('ka');
    expect(Date.now() - connectedAt).toBeGreaterThanOrEqual(1400);
    await expect.poll(() => bare.aedes.connectedClients).toBe(0);
  });

  it('a connection that sends no CONNECT is closed when connectTimeout passes', async () => {
    const bare = await start({ ...lightweight, connectTimeout: 100 });
    const raw = connectTcp(Number(new URL(bare.tcpUrl).port), '127.0.0.1');
    raw.on('error', () => undefined);
    const closed = new Promise((resolve) => raw.once('close', resolve));
    const [, error] = await nextEvent<[Client, Error]>(bare.aedes, 'connectionError');
    expect(error.message).toBe('connect did not arrive in time');
    await closed;
  });
});

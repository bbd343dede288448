// Pins the patch-package patches in patches/ against the installed upstream code: each test fails when
// the patch is not applied (a clean install that skipped postinstall) or when the upstream function
// it changes was rewritten (an aedes upgrade: patch-package then fails to apply, and this says where).
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { AedesOptions, Client } from 'aedes';
import { describe, expect, it } from 'vitest';
import { hasLocalClient } from '../../../broker/aedes/broker-internals.ts';
import { AEDES_PATCH_OPTIONS, AEDES_TUNING } from '../../../broker/aedes/tuning.ts';
import { nextEvent, useBareAedes } from '../../support/bare-aedes.ts';

// aedes' `exports` map hides package.json: the copy this repository installed, found by path.
const aedesRoot = fileURLToPath(new URL('../../../node_modules/aedes/', import.meta.url));

function functionSource(file: string, name: string): string {
  const source = readFileSync(join(aedesRoot, file), 'utf8');
  const start = source.indexOf(`function ${name} (`);
  expect(start, `${file} has no function ${name}`).toBeGreaterThan(-1);
  const end = source.indexOf('\n}\n', start);
  return source.slice(start, end + 2);
}

describe('patches/aedes+1.2.0.patch', () => {
  it('is for the installed aedes version', () => {
    const { version } = JSON.parse(readFileSync(join(aedesRoot, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(version).toBe('1.2.0');
  });

  it('emptyQueue (lib/handlers/connect.js) skips the stream when outgoingQueued says nothing is queued', () => {
    const emptyQueue = functionSource('lib/handlers/connect.js', 'emptyQueue');
    expect(emptyQueue).toContain(
      "if (typeof persistence.outgoingQueued === 'function' && !persistence.outgoingQueued(client)) {",
    );
    // The upstream code the patch sits in front of: a stream piped through a Transform per CONNECT.
    expect(emptyQueue).toContain('const outgoing = persistence.outgoingStream(client)');
    expect(emptyQueue).toMatch(/pipeline\(\s*outgoing,\s*through\(function clearQueue/);
  });

  it('close() (lib/client.js) clears the QoS 2 receive state of admitted clients only', () => {
    const source = readFileSync(join(aedesRoot, 'lib/client.js'), 'utf8');
    expect(source).toContain(
      "if (that.clean && that._authorized && typeof persistence?.cleanIncoming === 'function') {",
    );
    // Where aedes marks a client admitted (the authenticate callback), read by the condition above.
    expect(readFileSync(join(aedesRoot, 'lib/handlers/connect.js'), 'utf8')).toMatch(
      /if \(!err && successful\) \{\s*client\._authorized = true/,
    );
  });
});

// With the broker option `lightweightClients` (AEDES_PATCH_OPTIONS, set by Cashew only), each client
// gets a plain BufferList for its parser and a `close` listener instead of stream.finished().
describe('patches/aedes+1.2.0.patch: lightweightClients (lib/client.js)', () => {
  const { start, connect, nextClient } = useBareAedes();
  const lightweight = { ...AEDES_TUNING, ...AEDES_PATCH_OPTIONS } as AedesOptions;
  /** aedes' private parser buffer (mqtt-packet's Parser#_list). */
  const parserBuffer = (client: Client): object =>
    (client as unknown as { _parser: { _list: object } })._parser._list;

  it('patches the Client constructor and close() the installed aedes still has', () => {
    const source = readFileSync(join(aedesRoot, 'lib/client.js'), 'utf8');
    expect(source).toContain(
      'if (broker.opts.lightweightClients === true) this._parser._list = new BufferList()',
    );
    expect(source).toContain("conn.on('close', closeClient)");
    // Upstream, kept for brokers without the option: stream.finished() and an Error per close.
    expect(source).toContain('this._eos = finished(this.conn, this.close.bind(this))');
    expect(source).toContain("const error = new Error('connection closed')");
  });

  it("buffers with a BufferList, not a stream; upstream aedes (no option) keeps bl's Duplex", async () => {
    const patched = await start(lightweight);
    const client = nextClient(patched);
    await connect(patched.tcpUrl, { clientId: 'light' });
    const list = parserBuffer(await client);
    expect(typeof (list as { append?: unknown }).append).toBe('function');
    expect('pipe' in list).toBe(false);
  });

  it('without the option: the upstream parser buffer, a stream', async () => {
    const upstream = await start({ ...AEDES_TUNING });
    const client = nextClient(upstream);
    await connect(upstream.tcpUrl, { clientId: 'upstream' });
    expect('pipe' in parserBuffer(await client)).toBe(true);
  });

  it('a socket that closes without DISCONNECT or end closes its client (clientDisconnect, nothing held)', async () => {
    const bare = await start(lightweight);
    const mqttClient = await connect(bare.tcpUrl, { clientId: 'reset' });
    const gone = nextEvent(bare.aedes, 'clientDisconnect');
    (mqttClient.stream as Socket).resetAndDestroy(); // RST: 'close' without 'end'
    await gone;
    expect(bare.aedes.connectedClients).toBe(0);
    expect(hasLocalClient(bare.aedes, 'reset')).toBe(false);
  });

  it('a stream already destroyed when aedes handles it is closed on the next tick', async () => {
    const bare = await start(lightweight);
    const stream = new PassThrough();
    stream.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    const client = bare.aedes.handle(stream);
    await new Promise((resolve) => setImmediate(resolve));
    expect(client.closed).toBe(true);
  });
});

// Pins the memory cuts of patches/aedes+1.2.0.patch under the broker option `lightweightClients`
// (AEDES_PATCH_OPTIONS, Cashew only; docs/memory-per-connection.md) and checks over real sockets that
// each behaves as upstream aedes does. A source check fails when the patch is not applied or when the
// upstream code it relies on changes; the behaviour checks run with the option, as Cashew does.
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
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

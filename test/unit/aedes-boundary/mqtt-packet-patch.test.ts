// Pins patches/mqtt-packet+9.0.2.patch against the installed mqtt-packet: every `debug(...)` call of the
// parser and of writeToStream is guarded by `debug.enabled`, so that with debugging off (always, in
// production) a packet no longer pays a call, a rest-argument array and the arguments' evaluation per
// call site (docs/performance.md, "Patches"). Fails when the patch is not applied (a clean install
// that skipped postinstall) or when an mqtt-packet upgrade rewrote the files it changes.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const packageRoot = fileURLToPath(new URL('../../../node_modules/mqtt-packet/', import.meta.url));

interface Debug {
  enable(namespaces: string): void;
  disable(): string;
  log: (...args: unknown[]) => void;
}
interface MqttPacket {
  parser(): { parse(buffer: Buffer): number; on(event: 'packet', listener: (packet: unknown) => void): void };
  generate(packet: object): Buffer;
  writeToStream(packet: object, stream: { write(chunk: Buffer | string): boolean }): boolean;
}
// The copies mqtt-packet itself loads (the same `debug` instance is what enable() switches).
const mqttPacket = require(packageRoot) as MqttPacket;
const debug = require(require.resolve('debug', { paths: [packageRoot] })) as Debug;

/** The lines of `file` that call `debug(`, and how many of them are guarded. */
function debugCalls(file: string): { calls: number; guarded: number } {
  const lines = readFileSync(join(packageRoot, file), 'utf8').split('\n');
  const calls = lines.filter((line) => /\bdebug\(/.test(line));
  return {
    calls: calls.length,
    guarded: calls.filter((line) => /^\s*debug\.enabled && debug\(/.test(line)).length,
  };
}

/** One PUBLISH parsed and one written, with what `debug` printed meanwhile. */
function roundTrip(): string[] {
  const printed: string[] = [];
  const log = debug.log;
  debug.log = (...args: unknown[]) => printed.push(String(args[0]));
  try {
    const packet = {
      cmd: 'publish',
      topic: 'u1/t',
      payload: Buffer.from('x'),
      qos: 0,
      retain: false,
      dup: false,
    };
    const parser = mqttPacket.parser();
    const parsed: unknown[] = [];
    parser.on('packet', (received) => parsed.push(received));
    parser.parse(mqttPacket.generate(packet));
    expect(parsed).toHaveLength(1);
    const written: Buffer[] = [];
    mqttPacket.writeToStream(packet, { write: (chunk) => written.push(Buffer.from(chunk)) > 0 });
    expect(Buffer.concat(written)).toEqual(mqttPacket.generate(packet));
  } finally {
    debug.log = log;
  }
  return printed;
}

describe('patches/mqtt-packet+9.0.2.patch', () => {
  afterEach(() => debug.disable());

  it('is for the installed mqtt-packet version', () => {
    const { version } = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(version).toBe('9.0.2');
  });

  it('guards every debug call of parser.js and writeToStream.js', () => {
    // Upstream 9.0.2 has 46 and 12 of them, none guarded.
    expect(debugCalls('parser.js')).toEqual({ calls: 46, guarded: 46 });
    expect(debugCalls('writeToStream.js')).toEqual({ calls: 12, guarded: 12 });
  });

  it('prints nothing with debugging off, and still prints when it is switched on at run time', () => {
    expect(roundTrip()).toEqual([]);
    debug.enable('mqtt-packet:*');
    const printed = roundTrip();
    expect(printed.some((line) => line.includes('mqtt-packet:parser') && line.includes('parse:'))).toBe(true);
    expect(
      printed.some((line) => line.includes('mqtt-packet:writeToStream') && line.includes('publish:')),
    ).toBe(true);
  });
});

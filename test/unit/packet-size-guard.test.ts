// The packet-size guard's scan against a plain reading of the MQTT fixed header, over random packet
// streams cut into random chunks: the same packet refused with the same declared size, or none; a
// fifth Remaining Length byte stops the guard without a refusal (mqtt-packet refuses it). The guard
// over real sockets: test/integration/limits-packet-size.test.ts.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { fixedHeader } from '../support/mqtt-bytes.ts';
import { guardPacketSize, markAuthenticated, type Oversize } from '../../broker/net/packet-size-guard.ts';

const BEFORE = 300;
const AFTER = 70_000;

/** A deterministic generator (mulberry32), so that a failure can be replayed from its seed. */
function randomFrom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Packets whose bodies mostly fit `limit`; a few declare more (up to 268 MB, bodies not sent). */
function packetStream(random: () => number, limit: number): { bytes: Buffer; firstOversize?: number } {
  const parts: Buffer[] = [];
  let firstOversize: number | undefined;
  const count = 1 + Math.floor(random() * 40);
  for (let index = 0; index < count && firstOversize === undefined; index++) {
    const roll = random();
    const length =
      roll < 0.6
        ? Math.floor(random() * 200)
        : roll < 0.9
          ? Math.floor(random() * limit)
          : roll < 0.95
            ? limit - 2 + Math.floor(random() * 4)
            : Math.floor(random() * 268_435_455);
    const header = fixedHeader(3, length);
    const declared = header.length + length;
    if (declared > limit) {
      firstOversize = declared;
      parts.push(header);
    } else parts.push(header, Buffer.alloc(length, index & 0xff));
  }
  return { bytes: Buffer.concat(parts), ...(firstOversize !== undefined && { firstOversize }) };
}

/** Feeds `bytes` to a guarded stream in chunks cut at random; the refusals the guard reported. */
async function feed(bytes: Buffer, random: () => number, authenticated: boolean): Promise<Oversize[]> {
  const stream = new PassThrough();
  const refusals: Oversize[] = [];
  guardPacketSize(stream, { beforeAuthentication: BEFORE, afterAuthentication: AFTER }, (oversize) =>
    refusals.push(oversize),
  );
  if (authenticated) markAuthenticated(stream);
  for (let at = 0; at < bytes.length && !stream.destroyed;) {
    const size = 1 + Math.floor(random() * (random() < 0.5 ? 8 : 4096));
    stream.write(bytes.subarray(at, at + size));
    at += size;
    await new Promise((resolve) => setImmediate(resolve));
  }
  stream.destroy();
  return refusals;
}

describe('the packet-size guard', () => {
  it.each([
    ['before authentication', false, BEFORE],
    ['after authentication', true, AFTER],
  ] as const)(
    'refuses the first packet declared over the limit %s, and only it (2,000 random streams)',
    async (_when, authenticated, limit) => {
      let refused = 0;
      for (let seed = 1; seed <= 1000; seed++) {
        const random = randomFrom(seed);
        const { bytes, firstOversize } = packetStream(random, limit);
        const refusals = await feed(bytes, random, authenticated);
        const expected =
          firstOversize === undefined
            ? []
            : [{ declared: firstOversize, limit, authenticated, address: undefined }];
        expect(refusals, `seed ${seed}`).toEqual(expected);
        if (firstOversize !== undefined) refused++;
      }
      // both outcomes were exercised
      expect(refused).toBeGreaterThan(20);
      expect(refused).toBeLessThan(980);
    },
  );

  it('stops at a fifth Remaining Length byte without a refusal, whatever the chunking', async () => {
    const malformed = Buffer.from([0x30, 0x80, 0x80, 0x80, 0x80, 0x01, ...Buffer.alloc(50)]);
    for (let seed = 1; seed <= 50; seed++) {
      const small = Buffer.from([0x30, 0x03, 1, 2, 3]);
      expect(await feed(Buffer.concat([small, malformed, small]), randomFrom(seed), false)).toEqual([]);
    }
  });

  it('counts a packet exactly at the limit as within it, one byte more as over', async () => {
    const body = BEFORE - 3; // 1 type byte + 2 length bytes
    const exact = Buffer.concat([fixedHeader(3, body), Buffer.alloc(body)]);
    expect(await feed(exact, randomFrom(7), false)).toEqual([]);
    const over = Buffer.concat([fixedHeader(3, body + 1), Buffer.alloc(body + 1)]);
    expect(await feed(over, randomFrom(7), false)).toMatchObject([{ declared: BEFORE + 1 }]);
  });
});

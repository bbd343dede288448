// The per-message cost of the limits (broker/aedes/client-limits.ts), measured directly: what the
// adapter runs per PUBLISH received (topic bounds, publish-rate bucket) and per delivery (the slow-
// consumer backlog check), N calls each, ns per call, median of rounds. Compare with the broker CPU
// per message of `npm run bench` (tens of µs): docs/performance.md quotes both.
//
//   node --import tsx bench/limits-overhead.ts
import type { Client } from 'aedes';
import { ClientLimits } from '../broker/aedes/client-limits.ts';
import { resolveLimits } from '../broker/limits/limits.ts';

const CALLS = 5_000_000;
const ROUNDS = 5;
const limits = resolveLimits({ PUBLISH_RATE: '10000000', PUBLISH_BURST: '10000000' });
const checks = new ClientLimits({
  topics: limits.topics,
  maxSubscriptionsPerConnection: limits.maxSubscriptionsPerConnection,
  maxFiltersPerSubscribe: limits.maxFiltersPerSubscribe,
  publishRate: limits.publishRate,
  maxOutgoingBuffer: limits.maxOutgoingBuffer,
});
const client = { id: '68946/phone', conn: { writableLength: 0 } } as unknown as Client;
const topic = '68946/contacts/updated';

function nsPer(call: () => unknown): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i += 1) call();
  return Number(process.hrtime.bigint() - started) / CALLS;
}

const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const rounds = { empty: [] as number[], publish: [] as number[], forward: [] as number[] };
let sink = 0;
for (let round = 0; round < ROUNDS; round += 1) {
  rounds.empty.push(nsPer(() => (sink += 1)));
  rounds.publish.push(
    nsPer(() => {
      sink += checks.topic(topic) === undefined ? 1 : 0;
      sink += checks.publication(client, 'user') === undefined ? 1 : 0;
    }),
  );
  rounds.forward.push(nsPer(() => (sink += checks.backlog(client) === undefined ? 1 : 0)));
}
const empty = median(rounds.empty);
const publish = median(rounds.publish) - empty;
const forward = median(rounds.forward) - empty;
process.stdout.write(
  `per PUBLISH received (topic bounds + publish rate): ${publish.toFixed(1)} ns\n` +
    `per delivery (backlog check): ${forward.toFixed(1)} ns\n` +
    `per message delivered once (publish + delivery): ${(publish + forward).toFixed(1)} ns (${sink > 0 ? 'checked' : ''})\n`,
);

// The per-message cost of the metrics around the adapter's hooks (broker/metrics/traffic.ts), measured
// directly: the same hook called N times bare and metered, ns per call. Compare with the broker CPU
// per message of `npm run bench` (tens of µs): docs/operations.md quotes both.
import type { AedesPublishPacket, Client, PublishPacket } from 'aedes';
import type { AedesHooks } from '../broker/aedes/adapter.ts';
import { Traffic } from '../broker/metrics/traffic.ts';

const CALLS = 5_000_000;
const ROUNDS = 5;
const payload = Buffer.alloc(64);
const packet = {
  cmd: 'publish',
  topic: '68946/ping',
  payload,
  qos: 0,
  retain: false,
  dup: false,
} as PublishPacket;
const user = { id: '68946/phone' } as Client;

const bare: AedesHooks = {
  preConnect: (_client, _packet, done) => done(null, true),
  authenticate: (_client, _username, _password, done) => done(null, true),
  authorizeSubscribe: (_client, subscription, done) => done(null, subscription),
  authorizePublish: (_client, _packet, done) => done(null),
  authorizeForward: (_client, forwarded: AedesPublishPacket) => forwarded,
};
const metered = new Traffic(() => {}).metered(bare);
const noop = (): void => {};

function nsPerCall(hooks: AedesHooks): { publish: number; forward: number } {
  let started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i += 1) hooks.authorizePublish(user, packet, noop);
  const publish = Number(process.hrtime.bigint() - started) / CALLS;
  started = process.hrtime.bigint();
  for (let i = 0; i < CALLS; i += 1) hooks.authorizeForward(user, packet as AedesPublishPacket);
  const forward = Number(process.hrtime.bigint() - started) / CALLS;
  return { publish, forward };
}

const median = (values: number[]): number => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const results = {
  bare: { publish: [] as number[], forward: [] as number[] },
  metered: { publish: [] as number[], forward: [] as number[] },
};
for (let round = 0; round < ROUNDS; round += 1) {
  for (const [name, hooks] of [
    ['bare', bare],
    ['metered', metered],
  ] as const) {
    const { publish, forward } = nsPerCall(hooks);
    results[name].publish.push(publish);
    results[name].forward.push(forward);
  }
}
const added = {
  publish: median(results.metered.publish) - median(results.bare.publish),
  forward: median(results.metered.forward) - median(results.bare.forward),
};
process.stdout.write(
  `authorizePublish: bare ${median(results.bare.publish).toFixed(1)} ns, metered ${median(results.metered.publish).toFixed(1)} ns (+${added.publish.toFixed(1)} ns)\n` +
    `authorizeForward: bare ${median(results.bare.forward).toFixed(1)} ns, metered ${median(results.metered.forward).toFixed(1)} ns (+${added.forward.toFixed(1)} ns)\n` +
    `per delivered message (one publish in, one delivery out): +${(added.publish + added.forward).toFixed(1)} ns\n`,
);

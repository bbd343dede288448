// Scenario 1 load: open a connection, CONNECT with a token, wait for CONNACK, DISCONNECT; `concurrency`
// connections in flight. The brokers take turns in chunks of `chunk` connects, so that a noisy
// neighbour affects them alike. Records connects/s (time in its own chunks), CONNACK latency, codes.
import { connectMqtt, type Endpoint } from '../lib/mqtt-wire.ts';
import { percentile } from '../lib/stats.ts';
import { runWorker, withConcurrency, sleep } from '../lib/workers.ts';

export interface ConnectStormParams {
  readonly targets: readonly { readonly name: string; readonly endpoint: Endpoint }[];
  readonly clients: readonly { readonly clientId: string; readonly token: string }[];
  readonly concurrency: number;
  readonly chunk: number;
  /** Connects per broker before the measurement (JIT warm-up), not counted. */
  readonly warmup: number;
  readonly localAddresses: readonly string[];
}

export interface ConnectStormResult {
  readonly attempts: number;
  readonly accepted: number;
  readonly refused: number;
  readonly failed: number;
  readonly elapsedMs: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

interface Tally {
  accepted: number;
  refused: number;
  failed: number;
  elapsedMs: number;
  readonly latencies: number[];
}

runWorker<ConnectStormParams, Record<string, ConnectStormResult>>(async (params, channel) => {
  const { targets, clients, concurrency, chunk, localAddresses } = params;
  const tallies = new Map<string, Tally>(
    targets.map((target) => [
      target.name,
      { accepted: 0, refused: 0, failed: 0, elapsedMs: 0, latencies: [] },
    ]),
  );
  async function storm(
    offset: number,
    batch: typeof clients,
    target: (typeof targets)[number],
    tally: Tally,
  ) {
    const started = performance.now();
    await withConcurrency(batch.length, concurrency, async (index) => {
      const client = batch[index];
      if (client === undefined) return;
      const localAddress = localAddresses[(offset + index) % localAddresses.length];
      const begin = performance.now();
      try {
        const { connection, returnCode } = await connectMqtt(
          { ...target.endpoint, ...(localAddress !== undefined && { localAddress }) },
          { clientId: client.clientId, password: client.token },
        );
        tally.latencies.push(performance.now() - begin);
        if (returnCode === 0) tally.accepted++;
        else tally.refused++;
        connection.close();
      } catch {
        tally.latencies.push(performance.now() - begin);
        tally.failed++;
      }
    });
    tally.elapsedMs += performance.now() - started;
  }
  for (const target of targets) {
    const discard: Tally = { accepted: 0, refused: 0, failed: 0, elapsedMs: 0, latencies: [] };
    await storm(0, clients.slice(0, params.warmup), target, discard);
  }
  await sleep(300);
  channel.mark('start');
  for (let offset = 0; offset < clients.length; offset += chunk) {
    const batch = clients.slice(offset, offset + chunk);
    for (const target of targets) await storm(offset, batch, target, tallies.get(target.name) as Tally);
  }
  // Let the brokers finish the disconnects that belong to this storm before the CPU reading.
  await sleep(300);
  channel.mark('end');
  const results: Record<string, ConnectStormResult> = {};
  for (const [name, tally] of tallies) {
    results[name] = {
      attempts: clients.length,
      accepted: tally.accepted,
      refused: tally.refused,
      failed: tally.failed,
      elapsedMs: tally.elapsedMs,
      p50Ms: percentile(tally.latencies, 50),
      p99Ms: percentile(tally.latencies, 99),
    };
  }
  return results;
});

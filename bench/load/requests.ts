// Scenario 6 load: a device on the client SDK sends `request('ping')` at fixed rates (open loop) to a
// `ping` handler process (the handler runtime) and records the round-trip times.
import { connect } from '../../client-sdk/index.ts';
import { LatencyRecorder, percentile } from '../lib/stats.ts';
import { runWorker, sleep } from '../lib/workers.ts';

export interface RequestsParams {
  readonly url: string;
  readonly token: string;
  readonly rates: readonly number[];
  readonly durationMs: number;
  readonly warmup: number;
}

export interface RateResult {
  readonly rate: number;
  readonly sent: number;
  readonly answered: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

runWorker<RequestsParams, RateResult[]>(async (params, channel) => {
  const device = await connect({ url: params.url, token: params.token, requestTimeoutMs: 10_000 });
  try {
    for (let i = 0; i < params.warmup; i++) await device.request('ping', i);
    const results: RateResult[] = [];
    for (const rate of params.rates) {
      const latencies = new LatencyRecorder();
      let sent = 0;
      let answered = 0;
      const pending: Promise<unknown>[] = [];
      channel.mark(`${rate}-start`);
      const started = performance.now();
      while (performance.now() - started < params.durationMs) {
        const due = Math.floor(((performance.now() - started) / 1000) * rate);
        while (sent < due) {
          const begin = performance.now();
          sent++;
          pending.push(
            device.request('ping', sent).then(
              () => {
                answered++;
                latencies.record(performance.now() - begin);
              },
              () => undefined,
            ),
          );
        }
        await sleep(1);
      }
      await Promise.all(pending);
      channel.mark(`${rate}-end`);
      results.push({
        rate,
        sent,
        answered,
        p50Ms: percentile(latencies.samples, 50),
        p99Ms: percentile(latencies.samples, 99),
      });
    }
    return results;
  } finally {
    await device.close();
  }
});

// Profiling aid (bench/profile.ts, not part of the table): raw Aedes plus only Cashew's adapter hooks
// (token verification, identity, policy), without the rest of startBroker (TLS/WSS/HTTP listeners,
// persistence wrapper, logging to stdout). Separates the cost of the hooks from the rest.
import { createServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { createLogger, resolveOptions, type Settings } from '../../broker/index.ts';
import { AEDES_TUNING } from '../../broker/aedes/tuning.ts';
import { CANDIDATES, candidateTokenVerifier, type Candidate } from '../lib/token-candidates.ts';
import { createAdapter } from '../../broker/aedes/adapter.ts';
import { HandlerPools } from '../../broker/pools/handler-pools.ts';
import { ConnectGate } from '../../broker/limits/connect-gate.ts';
import { PartitionedRetainedStore } from '../../broker/aedes/persistence/retained-store.ts';
import { serveBenchControl } from './control.ts';

const settings = JSON.parse(process.env.CASHEW_BENCH_SETTINGS ?? '{}') as Settings;
const options = resolveOptions(settings);
// bench/tokens.ts picks the verification entry point (today's code, a library); default: Cashew's own
const candidate = (process.env.CASHEW_BENCH_VERIFIER ?? 'cashew') as Candidate;
if (!CANDIDATES.includes(candidate)) throw new Error(`CASHEW_BENCH_VERIFIER: unknown ${candidate}`);
const verifier = await candidateTokenVerifier(candidate, options.token);
const adapter = createAdapter({
  verifier,
  logger: createLogger(options.logLevel),
  pools: new HandlerPools(),
  gate: new ConnectGate(options.limits.connect),
  maxOutgoingBuffer: options.limits.maxOutgoingBuffer,
  topics: options.limits.topics,
  maxSubscriptionsPerConnection: options.limits.maxSubscriptionsPerConnection,
  maxFiltersPerSubscribe: options.limits.maxFiltersPerSubscribe,
  publishRate: options.limits.publishRate,
  // The retained limits' reservations only: aedes keeps its own persistence here.
  retained: new PartitionedRetainedStore(options.limits.retained),
  tokenRefreshIntervalMs: options.limits.tokenRefreshIntervalMs,
});
const aedes = await Aedes.createBroker({ ...AEDES_TUNING, ...adapter.hooks });
adapter.attach(aedes);
const tcp = createServer((socket) => aedes.handle(socket));
await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
serveBenchControl(
  { mqtt: (tcp.address() as AddressInfo).port },
  () =>
    new Promise<void>((resolve) => {
      tcp.close();
      aedes.close(() => resolve());
    }),
);

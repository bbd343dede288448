// The Prometheus registry of one broker (prom-client): every series carries `node`. Gauges are read
// from their sources at scrape time; counters on the hot path are plain numbers in traffic.ts; the
// rest are counted where they happen. docs/operations.md lists each metric and its meaning.
import type { Aedes } from 'aedes';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { subscribedFilters } from '../aedes/client-internals.ts';
import { observeRefusals, type Refusal } from '../log/audit.ts';
import type { Logger } from '../log/logger.ts';
import type { HandlerPools } from '../pools/handler-pools.ts';
import type { LiveClients } from '../bans/live-clients.ts';
import type { Ban } from '../bans/ban.ts';
import { processMetrics } from './process-metrics.ts';
import { Traffic } from './traffic.ts';
import { registerExternalMetrics, type ExternalMetrics } from './external.ts';

export interface MetricsSources {
  readonly aedes: Aedes;
  readonly live: LiveClients;
  readonly pools: HandlerPools;
  readonly bans: () => readonly Ban[];
  /** Retained messages stored (the in-memory index, or the Redis hash's length). */
  readonly retainedMessages: () => Promise<number | undefined>;
}

/** Handler latencies: 1 ms to 10 s. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Refusals that drop a message rather than a connection or a subscription. */
function droppedReason(refusal: Refusal): string | undefined {
  if (refusal.action === 'publish' || refusal.action === 'forward' || refusal.action === 'will')
    return 'not_authorized';
  if (refusal.code === 'ERR_PUBLISH_RATE') return 'publish_rate';
  if (
    refusal.code === 'ERR_TOPIC_TOO_LONG' &&
    refusal.topic !== undefined &&
    refusal.returnCode === undefined
  )
    return 'topic_too_long';
  return undefined;
}

export class BrokerMetrics {
  readonly registry = new Registry();
  readonly traffic: Traffic;
  readonly external: ExternalMetrics;
  #node = '';

  /** Counts refusals (and the external events) from now on; `attach` adds the rest once aedes runs. */
  constructor(logger: Logger) {
    const registry = this.registry;
    const refusals = new Counter({
      name: 'cashew_refusals_total',
      help: 'Refusals (every audited refusal, before the log lines are rate-limited), by action and code',
      labelNames: ['action', 'code'],
      registers: [registry],
    });
    const limitHits = new Counter({
      name: 'cashew_limit_hits_total',
      help: 'Limits hit, by error code',
      labelNames: ['code'],
      registers: [registry],
    });
    const dropped = new Counter({
      name: 'cashew_messages_dropped_total',
      help: 'Messages dropped, by reason',
      labelNames: ['reason'],
      registers: [registry],
    });
    observeRefusals(logger, (refusal) => {
      refusals.inc({ action: refusal.action, code: refusal.code });
      if (refusal.action === 'limit') limitHits.inc({ code: refusal.code });
      const reason = droppedReason(refusal);
      if (reason !== undefined) dropped.inc({ reason });
    });
    this.external = registerExternalMetrics(registry, logger, dropped);
    const latency = new Histogram({
      name: 'cashew_handler_command_duration_seconds',
      help: 'From a command delivered to a handler until its publish to the same user (reply or event)',
      labelNames: ['handler'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.traffic = new Traffic((handler, seconds) => latency.observe({ handler }, seconds));
  }

  /** The series read from a running broker, labelled with its node id. */
  attach(node: string, sources: MetricsSources): void {
    const registry = this.registry;
    this.#node = node;
    registry.setDefaultLabels({ node });
    const { aedes, live, pools } = sources;

    new Gauge({
      name: 'cashew_connections',
      help: 'Connected clients, by role and transport',
      labelNames: ['role', 'transport'],
      registers: [registry],
      collect() {
        this.reset();
        for (const client of live.all())
          this.inc({ role: client.identity.role, transport: client.transport });
      },
    });
    const connects = new Counter({
      name: 'cashew_connects_total',
      help: 'Connections accepted (CONNACK 0), by role and transport',
      labelNames: ['role', 'transport'],
      registers: [registry],
    });
    aedes.on('client', (client) => {
      const entry = live.get(client);
      if (entry !== undefined) connects.inc({ role: entry.identity.role, transport: entry.transport });
    });
    const traffic = this.traffic;
    traffic.attach(aedes);
    const totals: [string, string, () => number][] = [
      ['cashew_messages_received_total', 'PUBLISH packets received from clients', () => traffic.messagesIn],
      ['cashew_messages_sent_total', 'Messages delivered to clients', () => traffic.messagesOut],
      ['cashew_received_bytes_total', 'Payload bytes received from clients', () => traffic.bytesIn],
      ['cashew_sent_bytes_total', 'Payload bytes delivered to clients', () => traffic.bytesOut],
    ];
    for (const [name, help, read] of totals) {
      new Counter({
        name,
        help,
        registers: [registry],
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    }

    new Gauge({
      name: 'cashew_subscriptions',
      help: 'Live subscriptions of connected clients',
      registers: [registry],
      collect() {
        let count = 0;
        for (const { client } of live.all()) count += subscribedFilters(client).length;
        this.set(count);
      },
    });
    new Gauge({
      name: 'cashew_retained_messages',
      help: 'Retained messages stored (all nodes share them with Redis)',
      registers: [registry],
      async collect() {
        const count = await sources.retainedMessages().catch(() => undefined);
        if (count !== undefined) this.set(count);
      },
    });
    new Gauge({
      name: 'cashew_handler_pool_members',
      help: 'Handler connections on this node, by handler name',
      labelNames: ['handler'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { identity } of live.all())
          if (identity.role === 'handler') this.inc({ handler: identity.name });
      },
    });
    new Gauge({
      name: 'cashew_handler_pending_commands',
      help: 'Commands delivered to handlers and not acknowledged yet, by handler name',
      labelNames: ['handler'],
      registers: [registry],
      collect() {
        this.reset();
        for (const { client, identity } of live.all())
          if (identity.role === 'handler') this.inc({ handler: identity.name }, pools.inFlight(client));
      },
    });
    new Gauge({
      name: 'cashew_bans',
      help: 'Bans and revocations in force, by kind',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        this.reset();
        for (const ban of sources.bans()) this.inc({ kind: ban.kind });
      },
    });
  }

  /** This broker's series, then the process' (process-metrics.ts). */
  async metrics(): Promise<string> {
    const [own, process] = await Promise.all([this.registry.metrics(), processMetrics(this.#node).metrics()]);
    return `${own}\n${process}`;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

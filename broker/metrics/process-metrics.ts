// prom-client's default process metrics (CPU, memory, file descriptors, GC, event-loop lag), under
// their standard names so stock dashboards work. Collected once per process, not per broker: the
// event-loop monitor they start cannot be stopped, and a process is one node in production. Labelled
// with the node of the first broker that asks.
import { collectDefaultMetrics, Registry } from 'prom-client';

/** Gauges named `_total`, which `promtool check metrics` rejects; nodejs_active_* hold the same counts. */
const LINT_FAILURES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

let registry: Registry | undefined;

export function processMetrics(node: string): Registry {
  if (registry !== undefined) return registry;
  registry = new Registry();
  registry.setDefaultLabels({ node });
  collectDefaultMetrics({ register: registry });
  for (const name of LINT_FAILURES) registry.removeSingleMetric(name);
  return registry;
}

// Reconnect delays: exponential with full jitter, capped, reset after a successful connection.

export interface BackoffOptions {
  /** The first delay, in ms (default 250). */
  readonly initialMs?: number;
  /** The longest delay, in ms (default 10 000). */
  readonly maxMs?: number;
}

export const DEFAULT_BACKOFF = { initialMs: 250, maxMs: 10_000 } as const;

/** The delay before reconnect attempt `attempt` (0-based): random in [ceiling/2, ceiling]. */
export function reconnectDelay(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? DEFAULT_BACKOFF.initialMs;
  const max = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

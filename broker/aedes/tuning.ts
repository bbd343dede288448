// Aedes settings Cashew changes from the defaults, and why (docs/operations.md).
import type { AedesOptions } from 'aedes';

export const AEDES_TUNING = {
  /** Client ids carry the identity (`$handler/<name>/<suffix>`), longer than MQTT 3.1's 23. */
  maxClientsIdLength: 256,
  /** Wait at most 10 s for a CONNECT after the socket opens. */
  connectTimeout: 10_000,
  /**
   * No broker-wide message queue. With aedes' default (100) a slow subscriber saturates the emitter,
   * messages pile up in its unbounded queue, and when that subscriber leaves every queued message
   * matches nobody: mqemitter then completes them synchronously, one inside the other, and overflows
   * the stack (RangeError) — the process dies. With 0, each publisher waits for its own deliveries
   * (backpressure on its socket), memory stays bounded, and there is no queue to unwind.
   */
  concurrency: 0,
  /** A subscriber that stops reading holds its publishers back at most this long, then is disconnected. */
  drainTimeout: 10_000,
} as const satisfies AedesOptions;

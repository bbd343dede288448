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

/**
 * Read only by Cashew's patch of aedes (patches/aedes+1.2.0.patch; docs/performance.md, "Patches"),
 * ignored by upstream aedes: `lightweightClients` gives each client plain `close` listeners instead of
 * `stream.finished()`, a non-stream BufferList for its parser, listeners and delivery functions shared
 * or bound instead of per-client closures, empty tables created on first use, and a parser that does
 * not keep the CONNECT (docs/memory-per-connection.md). Kept out of AEDES_TUNING, which the bench's
 * raw Aedes baseline shares and which must stay upstream behaviour.
 */
export const AEDES_PATCH_OPTIONS: { readonly lightweightClients: true } = { lightweightClients: true };

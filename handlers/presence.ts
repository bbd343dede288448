// Presence in the handler runtime: a handler whose token grants `presence` observes users coming
// online (first device) and going offline (last device gone, grace period over), through its
// definition's `presence` function or `running.observePresence(fn)`. The runtime subscribes to
// `$cashew/presence/+` while anyone observes; each handler connection receives every event (a pool's
// members each keep their own view). A handler may relay an event to a user (`relay`), which the
// user's SDK reads with observePresence.
import type { Logger } from 'pino';
import { decodePresence, PRESENCE_EVENT, type PresenceEvent } from '../protocol/index.ts';

export interface PresenceContext {
  /** The process logger, bound to the user the event is about. */
  readonly log: Logger;
  /** Publishes `<userId>/<event>` like a command's `emit` (the token must grant the event). */
  readonly emit: (userId: string, event: string, data?: unknown) => Promise<void>;
  /** Sends this event to `toUserId` as `<toUserId>/presence` (the token must grant the `presence` event). */
  readonly relay: (toUserId: string) => Promise<void>;
}

export type PresenceFunction = (event: PresenceEvent, context: PresenceContext) => unknown;

export type PresenceListener = (event: PresenceEvent) => unknown;

type Emit = PresenceContext['emit'];

/** The observers of one handler connection; a listener that throws is logged, the others still run. */
export class PresenceObservers {
  readonly #listeners = new Set<PresenceFunction>();
  readonly #logger: Logger;
  readonly #emit: Emit;

  constructor(logger: Logger, emit: Emit) {
    this.#logger = logger;
    this.#emit = emit;
  }

  get size(): number {
    return this.#listeners.size;
  }

  /** Adds a listener; the function returned removes it. */
  add(listener: PresenceFunction): () => void {
    const own: PresenceFunction = (event, context) => listener(event, context);
    this.#listeners.add(own);
    return () => this.#listeners.delete(own);
  }

  /** Hands a presence message to every listener; resolves once each has settled. */
  async dispatch(payload: Uint8Array): Promise<void> {
    const event = decodePresence(Buffer.from(payload));
    if (event === undefined) {
      this.#logger.warn('presence message that is not a presence event ignored');
      return;
    }
    const log = this.#logger.child({ presence: event.userId });
    const context: PresenceContext = {
      log,
      emit: this.#emit,
      relay: (toUserId) => this.#emit(toUserId, PRESENCE_EVENT, event),
    };
    await Promise.all(
      [...this.#listeners].map(async (listener) => {
        try {
          await listener(event, context);
        } catch (error) {
          log.warn(
            { err: error instanceof Error ? error.message : String(error) },
            'presence listener failed',
          );
        }
      }),
    );
  }
}

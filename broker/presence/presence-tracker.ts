// Presence for handlers: follows each user device admitted and released (a client-lifecycle
// observer), asks the store whether that changes the user's presence, waits out the grace period
// after a user's last device has gone, and publishes the events on `$cashew/presence/<userId>`
// through aedes (on Redis, that reaches every node; policy.ts lets only presence-granted handlers
// receive them). Grace timers are per user with no device left, freed when they fire or on close.
import type { Aedes, Client } from 'aedes';
import { encodePresence, presenceTopic, type PresenceEvent } from '../../protocol/index.ts';
import type { ClientObserver } from '../aedes/client-lifecycle.ts';
import type { Identity } from '../auth/identity.ts';
import type { Logger } from '../log/logger.ts';
import type { PresenceStore } from './presence-store.ts';

export interface PresenceTrackerOptions {
  readonly store: PresenceStore;
  /** PRESENCE_GRACE_MS. */
  readonly graceMs: number;
  readonly logger: Logger;
  /**
   * Who may be listening. `anywhere` (the default; Redis: handlers on other nodes): every event is
   * published. `granted-here` (one process): only handlers granted presence may subscribe to it
   * (policy.ts), and each connects here first; until one has, no subscription to presence can exist
   * and events are decided but not published (a QoS 1 publish through aedes per user connect), and a
   * user's last disconnect is settled at once instead of after the grace period.
   */
  readonly listeners?: 'anywhere' | 'granted-here';
}

type Publisher = Pick<Aedes, 'publish'>;

export class PresenceTracker implements ClientObserver {
  readonly #store: PresenceStore;
  readonly #graceMs: number;
  readonly #logger: Logger;
  /** One grace timer per user whose last device went here. */
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #publisher: Publisher | undefined;
  /** Whether a subscription to presence may exist (see PresenceTrackerOptions.listeners). */
  #heard: boolean;
  #closed = false;

  constructor(options: PresenceTrackerOptions) {
    this.#store = options.store;
    this.#graceMs = options.graceMs;
    this.#logger = options.logger;
    this.#heard = options.listeners !== 'granted-here';
  }

  /** Starts publishing through `aedes` (and the store's own work, e.g. the cluster heartbeat). */
  async attach(aedes: Publisher): Promise<void> {
    this.#publisher = aedes;
    await this.#store.start((events) => {
      for (const event of events) this.#publish(event);
    });
  }

  admitted(_client: Client, identity: Identity): void {
    if (identity.role === 'handler' && identity.presence === true) this.#heard = true;
    if (identity.role !== 'user' || this.#closed) return;
    const { userId } = identity;
    this.#cancel(userId);
    this.#run(this.#store.connected(userId), (event) => {
      if (event !== undefined) this.#publish(event);
    });
  }

  released(_client: Client, identity: Identity): void {
    if (identity.role !== 'user' || this.#closed) return;
    const { userId } = identity;
    this.#run(this.#store.disconnected(userId), (at) => {
      if (at === undefined || this.#closed) return;
      // Nobody can hear the offline event yet: no grace to wait out (no timer per disconnect in a storm).
      if (this.#heard) this.#schedule(userId, at);
      else this.#run(this.#store.settle(userId, at), () => undefined);
    });
  }

  /** Grace timers running (a bound check for tests). */
  get pending(): number {
    return this.#timers.size;
  }

  /** Stops: no more events from this node (on Redis the other nodes settle what it left pending). */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await this.#store.close();
    this.#publisher = undefined;
  }

  #schedule(userId: string, at: number): void {
    this.#cancel(userId);
    const timer = setTimeout(() => {
      this.#timers.delete(userId);
      this.#run(this.#store.settle(userId, at), (event) => {
        if (event !== undefined) this.#publish(event);
      });
    }, this.#graceMs);
    timer.unref();
    this.#timers.set(userId, timer);
  }

  #cancel(userId: string): void {
    const timer = this.#timers.get(userId);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(userId);
  }

  #run<T>(work: Promise<T>, then: (value: T) => void): void {
    work.then(then, (error: unknown) => {
      if (!this.#closed)
        this.#logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'presence not updated',
        );
    });
  }

  #publish(event: PresenceEvent): void {
    const publisher = this.#publisher;
    if (publisher === undefined || !this.#heard) return;
    this.#logger.debug({ presence: event }, event.online ? 'user online' : 'user offline');
    publisher.publish(
      {
        cmd: 'publish',
        topic: presenceTopic(event.userId),
        payload: Buffer.from(encodePresence(event)),
        qos: 1,
        retain: false,
        dup: false,
      },
      (error?: Error) => {
        if (error)
          this.#logger.warn({ err: error.message, userId: event.userId }, 'presence event not published');
      },
    );
  }
}

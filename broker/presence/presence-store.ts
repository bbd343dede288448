// Where presence is decided: how many devices each user has connected (on this node, or in the whole
// cluster), which users were announced online, and which went to zero devices and wait out the grace
// period. The tracker (presence-tracker.ts) calls it; the one process store is here, the cluster's in
// redis-presence-store.ts. Every map is bounded by the users online or in their grace period.
import type { PresenceEvent } from '../../protocol/index.ts';

export interface PresenceStore {
  /**
   * A device of `userId` connected; the online event when it is the user's first device and the user
   * was not announced online already (a reconnect within the grace period emits nothing).
   */
  connected(userId: string): Promise<PresenceEvent | undefined>;
  /** A device of `userId` went; when it was the user's last one, when (`at`) — settle it after the grace. */
  disconnected(userId: string): Promise<number | undefined>;
  /** The grace period of the disconnect at `at` is over: the offline event, unless a device came back. */
  settle(userId: string, at: number): Promise<PresenceEvent | undefined>;
  /** Starts what runs by itself (the cluster heartbeat); events decided there go to `announce`. */
  start(announce: (events: readonly PresenceEvent[]) => void): Promise<void>;
  close(): Promise<void>;
}

/** One process: the counts are the node's own. */
export class MemoryPresenceStore implements PresenceStore {
  readonly #devices = new Map<string, number>();
  readonly #announced = new Set<string>();
  /** Users with no device left, by the time the last one went. */
  readonly #pending = new Map<string, number>();

  connected(userId: string): Promise<PresenceEvent | undefined> {
    const devices = (this.#devices.get(userId) ?? 0) + 1;
    this.#devices.set(userId, devices);
    this.#pending.delete(userId);
    if (this.#announced.has(userId)) return Promise.resolve(undefined);
    this.#announced.add(userId);
    return Promise.resolve({ userId, online: true, devices, at: Date.now() });
  }

  disconnected(userId: string): Promise<number | undefined> {
    const devices = (this.#devices.get(userId) ?? 0) - 1;
    if (devices > 0) {
      this.#devices.set(userId, devices);
      return Promise.resolve(undefined);
    }
    this.#devices.delete(userId);
    const at = Date.now();
    this.#pending.set(userId, at);
    return Promise.resolve(at);
  }

  settle(userId: string, at: number): Promise<PresenceEvent | undefined> {
    if (this.#pending.get(userId) !== at) return Promise.resolve(undefined);
    this.#pending.delete(userId);
    if (!this.#announced.delete(userId)) return Promise.resolve(undefined);
    return Promise.resolve({ userId, online: false, devices: 0, at });
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#devices.clear();
    this.#announced.clear();
    this.#pending.clear();
    return Promise.resolve();
  }

  /** Entries held (a bound check for tests). */
  get size(): number {
    return this.#devices.size + this.#announced.size + this.#pending.size;
  }
}

// One coarse timer for every token expiry instead of one Node timer per client. Expiries are bucketed
// into slots of `resolutionMs` (1 s by default): scheduling is a Map and a Set insert, and a single
// unref'd setTimeout is armed for the earliest slot. A key is never due early and at most one slot
// late — immaterial next to JWT clock tolerance (30 s by default). Re-arming (an in-band token
// refresh) is `reschedule`, undoing (a disconnect) is `cancel`.

/** The longest a single timer may run in Node (about 24.8 days); a later slot re-arms on the way. */
const MAX_TIMER_MS = 2 ** 31 - 1;
export const DEFAULT_EXPIRY_RESOLUTION_MS = 1000;

export class ExpiryWheel<K> {
  readonly #onDue: (key: K) => void;
  readonly #resolutionMs: number;
  /** slot (end time ÷ resolution) → keys due at its end. */
  readonly #slots = new Map<number, Set<K>>();
  readonly #slotOf = new Map<K, number>();
  #timer: NodeJS.Timeout | undefined;
  /** The slot the timer is armed for. */
  #armedSlot = Number.POSITIVE_INFINITY;

  constructor(onDue: (key: K) => void, resolutionMs = DEFAULT_EXPIRY_RESOLUTION_MS) {
    this.#onDue = onDue;
    this.#resolutionMs = resolutionMs;
  }

  /** Keys scheduled and neither due nor cancelled yet. */
  get size(): number {
    return this.#slotOf.size;
  }

  has(key: K): boolean {
    return this.#slotOf.has(key);
  }

  /** Calls `onDue(key)` once `at` (ms since the epoch) has passed; replaces an earlier schedule. */
  schedule(key: K, at: number): void {
    this.cancel(key);
    const slot = Math.max(Math.ceil(at / this.#resolutionMs), 0);
    let keys = this.#slots.get(slot);
    if (keys === undefined) {
      keys = new Set();
      this.#slots.set(slot, keys);
    }
    keys.add(key);
    this.#slotOf.set(key, slot);
    if (slot < this.#armedSlot) this.#arm(slot);
  }

  /** The same as `schedule`: named for a token refresh that moves the expiry. */
  reschedule(key: K, at: number): void {
    this.schedule(key, at);
  }

  /** Forgets the key; true when it was scheduled. */
  cancel(key: K): boolean {
    const slot = this.#slotOf.get(key);
    if (slot === undefined) return false;
    this.#slotOf.delete(key);
    const keys = this.#slots.get(slot);
    keys?.delete(key);
    if (keys?.size === 0) this.#slots.delete(slot);
    if (this.#slotOf.size === 0) this.#disarm();
    return true;
  }

  #arm(slot: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#armedSlot = slot;
    const delay = Math.min(Math.max(slot * this.#resolutionMs - Date.now(), 0), MAX_TIMER_MS);
    this.#timer = setTimeout(() => this.#tick(), delay);
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedSlot = Number.POSITIVE_INFINITY;
  }

  #tick(): void {
    this.#timer = undefined;
    this.#armedSlot = Number.POSITIVE_INFINITY;
    const now = Date.now();
    const due: K[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [slot, keys] of this.#slots) {
      if (slot * this.#resolutionMs <= now) {
        for (const key of keys) {
          due.push(key);
          this.#slotOf.delete(key);
        }
        this.#slots.delete(slot);
      } else if (slot < next) next = slot;
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
    // After the wheel is consistent: a callback may schedule or cancel (a key another callback
    // rescheduled meanwhile is not due any more).
    for (const key of due) if (!this.#slotOf.has(key)) this.#onDue(key);
  }
}

// A QoS 1 message the broker re-sends after a reconnect (its PUBACK was lost) carries `dup` and the
// same message id. The broker allocates ids in sequence, so a window of recent ids recognises a
// re-send without mistaking a new message for an old one.
export const DEDUPE_WINDOW = 1_024;

export class EventDedupe {
  readonly #seen = new Set<number>();
  readonly #order: number[] = [];

  /** Whether this delivery is new (and records it). */
  accept(messageId: number | undefined, dup: boolean): boolean {
    if (messageId === undefined) return true;
    if (dup && this.#seen.has(messageId)) return false;
    if (!dup && this.#seen.has(messageId)) {
      // A fresh message reusing an id: the old one was acknowledged long ago.
      this.#order.splice(this.#order.indexOf(messageId), 1);
    }
    this.#seen.add(messageId);
    this.#order.push(messageId);
    if (this.#order.length > DEDUPE_WINDOW) this.#seen.delete(this.#order.shift() ?? -1);
    return true;
  }
}

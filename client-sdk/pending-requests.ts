// Requests waiting for their reply, by correlation id. A reply settles its request once; a second
// reply for the same id (a re-dispatched command answered twice) or one for an unknown id is ignored.
import { CashewError, HandlerError, type ReplyEnvelope } from '../protocol/index.ts';

interface Pending {
  resolve(data: unknown): void;
  reject(error: CashewError): void;
  timer: ReturnType<typeof setTimeout>;
}

export class PendingRequests {
  readonly #pending = new Map<string, Pending>();
  readonly #prefix = Math.random().toString(36).slice(2, 10);
  #counter = 0;

  /** A correlation id unique to this client: a random prefix and a counter. */
  nextId(): string {
    this.#counter += 1;
    return `${this.#prefix}-${this.#counter}`;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** Waits for the reply to `id`, rejecting with ERR_TIMEOUT after `timeoutMs`. */
  wait(id: string, command: string, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new CashewError('ERR_TIMEOUT', `no reply to ${command} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
    });
  }

  /** Settles the request a reply belongs to; false when none waits for it (late or duplicate). */
  settle(reply: ReplyEnvelope): boolean {
    const pending = this.#pending.get(reply.id);
    if (pending === undefined) return false;
    this.#pending.delete(reply.id);
    clearTimeout(pending.timer);
    if (reply.ok) pending.resolve(reply.data);
    else pending.reject(new HandlerError(reply.error.code, reply.error.message));
    return true;
  }

  fail(id: string, error: CashewError): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    pending.reject(error);
  }

  failAll(error: CashewError): void {
    for (const id of [...this.#pending.keys()]) this.fail(id, error);
  }
}

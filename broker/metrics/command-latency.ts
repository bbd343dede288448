// Handler command latency as the broker sees it: from a command delivered to a handler connection
// until that connection's next publish into the same user's partition (its reply or event). A
// command a handler never answers is forgotten when newer ones push it out (at most
// MAX_PENDING_PER_HANDLER per connection) or when the connection closes.
import type { Client } from 'aedes';
import { HANDLER_CLIENT_ID_PREFIX } from '../../protocol/index.ts';

export const MAX_PENDING_PER_HANDLER = 256;

interface Pending {
  readonly userId: string;
  readonly at: number;
}

/** A handler's client id starts with `$handler/`; a user's never starts with `$` (hot path: one char first). */
export function isHandlerClientId(clientId: string): boolean {
  return clientId.charCodeAt(0) === 36 /* $ */ && clientId.startsWith(HANDLER_CLIENT_ID_PREFIX);
}

/** `$handler/<name>` or `$handler/<name>/<suffix>` → `<name>`. */
export function handlerNameOf(clientId: string): string {
  const rest = clientId.slice(HANDLER_CLIENT_ID_PREFIX.length);
  const slash = rest.indexOf('/');
  return slash === -1 ? rest : rest.slice(0, slash);
}

function userOf(topic: string): string {
  const slash = topic.indexOf('/');
  return slash === -1 ? topic : topic.slice(0, slash);
}

export class CommandLatency {
  readonly #pending = new Map<Client, Pending[]>();
  readonly #observe: (handler: string, seconds: number) => void;

  constructor(observe: (handler: string, seconds: number) => void) {
    this.#observe = observe;
  }

  /** Whether any command waits for its answer (a cheap check before the per-publish work). */
  get waiting(): boolean {
    return this.#pending.size > 0;
  }

  delivered(client: Client, topic: string, now: number): void {
    let pending = this.#pending.get(client);
    if (pending === undefined) this.#pending.set(client, (pending = []));
    if (pending.length >= MAX_PENDING_PER_HANDLER) pending.shift();
    pending.push({ userId: userOf(topic), at: now });
  }

  published(client: Client, topic: string, now: number): void {
    const pending = this.#pending.get(client);
    if (pending === undefined) return;
    const userId = userOf(topic);
    const index = pending.findIndex((entry) => entry.userId === userId);
    if (index === -1) return;
    const [entry] = pending.splice(index, 1);
    if (pending.length === 0) this.#pending.delete(client);
    if (entry !== undefined) this.#observe(handlerNameOf(client.id), (now - entry.at) / 1000);
  }

  forget(client: Client): void {
    this.#pending.delete(client);
  }
}

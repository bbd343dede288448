// Handler pools: every process of one handler name shares the load, each command delivered to one
// of them. Aedes 1.x has no `$share`; the choice is made in the forward path, per message.
import type { AedesPublishPacket, Client } from 'aedes';

/** The subscriptions aedes keeps on a client (not part of its published types). */
function subscribes(client: Client, filter: string): boolean {
  const subscriptions = (client as unknown as { subscriptions: Record<string, unknown> }).subscriptions;
  return subscriptions[filter] !== undefined;
}

export class HandlerPools {
  readonly #members = new Map<string, Client[]>();

  join(name: string, client: Client): void {
    const members = this.#members.get(name);
    if (members === undefined) this.#members.set(name, [client]);
    else if (!members.includes(client)) members.push(client);
  }

  leave(name: string, client: Client): void {
    const members = this.#members.get(name);
    if (members === undefined) return;
    const rest = members.filter((member) => member !== client);
    if (rest.length === 0) this.#members.delete(name);
    else this.#members.set(name, rest);
  }

  size(name: string): number {
    return this.#members.get(name)?.length ?? 0;
  }

  /**
   * Whether `client` is the member of pool `name` that serves this message. Among the members
   * subscribed to the message's command filter, the one at `brokerCounter mod count` is chosen, so
   * every member's check for the same message agrees, and consecutive messages rotate.
   */
  isChosen(name: string, client: Client, packet: AedesPublishPacket, filter: string): boolean {
    const members = this.#members.get(name);
    if (members === undefined || members.length < 2) return true;
    const candidates = members.filter((member) => !member.closed && subscribes(member, filter));
    if (candidates.length < 2) return true;
    return candidates[packet.brokerCounter % candidates.length] === client;
  }
}

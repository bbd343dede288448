// Handler pools: every process of one handler name shares the load, each command delivered to one
// of them. Aedes 1.x has no `$share`; the choice is made in the forward path, per message.
//
// A QoS 1 command is "in flight" on the member chosen for it until that member acknowledges it
// (PUBACK); the handler runtime acknowledges only after the command is processed. When a member
// disconnects (crash, SIGKILL, network), its in-flight commands are re-dispatched to another member
// of the pool, or held for a while when none is left. docs/handlers.md states the guarantee.
import type { AedesPublishPacket, Client } from 'aedes';
import { deliverUnder, onClientAcknowledgement, subscriptionQos } from '../aedes/client-internals.ts';
import type { Logger } from '../log/logger.ts';

/** The brokerId of re-dispatched packets: its own dedupe counter space in aedes. */
const REDISPATCH_BROKER_ID = 'cashew-pool-redispatch';
const MAX_MESSAGE_ID = 65_535;

export const DEFAULT_ORPHAN_TTL_MS = 30_000;
export const DEFAULT_MAX_ORPHANS = 10_000;
const ORPHAN_RETRY_MS = 200;

/** Cross-node coordination of pools (broker/pools/pool-coordinator.ts); absent on a single node. */
export interface PoolCoordinator {
  /** Whether a member on this node serves the message; false when a member on another node does. */
  servesHere(name: string, packet: AedesPublishPacket): boolean;
  /** Called when the number of this node's members of pool `name` changes. */
  sizeChanged(name: string, size: number): void;
}

export interface HandlerPoolsOptions {
  readonly logger?: Logger;
  readonly coordinator?: PoolCoordinator;
  /** How long the in-flight commands of a pool whose last member left wait for a new member. */
  readonly orphanTtlMs?: number;
  /** The most commands held for pools with no member at all; beyond, the oldest are dropped. */
  readonly maxOrphans?: number;
}

interface Command {
  readonly packet: AedesPublishPacket;
  readonly filter: string;
}

interface Member {
  readonly name: string;
  readonly client: Client;
  readonly inFlight: Map<number, Command>;
  nextMessageId: number;
}

interface Orphan extends Command {
  readonly name: string;
  readonly since: number;
}

function keyOf(packet: AedesPublishPacket): string {
  return `${packet.brokerId}:${packet.brokerCounter}`;
}

export class HandlerPools {
  readonly #pools = new Map<string, Member[]>();
  readonly #members = new Map<Client, Member>();
  /** Re-dispatched packets, by brokerId:brokerCounter, and the member they are meant for. */
  readonly #assigned = new Map<string, Client>();
  /** The members' checks of one message happen in one tick; a microtask settles the round. */
  readonly #rounds = new Map<string, { chosen: Member; claimed: boolean; fallback?: Member } & Command>();
  #orphans: Orphan[] = [];
  #orphanTimer: NodeJS.Timeout | undefined;
  #redispatchCounter = 0;
  readonly #logger: Logger | undefined;
  readonly #coordinator: PoolCoordinator | undefined;
  readonly #orphanTtlMs: number;
  readonly #maxOrphans: number;

  constructor(options: HandlerPoolsOptions = {}) {
    this.#logger = options.logger;
    this.#coordinator = options.coordinator;
    this.#orphanTtlMs = options.orphanTtlMs ?? DEFAULT_ORPHAN_TTL_MS;
    this.#maxOrphans = options.maxOrphans ?? DEFAULT_MAX_ORPHANS;
  }

  join(name: string, client: Client): void {
    if (this.#members.has(client)) return;
    const member: Member = { name, client, inFlight: new Map(), nextMessageId: 1 };
    this.#members.set(client, member);
    this.#pools.set(name, [...(this.#pools.get(name) ?? []), member]);
    this.#coordinator?.sizeChanged(name, this.size(name));
    onClientAcknowledgement(client, (messageId) => member.inFlight.delete(messageId));
  }

  /** Removes a member; the commands it had not acknowledged go to another member. */
  leave(name: string, client: Client): void {
    const member = this.#members.get(client);
    if (member === undefined) return;
    this.#members.delete(client);
    const rest = (this.#pools.get(name) ?? []).filter((other) => other !== member);
    if (rest.length === 0) this.#pools.delete(name);
    else this.#pools.set(name, rest);
    this.#coordinator?.sizeChanged(name, rest.length);
    const pending = [...member.inFlight.values()];
    member.inFlight.clear();
    if (pending.length === 0) return;
    let redispatched = 0;
    for (const command of pending) {
      if (this.#redispatch(name, command)) redispatched += 1;
      else this.#hold(name, command);
    }
    this.#logger?.warn(
      { handler: name, clientId: client.id, unacknowledged: pending.length, redispatched },
      'handler left with unacknowledged commands; re-dispatched to the pool',
    );
  }

  size(name: string): number {
    return this.#pools.get(name)?.length ?? 0;
  }

  /** Members of all pools together (for metrics and tests). */
  memberCount(): number {
    return this.#members.size;
  }

  /** Commands delivered to a member and not acknowledged yet (for metrics and tests). */
  inFlight(client: Client): number {
    return this.#members.get(client)?.inFlight.size ?? 0;
  }

  /**
   * The forward decision for a handler: the packet to deliver to `client` (with the message id the
   * pool tracks its PUBACK by) or null when another member of pool `name` serves it. Among the live
   * members subscribed to `filter`, the one at `brokerCounter mod count` is chosen, so every member's
   * check for the same message agrees, and consecutive messages rotate.
   */
  route(name: string, client: Client, packet: AedesPublishPacket, filter: string): AedesPublishPacket | null {
    const member = this.#members.get(client);
    if (member === undefined) return packet;
    const key = keyOf(packet);
    const assignee = this.#assigned.get(key);
    if (assignee !== undefined) {
      if (assignee !== client) return null;
      this.#assigned.delete(key);
      return this.#track(member, { packet, filter });
    }
    if (this.#coordinator?.servesHere(name, packet) === false) return null;
    const roundKey = `${name}|${key}`;
    let round = this.#rounds.get(roundKey);
    if (round === undefined) {
      const candidates = this.#candidates(name, filter);
      const chosen = candidates[packet.brokerCounter % Math.max(candidates.length, 1)] ?? member;
      round = { chosen, claimed: false, packet, filter };
      this.#rounds.set(roundKey, round);
      queueMicrotask(() => this.#settle(roundKey));
    }
    if (round.chosen === member) {
      round.claimed = true;
      return this.#track(member, { packet, filter });
    }
    if (!client.closed) round.fallback ??= member;
    return null;
  }

  /** A chosen member that aedes did not offer the message to (it was unsubscribing): give it to another. */
  #settle(roundKey: string): void {
    const round = this.#rounds.get(roundKey);
    this.#rounds.delete(roundKey);
    if (round === undefined || round.claimed) return;
    if (round.fallback !== undefined) this.#deliver(round.fallback, round);
    else if (!this.#redispatch(round.chosen.name, round)) this.#hold(round.chosen.name, round);
  }

  #candidates(name: string, filter: string): Member[] {
    return (this.#pools.get(name) ?? []).filter(
      (member) => !member.client.closed && subscriptionQos(member.client, filter) !== undefined,
    );
  }

  #track(member: Member, command: Command): AedesPublishPacket {
    const qos = Math.min(command.packet.qos, subscriptionQos(member.client, command.filter) ?? 0);
    if (qos === 0 || member.inFlight.size >= MAX_MESSAGE_ID) return command.packet;
    let messageId = member.nextMessageId;
    while (member.inFlight.has(messageId)) messageId = (messageId % MAX_MESSAGE_ID) + 1;
    member.nextMessageId = (messageId % MAX_MESSAGE_ID) + 1;
    member.inFlight.set(messageId, command);
    return { ...command.packet, messageId };
  }

  #redispatch(name: string, command: Command): boolean {
    const candidates = this.#candidates(name, command.filter);
    const target = candidates[this.#redispatchCounter % Math.max(candidates.length, 1)];
    if (target === undefined) return false;
    this.#deliver(target, command);
    return true;
  }

  /** Delivers straight to one member, under a fresh dedupe counter so aedes does not drop it. */
  #deliver(target: Member, command: Command): void {
    this.#redispatchCounter += 1;
    const key = { brokerId: REDISPATCH_BROKER_ID, brokerCounter: this.#redispatchCounter };
    this.#assigned.set(`${key.brokerId}:${key.brokerCounter}`, target.client);
    deliverUnder(target.client, command.packet, key, (error) => {
      if (error !== undefined && error !== null)
        this.#logger?.warn({ handler: target.name, err: error.message }, 're-dispatch failed');
    });
  }

  #hold(name: string, command: Command): void {
    this.#orphans.push({ ...command, name, since: Date.now() });
    const dropped = this.#orphans.length - this.#maxOrphans;
    if (dropped > 0) {
      this.#orphans.splice(0, dropped);
      this.#logger?.error({ handler: name, dropped }, 'too many commands waiting for a handler; dropped');
    }
    this.#orphanTimer ??= setInterval(() => this.#retryOrphans(), ORPHAN_RETRY_MS).unref();
  }

  #retryOrphans(): void {
    const now = Date.now();
    const waiting: Orphan[] = [];
    let expired = 0;
    for (const orphan of this.#orphans) {
      if (now - orphan.since > this.#orphanTtlMs) expired += 1;
      else if (!this.#redispatch(orphan.name, orphan)) waiting.push(orphan);
    }
    this.#orphans = waiting;
    if (expired > 0)
      this.#logger?.error({ expired }, 'commands found no handler within the orphan timeout; dropped');
    if (waiting.length === 0) {
      clearInterval(this.#orphanTimer);
      this.#orphanTimer = undefined;
    }
  }

  /** Stops the orphan timer (broker close). */
  close(): void {
    clearInterval(this.#orphanTimer);
    this.#orphanTimer = undefined;
    this.#orphans = [];
  }
}

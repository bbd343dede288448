// Handler pools across nodes: each command is served by one member of its pool in the whole
// cluster. Every node sees every command (Redis pub/sub); each node knows how many members of each
// pool every node has (a small state message on the shared emitter, on change and every heartbeat),
// and all nodes make the same choice from the same data: a hash of the message's
// `brokerId:brokerCounter` picks a member slot, weighted by member count, and only the node owning
// that slot forwards it, to the member its local pool chooses (broker/pools/handler-pools.ts).
// docs/scaling.md states the guarantee and the windows where the views of two nodes differ.
import type { Aedes, AedesPublishPacket, PublishPacket } from 'aedes';
import type { PoolCoordinator } from './handler-pools.ts';
import type { Logger } from '../log/logger.ts';
import { nodeIdOf } from '../cluster/node-id.ts';

const noop = (): void => {};
const STATE_TOPIC_SUFFIX = '/cashew/pools';
const STATE_FILTER = `$SYS/+${STATE_TOPIC_SUFFIX}`;
const BIRTH_FILTER = '$SYS/+/birth';
/** A node whose state was not refreshed for this many heartbeats is taken as gone. */
export const POOL_STATE_TTL_HEARTBEATS = 3;

interface NodeState {
  readonly pools: ReadonlyMap<string, number>;
  readonly seenAt: number;
}

/** The shared emitter, reached through aedes' own API (its `mq` is not typed). */
type Bus = Pick<Aedes, 'subscribe' | 'unsubscribe' | 'publish'>;
type BusListener = (packet: AedesPublishPacket, done: () => void) => void;

/** 32-bit FNV-1a: the same on every node, spreads consecutive counters. */
export function messageHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** The node that serves a message, among `[node, members]` pairs (pure, unit-testable). */
export function chooseNode(
  sizes: ReadonlyArray<readonly [string, number]>,
  messageKey: string,
): string | undefined {
  const sorted = sizes.filter(([, size]) => size > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const total = sorted.reduce((sum, [, size]) => sum + size, 0);
  if (total === 0) return undefined;
  let slot = messageHash(messageKey) % total;
  for (const [node, size] of sorted) {
    if (slot < size) return node;
    slot -= size;
  }
  return undefined;
}

function poolsOf(payload: unknown): Map<string, number> | undefined {
  const text = Buffer.isBuffer(payload)
    ? payload.toString('utf8')
    : typeof payload === 'string'
      ? payload
      : '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const pools = new Map<string, number>();
  for (const [name, size] of Object.entries(parsed)) {
    if (Number.isInteger(size) && (size as number) > 0) pools.set(name, size as number);
  }
  return pools;
}

export class ClusterPoolCoordinator implements PoolCoordinator {
  readonly #brokerId: string;
  readonly #heartbeatMs: number;
  readonly #logger: Logger;
  readonly #local = new Map<string, number>();
  readonly #remote = new Map<string, NodeState>();
  #bus: Bus | undefined;
  #timer: NodeJS.Timeout | undefined;
  #publishScheduled = false;
  readonly #onState: BusListener = (packet, done) => {
    const brokerId = packet.topic.split('/')[1] ?? '';
    const pools = poolsOf(packet.payload);
    if (brokerId !== this.#brokerId && pools !== undefined) {
      const before = this.#remote.get(brokerId)?.pools ?? new Map<string, number>();
      if (pools.size === 0) this.#remote.delete(brokerId);
      else this.#remote.set(brokerId, { pools, seenAt: Date.now() });
      const changed =
        before.size !== pools.size || [...pools].some(([name, size]) => before.get(name) !== size);
      if (changed)
        this.#logger.info(
          { peer: brokerId, peerNode: nodeIdOf(brokerId), pools: Object.fromEntries(pools) },
          'handler pools on another node',
        );
    }
    done();
  };
  readonly #onBirth: BusListener = (_packet, done) => {
    this.#schedulePublish();
    done();
  };

  constructor(brokerId: string, heartbeatMs: number, logger: Logger) {
    this.#brokerId = brokerId;
    this.#heartbeatMs = heartbeatMs;
    this.#logger = logger;
  }

  /** Starts exchanging pool sizes over the cluster's emitter (aedes' `mq`, on Redis). */
  attach(bus: Bus): void {
    this.#bus = bus;
    bus.subscribe(STATE_FILTER, this.#onState, noop);
    bus.subscribe(BIRTH_FILTER, this.#onBirth, noop);
    this.#timer = setInterval(() => {
      if (this.#local.size > 0) this.#publish();
    }, this.#heartbeatMs);
    this.#timer.unref();
    this.#publish();
  }

  sizeChanged(name: string, size: number): void {
    if (size > 0) this.#local.set(name, size);
    else this.#local.delete(name);
    this.#schedulePublish();
  }

  servesHere(name: string, packet: AedesPublishPacket): boolean {
    const here = this.#local.get(name) ?? 0;
    if (here === 0) return true;
    const oldest = Date.now() - POOL_STATE_TTL_HEARTBEATS * this.#heartbeatMs;
    const sizes: Array<readonly [string, number]> = [[this.#brokerId, here]];
    for (const [brokerId, state] of this.#remote) {
      if (state.seenAt < oldest) this.#remote.delete(brokerId);
      else sizes.push([brokerId, state.pools.get(name) ?? 0]);
    }
    if (sizes.length === 1) return true;
    return chooseNode(sizes, `${packet.brokerId}:${packet.brokerCounter}`) === this.#brokerId;
  }

  /** The nodes with members of pool `name`, and how many (for logs, metrics and tests). */
  view(name: string): Record<string, number> {
    const view: Record<string, number> = {};
    const here = this.#local.get(name);
    if (here !== undefined) view[this.#brokerId] = here;
    for (const [brokerId, state] of this.#remote) {
      const size = state.pools.get(name);
      if (size !== undefined) view[brokerId] = size;
    }
    return view;
  }

  /** Tells the other nodes this one has no members left, and stops. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    const bus = this.#bus;
    if (bus === undefined) return;
    this.#local.clear();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 1000);
      bus.publish(this.#statePacket(), () => {
        clearTimeout(timer);
        resolve();
      });
    });
    bus.unsubscribe(STATE_FILTER, this.#onState, noop);
    bus.unsubscribe(BIRTH_FILTER, this.#onBirth, noop);
    this.#bus = undefined;
  }

  #statePacket(): PublishPacket {
    return {
      cmd: 'publish',
      qos: 0,
      retain: false,
      dup: false,
      topic: `$SYS/${this.#brokerId}${STATE_TOPIC_SUFFIX}`,
      payload: Buffer.from(JSON.stringify(Object.fromEntries(this.#local))),
    };
  }

  #schedulePublish(): void {
    if (this.#publishScheduled) return;
    this.#publishScheduled = true;
    setImmediate(() => {
      this.#publishScheduled = false;
      this.#publish();
    });
  }

  #publish(): void {
    this.#bus?.publish(this.#statePacket(), (error?: Error) => {
      if (error) this.#logger.warn({ err: error.message }, 'handler pool state not published');
    });
  }
}

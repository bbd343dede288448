// Bans, unbans and kicks reach every node through the broker's own emitter: in memory the
// in-process one (one node), with Redis mqemitter-redis' pub/sub, so an operator's action on any
// node applies on all within a round trip. The topic is a `$SYS` one: no client may publish or
// subscribe to `$` topics (broker/policy/policy.ts), so only brokers speak on it.
import type { Aedes, AedesPublishPacket } from 'aedes';
import { isRecord } from '../../protocol/index.ts';
import type { Ban } from './ban.ts';
import { banFrom } from './ban-store.ts';

export const ADMIN_TOPIC = '$SYS/cashew/admin';

export interface KickTarget {
  readonly clientId?: string;
  readonly userId?: string;
}

export type AdminMessage =
  | { readonly op: 'ban'; readonly ban: Ban }
  | { readonly op: 'unban'; readonly keys: readonly string[] }
  | { readonly op: 'kick'; readonly target: KickTarget };

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A message read off the wire, or undefined when it is not one. */
export function adminMessageFrom(value: unknown): AdminMessage | undefined {
  if (!isRecord(value)) return undefined;
  switch (value.op) {
    case 'ban': {
      const ban = banFrom(value.ban);
      return ban === undefined ? undefined : { op: 'ban', ban };
    }
    case 'unban':
      return Array.isArray(value.keys) && value.keys.every((key) => typeof key === 'string')
        ? { op: 'unban', keys: value.keys }
        : undefined;
    case 'kick': {
      if (!isRecord(value.target)) return undefined;
      const clientId = stringOrUndefined(value.target.clientId);
      const userId = stringOrUndefined(value.target.userId);
      if (clientId === undefined && userId === undefined) return undefined;
      return {
        op: 'kick',
        target: { ...(clientId !== undefined && { clientId }), ...(userId !== undefined && { userId }) },
      };
    }
    default:
      return undefined;
  }
}

export class AdminBus {
  readonly #aedes: Aedes;

  /** Listens for the other nodes' messages; this node's own are applied by the caller directly. */
  constructor(aedes: Aedes, onMessage: (message: AdminMessage) => void) {
    this.#aedes = aedes;
    aedes.subscribe(
      ADMIN_TOPIC,
      (packet: AedesPublishPacket, done: () => void) => {
        const { origin, message } = parse(packet.payload);
        if (origin !== aedes.id && message !== undefined) onMessage(message);
        done();
      },
      () => {},
    );
  }

  publish(message: AdminMessage): Promise<void> {
    const payload = Buffer.from(JSON.stringify({ origin: this.#aedes.id, message }));
    return new Promise((resolve, reject) =>
      this.#aedes.publish(
        { cmd: 'publish', topic: ADMIN_TOPIC, payload, qos: 0, retain: false, dup: false },
        (error?: Error | null) => (error ? reject(error) : resolve()),
      ),
    );
  }
}

function parse(payload: Buffer | string): { origin?: unknown; message?: AdminMessage } {
  try {
    const value = JSON.parse(payload.toString()) as unknown;
    if (!isRecord(value)) return {};
    return { origin: value.origin, message: adminMessageFrom(value.message) };
  } catch {
    return {};
  }
}

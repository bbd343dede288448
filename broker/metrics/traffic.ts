// Message and byte counts on the hot path, kept as plain numbers (read by the registry at scrape
// time), and the handler command latency. Wraps the adapter's hooks so the adapter stays about
// authorization only; the cost per message is a call and a few additions (docs/operations.md).
import type { Aedes, AedesPublishPacket, Client } from 'aedes';
import type { AedesHooks } from '../aedes/adapter.ts';
import { CommandLatency, isHandlerClientId } from './command-latency.ts';

export class Traffic {
  messagesIn = 0;
  bytesIn = 0;
  messagesOut = 0;
  bytesOut = 0;
  readonly latency: CommandLatency;

  constructor(observeLatency: (handler: string, seconds: number) => void) {
    this.latency = new CommandLatency(observeLatency);
  }

  attach(aedes: Aedes): void {
    aedes.on('clientDisconnect', (client) => this.latency.forget(client));
  }

  /** The adapter's hooks, counting what comes in and what goes out. */
  metered(hooks: AedesHooks): AedesHooks {
    const { authorizePublish, authorizeForward } = hooks;
    return {
      ...hooks,
      authorizePublish: (client, packet, done) => {
        if (client !== null) {
          this.messagesIn += 1;
          this.bytesIn += packet.payload.length;
          if (this.latency.waiting && isHandlerClientId(client.id))
            this.latency.published(client, packet.topic, performance.now());
        }
        authorizePublish(client, packet, done);
      },
      authorizeForward: (client: Client, packet: AedesPublishPacket) => {
        const forwarded = authorizeForward(client, packet);
        if (forwarded !== null && forwarded !== undefined) {
          this.messagesOut += 1;
          this.bytesOut += forwarded.payload.length;
          if (isHandlerClientId(client.id)) this.latency.delivered(client, packet.topic, performance.now());
        }
        return forwarded;
      },
    };
  }
}

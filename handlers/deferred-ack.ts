// Acknowledge a QoS 1 command only once it is processed, without holding up the other messages.
//
// mqtt.js 5 sends the PUBACK when `handleMessage`'s callback is called, and reads no further packet
// until then, which would process commands one at a time and could deadlock on our own PUBACKs. So
// the callback is called at once with an error that mqtt.js takes as "send no PUBACK" before moving
// on; the PUBACK is sent here when the command is done. The two mqtt.js internals this relies on are
// in mqtt-internals.ts.
import type { IPublishPacket, MqttClient } from 'mqtt';
import { TOKEN_REFRESH_REPLY_TOPIC } from '../protocol/index.ts';
import { sendPuback, SKIP_PUBACK } from './mqtt-internals.ts';

export type MessageProcessor = (packet: IPublishPacket) => Promise<void>;

/**
 * Installs `process` as the client's message handler. QoS 0 messages are processed and forgotten;
 * QoS 1 ones are acknowledged after `process` settles, on the connection they came on (after a
 * reconnect, the broker has re-dispatched them already: no stale PUBACK is sent).
 */
export function processWithDeferredAck(
  client: MqttClient,
  process: MessageProcessor,
  /** Called once a message is processed and its PUBACK (if any) handed to the socket. */
  settled: () => void = () => undefined,
): void {
  let connection = 0;
  client.on('connect', () => {
    connection += 1;
  });
  client.handleMessage = (packet, callback) => {
    // The broker's refresh answers (QoS 0) are read by the token refresher, not processed (presence
    // events, also under `$cashew/`, are).
    if (packet.topic === TOKEN_REFRESH_REPLY_TOPIC) return callback();
    const receivedOn = connection;
    const { messageId } = packet;
    const deferred = packet.qos === 1 && messageId !== undefined;
    void process(packet)
      .catch(() => undefined)
      .then(() => {
        if (deferred && receivedOn === connection && client.connected) sendPuback(client, messageId);
        settled();
      });
    if (deferred) callback(SKIP_PUBACK);
    else callback();
  };
}

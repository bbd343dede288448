// The mqtt.js internals the handler runtime relies on (checked against mqtt 5.16.0,
// build/lib/client.js and build/lib/handlers/publish.js). Pinned by test/unit/mqtt-internals.test.ts
// against a real broker, which fails when an upgrade changes either.
import type { MqttClient } from 'mqtt';

/** The method used below, as mqtt.js 5 defines it on MqttClient (private in its typings). */
interface PacketSender {
  _sendPacket(packet: { cmd: 'puback'; messageId: number }, callback: (error?: Error) => void): void;
}

/**
 * The error that tells mqtt.js to send no PUBACK for a QoS 1 message: when `handleMessage` calls
 * back with an error, handlers/publish.js returns before `_sendPacket({ cmd: 'puback' })`, and the
 * client's work loop (`nextTickWork`) ignores the error and reads the next packet. It never surfaces.
 */
export const SKIP_PUBACK = new Error('PUBACK deferred until the command is processed');

/** Sends the PUBACK of a QoS 1 message mqtt.js was told to skip (`_sendPacket`, as its handlers do). */
export function sendPuback(client: MqttClient, messageId: number): void {
  (client as unknown as PacketSender)._sendPacket({ cmd: 'puback', messageId }, () => undefined);
}

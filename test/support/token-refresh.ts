// In-band token refresh from a raw mqtt.js client (docs/protocol.md#token-refresh), for the tests.
import type { MqttClient } from 'mqtt';
import {
  decodeRefreshReply,
  encodeRefreshRequest,
  TOKEN_REFRESH_REPLY_TOPIC,
  TOKEN_REFRESH_TOPIC,
  type TokenRefreshReply,
} from '../../protocol/index.ts';

let counter = 0;

/** Sends `token` over the open connection and resolves with the broker's answer (or rejects after the timeout). */
export function refreshOver(client: MqttClient, token: string, timeoutMs = 5000): Promise<TokenRefreshReply> {
  counter += 1;
  const id = `r${counter}`;
  return new Promise((resolve, reject) => {
    const onMessage = (topic: string, payload: Buffer): void => {
      if (topic !== TOKEN_REFRESH_REPLY_TOPIC) return;
      const reply = decodeRefreshReply(payload);
      if (reply?.id !== id) return;
      clearTimeout(timer);
      client.off('message', onMessage);
      resolve(reply);
    };
    const timer = setTimeout(() => {
      client.off('message', onMessage);
      reject(new Error(`no refresh answer within ${timeoutMs} ms`));
    }, timeoutMs);
    client.on('message', onMessage);
    client.publish(TOKEN_REFRESH_TOPIC, encodeRefreshRequest({ id, token }), { qos: 1 });
  });
}

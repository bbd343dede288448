// MQTT over (secure) WebSocket for the load generators: a `ws` client on a TCP or TLS socket that
// mqtt-wire.ts opens itself (handed to ws as `createConnection`), so that it can offer a saved TLS
// session and be asked `isSessionReused()` like a plain MQTTS socket. Binary frames carry the raw MQTT
// bytes; no permessage-deflate, and a zero masking key (RFC 6455 lets the client choose any key; with
// zeros ws skips the XOR), so a frame costs the generator a header and little else.
import type { Socket } from 'node:net';
import WebSocket from 'ws';

/** Where Cashew, the raw Aedes baseline and Mosquitto serve MQTT over WebSocket. */
export const WEBSOCKET_PATH = '/mqtt';
export const WEBSOCKET_SUBPROTOCOL = 'mqtt';

/** The HTTP upgrade must be done within this long. */
const UPGRADE_TIMEOUT_MS = 30_000;

/** Leaves ws' masking key at zeros. */
function zeroMask(): void {}

/**
 * Upgrades `socket` (just created, TLS for wss) to a WebSocket at `url` with subprotocol `mqtt`;
 * resolves once the upgrade is done. Later WebSocket errors end in the socket's `close`, which the
 * caller hears.
 */
export function openWebSocket(url: string, socket: Socket): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const webSocket = new WebSocket(url, WEBSOCKET_SUBPROTOCOL, {
      perMessageDeflate: false,
      generateMask: zeroMask,
      handshakeTimeout: UPGRADE_TIMEOUT_MS,
      createConnection: () => socket,
    });
    webSocket.once('error', reject);
    webSocket.once('open', () => {
      webSocket.off('error', reject);
      webSocket.on('error', () => undefined);
      resolve(webSocket);
    });
  });
}

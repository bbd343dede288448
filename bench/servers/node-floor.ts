// The floor of any Node MQTT broker's CONNECT on this machine: a Node server that does only what every
// broker must per connection (accept, TCP_NODELAY, read the CONNECT, write a CONNACK, read the
// DISCONNECT, close), over plain TCP and TLS with the same options as raw Aedes' listeners. It parses
// nothing and checks no token: what Cashew and raw Aedes cost above it is MQTT, sessions and auth; what
// it costs is Node's sockets (and OpenSSL's handshake) (bench/node-floor.ts).
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { serveBenchControl } from './control.ts';

/** CONNACK, session not present, return code 0. */
const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const CONNECT = 0x10;
const DISCONNECT = 0xe0;

function serve(socket: Socket): void {
  socket.setNoDelay(true);
  socket.on('data', (chunk: Buffer) => {
    const type = chunk[0] ?? 0;
    if ((type & 0xf0) === CONNECT) socket.write(CONNACK);
    // the generator sends DISCONNECT after the CONNACK, so in a chunk of its own
    if ((type & 0xf0) === DISCONNECT) socket.end();
  });
  socket.on('end', () => socket.end());
  socket.on('error', () => socket.destroy());
}

const tlsOptions = {
  cert: readFileSync(process.env.BENCH_TLS_CERT ?? ''),
  key: readFileSync(process.env.BENCH_TLS_KEY ?? ''),
  minVersion: 'TLSv1.2',
} as const;
const tcp = createServer(serve);
const tls = createTlsServer(tlsOptions, serve);
tls.on('tlsClientError', () => undefined);
await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
serveBenchControl(
  { mqtt: (tcp.address() as AddressInfo).port, mqtts: (tls.address() as AddressInfo).port },
  () =>
    new Promise<void>((resolve) => {
      tcp.close();
      tls.close(() => resolve());
    }),
);

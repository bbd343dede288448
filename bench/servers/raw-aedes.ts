// Raw Aedes, the baseline: the same aedes version and Cashew's AEDES_TUNING, no hooks, default
// in-memory persistence, on a plain TCP and a TLS listener with the same socket option as Cashew's
// listeners (TCP_NODELAY, without which small replies waited ~40 ms): "Cashew minus Cashew's code".
// BENCH_NODELAY=0 gives aedes' own default (Nagle on), to measure what TCP_NODELAY costs.
import { createServer } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { AEDES_TUNING } from '../../broker/aedes/tuning.ts';
import { serveBenchControl } from './control.ts';

const aedes = await Aedes.createBroker({ ...AEDES_TUNING });
const noDelay = process.env.BENCH_NODELAY !== '0';
const tcp = createServer((socket) => {
  socket.setNoDelay(noDelay);
  aedes.handle(socket);
});
const tls = createTlsServer(
  {
    cert: readFileSync(process.env.BENCH_TLS_CERT ?? ''),
    key: readFileSync(process.env.BENCH_TLS_KEY ?? ''),
    minVersion: 'TLSv1.2',
  },
  (socket) => {
    socket.setNoDelay(noDelay);
    aedes.handle(socket);
  },
);
tls.on('tlsClientError', () => undefined);
await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
serveBenchControl(
  { mqtt: (tcp.address() as AddressInfo).port, mqtts: (tls.address() as AddressInfo).port },
  () =>
    new Promise<void>((resolve) => {
      tcp.close();
      tls.close();
      aedes.close(() => resolve());
    }),
);

// A small TCP load balancer for the tests, as in front of a real deployment: TLS passes through
// untouched; each connection goes to the first backend that accepts it (so a killed node is
// skipped), optionally announced with a PROXY protocol v1 or v2 header.
import { connect, createServer, isIPv4, type AddressInfo, type Socket } from 'node:net';

export interface LoadBalancer {
  readonly port: number;
  /** The backend ports, in order of preference (mutable: tests reorder or drop nodes). */
  readonly backends: number[];
  close(): Promise<void>;
}

export type ProxyVersion = 'v1' | 'v2';

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** A PROXY header for a client address (IPv4 only, which is what the tests use). */
export function proxyHeader(
  version: ProxyVersion,
  source: { address: string; port: number },
  destination: { address: string; port: number },
): Buffer {
  if (!isIPv4(source.address) || !isIPv4(destination.address)) throw new TypeError('IPv4 only');
  if (version === 'v1') {
    const line = `PROXY TCP4 ${source.address} ${destination.address} ${source.port} ${destination.port}\r\n`;
    return Buffer.from(line, 'latin1');
  }
  const signature = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
  const body = Buffer.alloc(12);
  Buffer.from(ipv4Bytes(source.address)).copy(body, 0);
  Buffer.from(ipv4Bytes(destination.address)).copy(body, 4);
  body.writeUInt16BE(source.port, 8);
  body.writeUInt16BE(destination.port, 10);
  const head = Buffer.from([...signature, 0x21, 0x11, 0x00, body.length]);
  return Buffer.concat([head, body]);
}

function connectFirst(ports: readonly number[], index = 0): Promise<Socket> {
  const port = ports[index];
  if (port === undefined) return Promise.reject(new Error('no backend accepted the connection'));
  return new Promise((resolve, reject) => {
    const upstream = connect(port, '127.0.0.1');
    upstream.once('connect', () => resolve(upstream));
    upstream.once('error', () => {
      upstream.destroy();
      connectFirst(ports, index + 1).then(resolve, reject);
    });
  });
}

export async function startLoadBalancer(
  backends: number[],
  options: { proxy?: ProxyVersion; clientAddress?: string } = {},
): Promise<LoadBalancer> {
  const sockets = new Set<Socket>();
  const server = createServer((downstream) => {
    sockets.add(downstream);
    downstream.on('close', () => sockets.delete(downstream));
    downstream.on('error', () => downstream.destroy());
    downstream.pause();
    connectFirst(backends).then(
      (upstream) => {
        sockets.add(upstream);
        upstream.on('close', () => {
          sockets.delete(upstream);
          downstream.destroy();
        });
        upstream.on('error', () => upstream.destroy());
        downstream.on('close', () => upstream.destroy());
        if (options.proxy !== undefined) {
          const source = {
            address: options.clientAddress ?? downstream.remoteAddress?.replace(/^::ffff:/, '') ?? '0.0.0.0',
            port: downstream.remotePort ?? 0,
          };
          const destination = { address: '127.0.0.1', port: (server.address() as AddressInfo).port };
          upstream.write(proxyHeader(options.proxy, source, destination));
        }
        downstream.pipe(upstream);
        upstream.pipe(downstream);
        downstream.resume();
      },
      () => downstream.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    backends,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

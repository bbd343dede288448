// What a bare Node TLS server socket costs, with no MQTT on it: the floor under scenario 3's TLS case.
// A child process serves TLS with one server option or post-handshake step (the variant); N then N
// more clients complete a handshake and one 300-byte round trip each and stay open; the child's RSS
// and heap are read after a forced GC at 0, N and 2N.
// `node --import tsx bench/tls-socket-memory.ts [variant=base] [N=2000]`, variants: base, no-ticket
// (SSL_OP_NO_TICKET), max-fragment (setMaxSendFragment(512) once secure), tls12 (maxVersion TLSv1.2).
import { fork } from 'node:child_process';
import { constants } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket, type TlsOptions } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { ensureDevCertificates } from '../certs/dev-certs.ts';
import { rssBytes } from './lib/proc.ts';
import { HOST, scratchDir } from './lib/systems.ts';
import { sleep, withConcurrency } from './lib/workers.ts';

declare const gc: () => void;
const [variant = 'base', count = '2000'] = process.argv.slice(2);

function serve(): void {
  const options: TlsOptions = {
    cert: readFileSync(process.env.BENCH_TLS_CERT ?? ''),
    key: readFileSync(process.env.BENCH_TLS_KEY ?? ''),
    minVersion: 'TLSv1.2',
    ...(variant === 'no-ticket' && { secureOptions: constants.SSL_OP_NO_TICKET }),
    ...(variant === 'tls12' && { maxVersion: 'TLSv1.2' as const }),
  };
  const held: TLSSocket[] = [];
  const server = createServer(options, (socket) => {
    if (variant === 'max-fragment') socket.setMaxSendFragment(512);
    socket.setNoDelay(true);
    socket.on('data', () => socket.write(Buffer.from([0x20, 2, 0, 0])));
    socket.on('error', () => undefined);
    held.push(socket);
  });
  server.listen(0, HOST, () => {
    const address = server.address();
    process.send?.({
      type: 'ready',
      port: typeof address === 'object' && address !== null ? address.port : 0,
    });
  });
  process.on('message', () => {
    gc();
    gc();
    setTimeout(() => {
      gc();
      process.send?.({ type: 'gc-done', heapUsed: process.memoryUsage().heapUsed });
    }, 300);
  });
  process.on('disconnect', () => process.exit(0));
}

async function measure(): Promise<void> {
  const { paths } = await ensureDevCertificates(join(scratchDir(), 'certs'));
  const child = fork(fileURLToPath(import.meta.url), [variant, count, 'serve'], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    env: { ...process.env, BENCH_TLS_CERT: paths.cert, BENCH_TLS_KEY: paths.key },
  });
  const next = <T>(type: string): Promise<T> =>
    new Promise((resolve) => {
      const onMessage = (message: { type: string }): void => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        resolve(message as T);
      };
      child.on('message', onMessage);
    });
  const { port } = await next<{ port: number }>('ready');
  const settled = async (): Promise<{ rss: number; heap: number }> => {
    child.send({ type: 'gc' });
    const { heapUsed } = await next<{ heapUsed: number }>('gc-done');
    return { rss: rssBytes(child.pid ?? 0), heap: heapUsed };
  };
  const N = Number(count);
  const sockets: TLSSocket[] = [];
  const open = async (): Promise<void> => {
    await withConcurrency(N, 50, async () => {
      await new Promise<void>((resolve, reject) => {
        const socket = connect({ host: HOST, port, rejectUnauthorized: false }, () => {
          socket.write(Buffer.alloc(300, 1));
          socket.once('data', () => resolve());
        });
        socket.on('error', reject);
        sockets.push(socket);
      });
    });
    await sleep(500);
  };
  const readings = [await settled()];
  await open();
  readings.push(await settled());
  await open();
  readings.push(await settled());
  for (const socket of sockets) socket.destroy();
  child.kill();
  const per = (field: 'rss' | 'heap', at: number): string =>
    (((readings[at]?.[field] ?? 0) - (readings[at - 1]?.[field] ?? 0)) / N).toFixed(0);
  console.log(
    `${variant}: bytes per TLS socket [0→N] [N→2N]: RSS ${per('rss', 1)} ${per('rss', 2)}, heap ${per('heap', 1)} ${per('heap', 2)}`,
  );
}

if (process.argv[4] === 'serve') serve();
else await measure();

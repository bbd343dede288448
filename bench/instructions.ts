// Instructions per CONNECT+DISCONNECT, counted by callgrind in each broker process: a measure the load
// of a shared machine does not move (CPU time per connect drifts with it; see docs/performance.md).
// Each broker runs under `valgrind --tool=callgrind` with instrumentation off; after a warm-up storm
// (JIT), instrumentation is switched on for exactly one storm of `count` connects, then the counters
// are dumped. User-space instructions only: the kernel's share (loopback send, close) is not counted,
// and it is the same syscalls for the Node brokers.
//
//   node --import tsx bench/instructions.ts [--count 500] [--before <checkout>] [--alg HS256|RS256|ES256]
//        [--systems cashew,aedes,mosquitto] [--handshake none|full|resumed] [--cert ec|rsa]
//        [--tokens first|again]
//
// --tokens again: the counted connects present the tokens of the warm-up (a reconnect; Cashew recalls
// their verification, JWT_CACHE_SIZE); first (the default): tokens no broker has seen.
// --cert rsa: the brokers' certificate has an RSA-2048 key instead of the dev certificate's ECDSA P-256
// (what a full handshake costs the server depends mostly on it; a resumed one skips its signature).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDevCertificates } from '../certs/dev-certs.ts';
import { brokerStarters, HOST, scratchDir, type BrokerProcess } from './lib/systems.ts';
import { brokersUnderCallgrind, dumpedInstructions, instrumentationOn } from './lib/callgrind.ts';
import { createBenchKeys, userClaims, type SigningAlgorithm } from './lib/tokens.ts';
import { LoadWorker } from './lib/workers.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '500' },
    before: { type: 'string' },
    alg: { type: 'string', default: 'HS256' },
    systems: { type: 'string', default: 'cashew,aedes,mosquitto' },
    handshake: { type: 'string', default: 'none' },
    cert: { type: 'string', default: 'ec' },
    tokens: { type: 'string', default: 'first' },
  },
});
const count = Number(values.count);
const alg = values.alg as SigningAlgorithm;
const handshake = values.handshake as 'none' | 'full' | 'resumed';
const secure = handshake !== 'none';
const outDir = join(scratchDir(), 'callgrind');
brokersUnderCallgrind(outDir);

const { paths } = await ensureDevCertificates(join(scratchDir(), 'certs'));
const tls = values.cert === 'rsa' ? rsaCertificate() : { cert: paths.cert, key: paths.key };

/** A self-signed RSA-2048 certificate for localhost (openssl), in the scratch directory. */
function rsaCertificate(): { cert: string; key: string } {
  const cert = join(scratchDir(), 'rsa-cert.pem');
  const key = join(scratchDir(), 'rsa-key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
const keys = createBenchKeys(scratchDir());
const signed = () =>
  Array.from({ length: count }, (_, i) => ({
    clientId: `c${i}/p`,
    token: keys.sign(alg, { ...userClaims(`c${i}`), jti: randomUUID() }),
  }));
const again = values.tokens === 'again';

function storm(name: string, broker: BrokerProcess, clients: ReturnType<typeof signed>): Promise<unknown> {
  return new LoadWorker(
    'connect-storm',
    {
      targets: [
        {
          name,
          endpoint: { host: HOST, port: secure ? broker.tlsPort : broker.port, tls: secure },
          ...(handshake === 'resumed' && { resume: true }),
        },
      ],
      clients,
      concurrency: 20,
      chunk: count,
      warmup: 0,
      localAddresses: ['127.0.0.1'],
    },
    undefined,
  ).result();
}

const starters = brokerStarters(values.systems.split(','), keys.settings[alg], tls, values.before);

const perConnect = new Map<string, number>();
for (const [name, start] of starters) {
  const broker = await start();
  try {
    const warmup = signed();
    await storm(name, broker, warmup); // not counted (instrumentation off)
    instrumentationOn(broker.pid);
    await storm(name, broker, again ? warmup : signed());
    perConnect.set(name, dumpedInstructions(outDir, broker.pid).total / count);
  } finally {
    await broker.stop();
  }
  process.stderr.write(
    `${name}: ${Math.round(perConnect.get(name) ?? 0).toLocaleString('en')} instructions/connect\n`,
  );
}

const aedes = perConnect.get('aedes');
const transport = secure
  ? `TLS, ${handshake} handshake, ${values.cert === 'rsa' ? 'RSA-2048' : 'ECDSA P-256'} certificate`
  : 'TCP';
const lines = [
  `### Instructions per ${alg} CONNECT+DISCONNECT, ${transport}, ${again ? 'reconnect with a token seen before' : 'first connect'} (callgrind, ${count} connects)`,
  '',
];
lines.push('| system | instructions/connect | ÷ raw Aedes |', '| --- | ---: | ---: |');
for (const [name, value] of perConnect) {
  const ratio = aedes === undefined ? '—' : `${(value / aedes).toFixed(3)}×`;
  lines.push(`| ${name} | ${Math.round(value).toLocaleString('en')} | ${ratio} |`);
}
process.stdout.write(`${lines.join('\n')}\n`);

// Dev certificates: a local CA and a server certificate it signs (localhost, 127.0.0.1, ::1), made
// with the openssl command on first start. Clients verify the server with the CA (`--cafile`).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DevCertificatePaths {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export function devCertificatePaths(dir: string): DevCertificatePaths {
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
}

const SERVER_EXTENSIONS = [
  'basicConstraints=CA:FALSE',
  'keyUsage=critical,digitalSignature,keyEncipherment',
  'extendedKeyUsage=serverAuth',
  'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
].join('\n');

/** Creates the dev CA and server certificate in `dir` unless they are already there. */
export async function ensureDevCertificates(
  dir: string,
): Promise<{ paths: DevCertificatePaths; created: boolean }> {
  const paths = devCertificatePaths(dir);
  if (existsSync(paths.ca) && existsSync(paths.cert) && existsSync(paths.key))
    return { paths, created: false };
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caKey = join(dir, 'ca.key');
  const csr = join(dir, 'server.csr');
  const extensions = join(dir, 'server.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    caKey,
    '-out',
    paths.ca,
    '-days',
    '825',
    '-subj',
    '/CN=Cashew Dev CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run('openssl', ['req', ...ec, '-keyout', paths.key, '-out', csr, '-subj', '/CN=localhost']);
  await writeFile(extensions, SERVER_EXTENSIONS);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    paths.ca,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-out',
    paths.cert,
    '-days',
    '825',
    '-sha256',
    '-extfile',
    extensions,
  ]);
  return { paths, created: true };
}

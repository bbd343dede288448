// Dev certificates: a local CA and a server certificate it signs (localhost, 127.0.0.1, ::1), made
// with the openssl command on first start. Clients verify the server with the CA (`--cafile`).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { reasonOf, settingFileError } from '../broker/setting-files.ts';

const execFileAsync = promisify(execFile);
/** openssl makes a P-256 key and signs in milliseconds; a minute means it is stuck. */
const OPENSSL_TIMEOUT_MS = 60_000;

function run(command: string, args: string[]): Promise<unknown> {
  return execFileAsync(command, args, { timeout: OPENSSL_TIMEOUT_MS });
}

/** openssl's own complaint (its first stderr line), or why it could not run. */
function opensslReason(cause: unknown): string {
  const failure = cause as NodeJS.ErrnoException & { stderr?: unknown };
  if (failure.code === 'ENOENT' && failure.path === 'openssl') return 'openssl not found on PATH';
  const stderr = typeof failure.stderr === 'string' ? failure.stderr : '';
  const first = stderr.split('\n').find((line) => line.trim() !== '');
  return first === undefined ? reasonOf(cause) : `openssl: ${first.trim()}`;
}

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

/**
 * Creates the dev CA and server certificate in `dir` unless they are already there; a failure is
 * ERR_CONFIG_INVALID naming CERTS_DIR (not writable, openssl missing).
 */
export async function ensureDevCertificates(
  dir: string,
): Promise<{ paths: DevCertificatePaths; created: boolean }> {
  const paths = devCertificatePaths(dir);
  if (existsSync(paths.ca) && existsSync(paths.cert) && existsSync(paths.key))
    return { paths, created: false };
  try {
    await createDevCertificates(dir, paths);
  } catch (cause) {
    throw settingFileError('CERTS_DIR', 'create', `dev certificates in ${dir}`, cause, opensslReason(cause));
  }
  return { paths, created: true };
}

async function createDevCertificates(dir: string, paths: DevCertificatePaths): Promise<void> {
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
}

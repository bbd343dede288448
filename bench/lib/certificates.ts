// The brokers' TLS certificate in a bench run: the dev certificate (ECDSA P-256), or with `--cert rsa` a
// self-signed RSA-2048 one. What a full handshake costs the server depends mostly on the key; a resumed
// handshake skips its signature (docs/performance.md, "TLS session resumption across nodes").
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureDevCertificates } from '../../certs/dev-certs.ts';
import { scratchDir, type TlsFiles } from './systems.ts';

export type CertificateKind = 'ec' | 'rsa';

export const CERTIFICATE_LABELS: Record<CertificateKind, string> = {
  ec: 'ECDSA P-256 (the dev certificate)',
  rsa: 'RSA-2048',
};

export function certificateKind(value: string | undefined): CertificateKind {
  if (value === undefined || value === 'ec' || value === 'rsa') return value ?? 'ec';
  throw new Error(`--cert ${value}: expected ec or rsa`);
}

/** The certificate and key files of `kind`, in the scratch directory. */
export async function benchCertificate(kind: CertificateKind): Promise<TlsFiles> {
  if (kind === 'rsa') return rsaCertificate();
  const { paths } = await ensureDevCertificates(join(scratchDir(), 'certs'));
  return { cert: paths.cert, key: paths.key };
}

/** A self-signed RSA-2048 certificate for localhost (openssl). */
function rsaCertificate(): TlsFiles {
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

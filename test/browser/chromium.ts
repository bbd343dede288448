// Debian's Chromium driven by playwright-core, trusting the broker's dev certificate the narrow way:
// `--ignore-certificate-errors-spki-list` pins the server certificate's public key, so Chromium still
// verifies everything else (no blanket ignoreHTTPSErrors), for the page and its wss:// socket alike.
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM } from '../support/system-tools.ts';

/** Flags for a headless Chromium on a machine with no internet and no sandbox support. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/** base64(sha256(SubjectPublicKeyInfo)) of a PEM certificate, as Chromium's SPKI list wants it. */
export function spkiHash(certificatePath: string): string {
  const certificate = new X509Certificate(readFileSync(certificatePath));
  const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

/** Launches headless Chromium that accepts exactly the server certificate at `serverCertPath`. */
export function launchChromium(serverCertPath: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM.command,
    headless: true,
    timeout: 60_000,
    args: [...CHROMIUM_FLAGS, `--ignore-certificate-errors-spki-list=${spkiHash(serverCertPath)}`],
  });
}

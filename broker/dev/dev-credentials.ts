// Dev mode without a configured key: a random HS256 secret kept beside the dev certificates,
// shared by the broker and `cashew token`. Never used in production mode.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export function devSecretPath(certsDir: string): string {
  return join(certsDir, 'jwt-secret');
}

export async function ensureDevSecret(certsDir: string): Promise<string> {
  const path = devSecretPath(certsDir);
  if (existsSync(path)) return (await readFile(path, 'utf8')).trim();
  await mkdir(certsDir, { recursive: true, mode: 0o700 });
  const secret = randomBytes(48).toString('base64url');
  await writeFile(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}

// Dev mode without a configured key: a random HS256 secret kept beside the dev certificates,
// shared by the broker and `cashew token`. Never used in production mode.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CashewError } from '../../protocol/index.ts';
import { readSettingFile, settingFileError } from '../setting-files.ts';

/** Shorter than this, the file was truncated or edited by hand: refused rather than signed with. */
const MIN_DEV_SECRET_LENGTH = 32;

export function devSecretPath(certsDir: string): string {
  return join(certsDir, 'jwt-secret');
}

/** The dev secret in `certsDir`, made on first use; a failure names CERTS_DIR and the file. */
export async function ensureDevSecret(certsDir: string): Promise<string> {
  const path = devSecretPath(certsDir);
  if (existsSync(path)) {
    const secret = (await readSettingFile('CERTS_DIR', path)).toString('utf8').trim();
    if (secret.length < MIN_DEV_SECRET_LENGTH)
      throw new CashewError(
        'ERR_CONFIG_INVALID',
        `CERTS_DIR: ${path} holds no usable dev secret (delete it and a new one is made)`,
      );
    return secret;
  }
  const secret = randomBytes(48).toString('base64url');
  try {
    await mkdir(certsDir, { recursive: true, mode: 0o700 });
    await writeFile(path, `${secret}\n`, { mode: 0o600 });
  } catch (cause) {
    throw settingFileError('CERTS_DIR', 'write', path, cause);
  }
  return secret;
}

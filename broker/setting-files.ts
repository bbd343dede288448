// Files named by settings (TLS_CERT, TLS_KEY, JWT_PUBLIC_KEY, the dev files in CERTS_DIR): read and
// written at start only, and a failure is one ERR_CONFIG_INVALID line naming the setting and the
// path, with the system's reason (`TLS_CERT: cannot read /nope (ENOENT)`), never a bare errno.
import { readFile } from 'node:fs/promises';
import { CashewError } from '../protocol/index.ts';
import type { Setting } from './options.ts';

/** The errno code of a failed file operation (`ENOENT`, `EACCES`), or its message. */
export function reasonOf(cause: unknown): string {
  if (cause instanceof Error) {
    const { code } = cause as NodeJS.ErrnoException;
    return typeof code === 'string' ? code : cause.message;
  }
  return String(cause);
}

export function settingFileError(
  setting: Setting,
  action: 'read' | 'write' | 'create',
  path: string,
  cause: unknown,
  reason = reasonOf(cause),
): CashewError {
  return new CashewError('ERR_CONFIG_INVALID', `${setting}: cannot ${action} ${path} (${reason})`, { cause });
}

export async function readSettingFile(setting: Setting, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw settingFileError(setting, 'read', path, cause);
  }
}

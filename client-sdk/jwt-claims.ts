// Reads a JWT's payload without verifying it (the broker verifies): only to derive the client id.
// Browser- and React-Native-safe: no Buffer, no atob.
import { CashewError } from '../protocol/index.ts';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function base64UrlToBytes(text: string): number[] {
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of text.replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_')) {
    const value = ALPHABET.indexOf(char);
    if (value === -1) throw new CashewError('ERR_BAD_PAYLOAD', 'the token is not base64url');
    buffer = (buffer << 6) | value;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return bytes;
}

function utf8(bytes: number[]): string {
  return decodeURIComponent(bytes.map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join(''));
}

/** The decoded (unverified) claims of a JWT. */
export function decodeClaims(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (part === undefined) throw new CashewError('ERR_BAD_PAYLOAD', 'the token is not a JWT');
  let value: unknown;
  try {
    value = JSON.parse(utf8(base64UrlToBytes(part)));
  } catch (error) {
    throw new CashewError('ERR_BAD_PAYLOAD', 'the token payload is not JSON', { cause: error });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new CashewError('ERR_BAD_PAYLOAD', 'the token payload is not an object');
  return value as Record<string, unknown>;
}

/** The user id a token names in `claim` (a string, or an integer as the broker accepts). */
export function userIdOf(token: string, claim: string): string {
  const raw = decodeClaims(token)[claim];
  const id = typeof raw === 'number' && Number.isSafeInteger(raw) ? String(raw) : raw;
  if (typeof id !== 'string' || id === '')
    throw new CashewError('ERR_BAD_PAYLOAD', `the token has no user id in claim ${claim}`);
  return id;
}
